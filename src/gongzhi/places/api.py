"""Places, households, people (masked) and organisations through /api/v1/.

Every object named in a request is loaded through ``restrict(request.auth, "view")``, so one
outside the caller's scope is a 404; every write calls the action in ``actions.py``, which
checks the write permission at the object's place (403) and its input (400).
"""

from datetime import date
from enum import Enum
from typing import Any

from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import Pagination

from . import actions
from .models import (
    Gender,
    Household,
    HouseholdType,
    Organisation,
    OrganisationKind,
    Person,
    Place,
    PlaceKind,
    Relation,
    SpecialGroup,
)

router = Router(tags=["places"])

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


# ---------------------------------------------------------------- output


class PlaceOut(Schema):
    id: int
    kind: str
    name: str
    code: str
    subtype: str
    parent_id: int | None
    county_id: int | None
    town_id: int | None
    village_id: int | None
    grid_id: int | None
    is_active: bool


class PersonOut(Schema):
    """A person as lists show them: phone and ID number masked (138****1234, 110105********002X)."""

    id: int
    name: str
    gender: str
    birth_date: date | None
    relation: str
    is_party_member: bool
    special_groups: list[str]
    phone: str = Field(..., alias="masked_phone")
    id_number: str = Field(..., alias="masked_id_number")
    is_active: bool
    household_id: int | None
    grid_id: int | None
    village_id: int | None
    town_id: int | None


class HouseholdOut(Schema):
    id: int = Field(..., alias="place_id")
    name: str = Field(..., alias="place.name")
    household_type: str
    address: str
    card_code: str
    building_id: int | None = Field(None, alias="place.building_id")
    grid_id: int | None = Field(None, alias="place.grid_id")
    village_id: int | None = Field(None, alias="place.village_id")
    town_id: int | None = Field(None, alias="place.town_id")


class HouseholdDetailOut(HouseholdOut):
    notes: str
    members: list[PersonOut]


class OrganisationOut(Schema):
    id: int
    kind: str
    name: str
    category: str
    contact_name: str
    contact_phone: str
    is_active: bool
    place_id: int
    town_id: int | None
    village_id: int | None


class RevealOut(Schema):
    id: int
    name: str
    phone: str
    id_number: str


# ---------------------------------------------------------------- input


class In(Schema):
    model_config = ConfigDict(use_enum_values=True, extra="forbid")


class PersonIn(In):
    name: str = Field(..., max_length=60)
    gender: Gender | None = None
    birth_date: date | None = None
    id_number: str | None = Field(None, max_length=18)
    phone: str = Field("", max_length=20)
    relation: Relation | None = None
    is_party_member: bool = False
    special_groups: list[SpecialGroup] = []
    notes: str = ""


class PersonPatch(In):
    """Only the fields sent are changed."""

    name: str | None = Field(None, max_length=60)
    gender: Gender | None = None
    birth_date: date | None = None
    id_number: str | None = Field(None, max_length=18)
    phone: str | None = Field(None, max_length=20)
    relation: Relation | None = None
    is_party_member: bool | None = None
    special_groups: list[SpecialGroup] | None = None
    notes: str | None = None
    is_active: bool | None = None


class HouseholdIn(In):
    parent: int = Field(..., description="the grid or building the household belongs to")
    address: str = Field("", max_length=200)
    name: str = Field("", max_length=120, description="defaults to the address or head's name")
    household_type: HouseholdType = HouseholdType.ORDINARY
    card_code: str = Field("", max_length=32, description="generated when empty")
    members: list[PersonIn] = []


class HouseholdPatch(In):
    household_type: HouseholdType | None = None
    address: str | None = Field(None, max_length=200)
    notes: str | None = None


class PlaceIn(In):
    parent: int = Field(..., description="the place the new one sits under")
    kind: PlaceKind
    name: str = Field(..., max_length=120)
    code: str = Field("", max_length=40)
    subtype: str = Field("", max_length=16)
    sort_order: int = 0


class PlacePatch(In):
    name: str = Field(..., max_length=120)


class RevealIn(In):
    reason: str = Field("", max_length=200, description="why the full numbers are needed")


def _blank_choices(data: dict[str, Any]) -> dict[str, Any]:
    """The model keeps an unset choice as an empty string, not null."""
    for key in ("gender", "relation"):
        if key in data and data[key] is None:
            data[key] = ""
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in data.items()}


def _person_data(payload: Schema, *, partial: bool) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=partial)
    if partial:
        nullable = {"gender", "relation", "birth_date", "id_number"}
        data = {k: v for k, v in data.items() if v is not None or k in nullable}
    return _blank_choices(data)


# ---------------------------------------------------------------- places


def _places(request):
    return Place.objects.restrict(request.auth, "view")


@router.get("/places", response=list[PlaceOut])
@paginate(Pagination)
def list_places(request, parent: int | None = None, kind: PlaceKind | None = None,
                q: str | None = None):
    """Places the caller may see; ``parent`` lists one place's children, ``q`` matches names."""
    qs = _places(request)
    if parent is not None:
        qs = qs.filter(parent_id=parent)
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("sort_order", "id")


@router.get("/places/{place_id}", response={200: PlaceOut, 404: ErrorOut})
def get_place(request, place_id: int):
    return get_object_or_404(_places(request), pk=place_id)


@router.post("/places", response={201: PlaceOut, **ERRORS})
def create_place(request, payload: PlaceIn):
    """Create a town, village, grid or building under a place (``places.change`` there)."""
    parent = get_object_or_404(_places(request), pk=payload.parent)
    place = actions.do_create_place(
        parent, payload.kind, payload.name, acting_user=request.auth, code=payload.code,
        subtype=payload.subtype, sort_order=payload.sort_order,
    )
    return Status(201, place)


