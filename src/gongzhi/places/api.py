"""Places, households and people (masked) through /api/v1/."""

from datetime import date

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from .models import Household, Person, Place

router = Router(tags=["places"])


class PlaceOut(Schema):
    id: int
    kind: str
    name: str
    code: str
    subtype: str
    parent_id: int | None
    county_id: int | None


class PersonOut(Schema):
    id: int
    name: str
    gender: str
    birth_date: date | None
    relation: str
    is_party_member: bool
    special_groups: list[str]
    phone: str = Field(..., alias="masked_phone")
    id_number: str = Field(..., alias="masked_id_number")
    household_id: int | None
    village_id: int | None
    grid_id: int | None


class HouseholdOut(Schema):
    id: int = Field(..., alias="place_id")
    name: str = Field(..., alias="place.name")
    household_type: str
    address: str
    card_code: str
    grid_id: int | None = Field(None, alias="place.grid_id")
    village_id: int | None = Field(None, alias="place.village_id")


@router.get("/places", response=list[PlaceOut])
@paginate(LimitOffsetPagination)
def list_places(request, parent: int | None = None, kind: str | None = None):
    """Places the caller may see; ``parent`` lists one place's children."""
    qs = Place.objects.restrict(request.auth, "view")
    if parent is not None:
        qs = qs.filter(parent_id=parent)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("sort_order", "id")


@router.get("/places/{place_id}", response=PlaceOut)
def get_place(request, place_id: int):
    return get_object_or_404(Place.objects.restrict(request.auth, "view"), pk=place_id)


@router.get("/households", response=list[HouseholdOut])
@paginate(LimitOffsetPagination)
def list_households(request, place: int | None = None):
    """Households under a place (any level) the caller may see."""
    qs = Household.objects.restrict(request.auth, "view").select_related("place")
    if place is not None:
        scope = get_object_or_404(Place.objects.restrict(request.auth, "view"), pk=place)
        qs = qs.filter(scope.scope_q("place__"))
    return qs.order_by("place_id")


@router.get("/households/{household_id}", response=HouseholdOut)
def get_household(request, household_id: int):
    return get_object_or_404(
        Household.objects.restrict(request.auth, "view").select_related("place"),
        pk=household_id,
    )


@router.get("/people", response=list[PersonOut])
@paginate(LimitOffsetPagination)
def list_people(request, place: int | None = None, party_member: bool | None = None,
                special_group: str | None = None):
    """People under a place; phone and ID number are always masked here."""
    qs = Person.objects.restrict(request.auth, "view")
    if place is not None:
        scope = get_object_or_404(Place.objects.restrict(request.auth, "view"), pk=place)
        qs = qs.filter(scope.scope_q())
    if party_member is not None:
        qs = qs.filter(is_party_member=party_member)
    if special_group:
        qs = qs.filter(special_groups__icontains=f'"{special_group}"')
    return qs.order_by("id")


@router.get("/people/{person_id}", response=PersonOut)
def get_person(request, person_id: int):
    return get_object_or_404(Person.objects.restrict(request.auth, "view"), pk=person_id)