@router.patch("/places/{place_id}", response={200: PlaceOut, **ERRORS})
def rename_place(request, place_id: int, payload: PlacePatch):
    """Rename a place (``places.change`` at it)."""
    place = get_object_or_404(_places(request), pk=place_id)
    return actions.do_rename_place(place, payload.name, acting_user=request.auth)


# ---------------------------------------------------------------- households


def _households(request):
    return Household.objects.restrict(request.auth, "view").select_related("place")


@router.get("/households", response=list[HouseholdOut])
@paginate(Pagination)
def list_households(request, place: int | None = None,
                    household_type: HouseholdType | None = None, q: str | None = None):
    """Households under a place (any level) the caller may see; ``q`` matches the address."""
    qs = _households(request)
    if place is not None:
        scope = get_object_or_404(_places(request), pk=place)
        qs = qs.filter(scope.scope_q("place__"))
    if household_type:
        qs = qs.filter(household_type=household_type)
    if q:
        qs = qs.filter(Q(address__icontains=q) | Q(place__name__icontains=q))
    return qs.order_by("place_id")


@router.get("/households/{household_id}", response={200: HouseholdDetailOut, 404: ErrorOut})
def get_household(request, household_id: int):
    """One household's record (一户一档) with its members."""
    household = get_object_or_404(_households(request), pk=household_id)
    household.members = list(_people(request).filter(household_id=household.pk))
    return household


@router.post("/households", response={201: HouseholdDetailOut, **ERRORS})
def create_household(request, payload: HouseholdIn):
    """Create a household under a grid or building, with its members (``people.change``)."""
    parent = get_object_or_404(_places(request), pk=payload.parent)
    household = actions.do_create_household(
        parent, acting_user=request.auth, name=payload.name, address=payload.address,
        household_type=payload.household_type, card_code=payload.card_code,
        members=[_person_data(m, partial=False) for m in payload.members],
    )
    household.members = list(_people(request).filter(household_id=household.pk))
    return Status(201, household)


@router.patch("/households/{household_id}", response={200: HouseholdOut, **ERRORS})
def update_household(request, household_id: int, payload: HouseholdPatch):
    household = get_object_or_404(_households(request), pk=household_id)
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return actions.do_update_household(household, acting_user=request.auth, **changes)


@router.post("/households/{household_id}/people", response={201: PersonOut, **ERRORS})
def add_person(request, household_id: int, payload: PersonIn):
    """Add a member to a household (``people.change``)."""
    household = get_object_or_404(_households(request), pk=household_id)
    person = actions.do_add_person(household, _person_data(payload, partial=False),
                                   acting_user=request.auth)
    return Status(201, person)


# ---------------------------------------------------------------- people


def _people(request):
    return Person.objects.restrict(request.auth, "view")


@router.get("/people", response=list[PersonOut])
@paginate(Pagination)
def list_people(request, place: int | None = None, party_member: bool | None = None,
                special_group: SpecialGroup | None = None, q: str | None = None,
                active: bool | None = None):
    """People under a place; phone and ID number are always masked here. ``q`` matches names."""
    qs = _people(request)
    if place is not None:
        scope = get_object_or_404(_places(request), pk=place)
        qs = qs.filter(scope.scope_q())
    if party_member is not None:
        qs = qs.filter(is_party_member=party_member)
    if special_group:
        qs = qs.filter(special_groups__icontains=f'"{special_group}"')
    if q:
        qs = qs.filter(name__icontains=q)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("id")


@router.get("/people/{person_id}", response={200: PersonOut, 404: ErrorOut})
def get_person(request, person_id: int):
    return get_object_or_404(_people(request), pk=person_id)


@router.patch("/people/{person_id}", response={200: PersonOut, **ERRORS})
def update_person(request, person_id: int, payload: PersonPatch):
    """Change the fields sent (``people.change``); the answer is masked."""
    person = get_object_or_404(_people(request), pk=person_id)
    return actions.do_update_person(person, _person_data(payload, partial=True),
                                    acting_user=request.auth)


@router.post("/people/{person_id}/reveal", response={200: RevealOut, **ERRORS})
def reveal_person(request, person_id: int, payload: RevealIn | None = None):
    """The full phone and ID number, for roles with ``people.view_sensitive``; audited."""
    person = get_object_or_404(_people(request), pk=person_id)
    shown = actions.do_reveal_person(person, acting_user=request.auth,
                                     reason=payload.reason if payload else "")
    return {"id": person.pk, "name": person.name, **shown}


# ---------------------------------------------------------------- organisations


def _organisations(request):
    return Organisation.objects.restrict(request.auth, "view")


@router.get("/organisations", response=list[OrganisationOut])
@paginate(Pagination)
def list_organisations(request, place: int | None = None,
                       kind: OrganisationKind | None = None, category: str | None = None,
                       q: str | None = None):
    """Departments, stationed units and other organisations the caller may see."""
    qs = _organisations(request)
    if place is not None:
        scope = get_object_or_404(_places(request), pk=place)
        qs = qs.filter(scope.scope_q())
    if kind:
        qs = qs.filter(kind=kind)
    if category:
        qs = qs.filter(category=category)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("kind", "name", "id")


@router.get("/organisations/{organisation_id}", response={200: OrganisationOut, 404: ErrorOut})
def get_organisation(request, organisation_id: int):
    return get_object_or_404(_organisations(request), pk=organisation_id)
