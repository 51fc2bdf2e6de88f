"""Every write to the registry: atomic, checked, audited.

Views, the API, imports and commands all call these.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.audit.log import record, snapshot
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden

from .models import (
    LEVELS,
    Household,
    HouseholdType,
    Organisation,
    OrganisationKind,
    Person,
    Place,
    PlaceKind,
    SpecialGroup,
)

# Which kinds may sit under which: a household may hang off a grid directly (no building).
ALLOWED_CHILDREN = {
    None: {PlaceKind.COUNTY},
    PlaceKind.COUNTY: {PlaceKind.TOWN},
    PlaceKind.TOWN: {PlaceKind.VILLAGE},
    PlaceKind.VILLAGE: {PlaceKind.GRID},
    PlaceKind.GRID: {PlaceKind.BUILDING, PlaceKind.HOUSEHOLD},
    PlaceKind.BUILDING: {PlaceKind.HOUSEHOLD},
    PlaceKind.HOUSEHOLD: set(),
}

PERSON_FIELDS = ("name", "gender", "birth_date", "id_number", "phone", "relation",
                 "is_party_member", "special_groups", "notes", "is_active")


def require(user, permission: str, place: Place | None) -> None:
    if user is not None and not has_permission(user, permission, place):
        raise ActionForbidden(_("您没有在该地点执行此操作的权限。"))


def new_card_code() -> str:
    return "H" + secrets.token_hex(6).upper()


def _check_child(parent: Place | None, kind: str) -> None:
    allowed = ALLOWED_CHILDREN[parent.kind if parent else None]
    if kind not in allowed:
        raise ActionError(
            _("“%(kind)s”不能设在“%(parent)s”之下。")
            % {"kind": PlaceKind(kind).label, "parent": parent.name if parent else "—"}
        )


def _insert_place(parent: Place | None, kind: str, name: str, **fields: Any) -> Place:
    place = Place(parent=parent, kind=kind, name=name, **fields)
    place.copy_ancestors_from(parent) if parent else None
    place.save(force_insert=True)
    setattr(place, f"{kind}_id", place.pk)  # a place is its own ancestor at its level
    if kind == PlaceKind.COUNTY:
        place.county_id = place.pk
    Place.objects.filter(pk=place.pk).update(**{f"{kind}_id": place.pk})
    return place


@transaction.atomic
def do_create_place(parent: Place | None, kind: str, name: str, *, acting_user,
                    code: str = "", subtype: str = "", sort_order: int = 0) -> Place:
    name = (name or "").strip()
    if not name:
        raise ActionError(_("请填写名称。"))
    _check_child(parent, kind)
    if kind == PlaceKind.HOUSEHOLD:
        raise ActionError(_("请通过“新建户”建立户档案。"))
    if parent is not None:
        require(acting_user, "places.change", parent)
    elif acting_user is not None and not getattr(acting_user, "is_superuser", False):
        # A new county is a new tenant: only a system superuser (or a command) creates one.
        raise ActionForbidden(_("只有系统超级管理员可以新建县/区。"))
    place = _insert_place(parent, kind, name, code=code, subtype=subtype, sort_order=sort_order)
    record("places.place.create", actor=acting_user, obj=place, county_id=place.county_id,
           after=snapshot(place))
    return place


@transaction.atomic
def do_rename_place(place: Place, name: str, *, acting_user) -> Place:
    name = (name or "").strip()
    if not name:
        raise ActionError(_("请填写名称。"))
    require(acting_user, "places.change", place)
    before = snapshot(place, ["name"])
    place.name = name
    place.save(update_fields=["name"])
    record("places.place.rename", actor=acting_user, obj=place, before=before,
           after=snapshot(place, ["name"]))
    return place


def clean_person_data(data: dict[str, Any]) -> dict[str, Any]:
    """Validate one person's fields; raise ActionError with a sentence naming the problem."""
    from .validators import validate_id_number, validate_phone

    out = {k: v for k, v in data.items() if k in PERSON_FIELDS}
    out["name"] = (out.get("name") or "").strip()
    if not out["name"]:
        raise ActionError(_("请填写姓名。"))
    if out.get("id_number"):
        out["id_number"] = validate_id_number(out["id_number"])
    else:
        out["id_number"] = None
    if out.get("phone"):
        out["phone"] = validate_phone(out["phone"])
    groups = out.get("special_groups") or []
    unknown = [g for g in groups if g not in SpecialGroup.values]
    if unknown:
        raise ActionError(_("未知的特殊群体：%(groups)s。") % {"groups": "、".join(unknown)})
    out["special_groups"] = list(groups)
    return out


@transaction.atomic
def do_create_household(parent: Place, *, acting_user, name: str = "", address: str = "",
                        household_type: str = HouseholdType.ORDINARY, card_code: str = "",
                        members: list[dict[str, Any]] | None = None) -> Household:
    """Create a household (a place under a grid or building), its archive and its members."""
    _check_child(parent, PlaceKind.HOUSEHOLD)
    require(acting_user, "people.change", parent)
    if household_type not in HouseholdType.values:
        raise ActionError(_("未知的户类型。"))
    members = [clean_person_data(m) for m in (members or [])]
    label = (name or address or (members[0]["name"] + "户" if members else "")).strip()
    if not label:
        raise ActionError(_("请填写门牌地址或户主姓名。"))
    if card_code and Household.objects.filter(card_code=card_code).exists():
        raise ActionError(_("积分卡号 %(code)s 已被使用。") % {"code": card_code})
    place = _insert_place(parent, PlaceKind.HOUSEHOLD, label[:120])
    household = Household.objects.create(
        place=place, county_id=place.county_id, household_type=household_type,
        address=address, card_code=card_code or new_card_code(),
    )
    people = [_new_person(place, m) for m in members]
    record("places.household.create", actor=acting_user, obj=household,
           county_id=place.county_id,
           after={**snapshot(household), "members": [p.pk for p in people]})
    return household


def _new_person(place: Place, data: dict[str, Any]) -> Person:
    if data.get("id_number") and Person.objects.filter(
        county_id=place.county_id, id_number=data["id_number"]
    ).exists():
        raise ActionError(_("身份证号 %(id)s 已登记在本县。") % {"id": data["id_number"]})
    person = Person(**data)
    person.set_place(place)
    person.save(force_insert=True)
    return person


@transaction.atomic
def do_update_household(household: Household, *, acting_user, **changes: Any) -> Household:
    require(acting_user, "people.change", household.place)
    allowed = {"household_type", "address", "notes"}
    unknown = set(changes) - allowed
    if unknown:
        raise ActionError(_("不能修改这些字段：%(f)s。") % {"f": "、".join(sorted(unknown))})
    if "household_type" in changes and changes["household_type"] not in HouseholdType.values:
        raise ActionError(_("未知的户类型。"))
    before = snapshot(household, list(changes))
    for key, value in changes.items():
        setattr(household, key, value)
    household.save(update_fields=list(changes))
    record("places.household.update", actor=acting_user, obj=household, before=before,
           after=snapshot(household, list(changes)))
    return household


@transaction.atomic
def do_add_person(household: Household, data: dict[str, Any], *, acting_user) -> Person:
    require(acting_user, "people.change", household.place)
    person = _new_person(household.place, clean_person_data(data))
    record("places.person.create", actor=acting_user, obj=person, after=_person_audit(person))
    return person


@transaction.atomic
def do_update_person(person: Person, data: dict[str, Any], *, acting_user) -> Person:
    require(acting_user, "people.change", person.place)
    merged = {f: getattr(person, f) for f in PERSON_FIELDS}
    merged.update(data)
    cleaned = clean_person_data(merged)
    changed = [f for f in PERSON_FIELDS if cleaned.get(f) != getattr(person, f)]
    if not changed:
        return person
    if "id_number" in changed and cleaned["id_number"] and Person.objects.filter(
        county_id=person.county_id, id_number=cleaned["id_number"]
    ).exclude(pk=person.pk).exists():
        raise ActionError(_("身份证号 %(id)s 已登记在本县。") % {"id": cleaned["id_number"]})
    before = _person_audit(person, changed)
    for f in changed:
        setattr(person, f, cleaned[f])
    person.save(update_fields=changed)
    record("places.person.update", actor=acting_user, obj=person, before=before,
           after=_person_audit(person, changed))
    return person


def _person_audit(person: Person, fields: list[str] | None = None) -> dict[str, Any]:
    """Audit snapshots keep identity numbers masked: the chain is read by auditors."""
    data = snapshot(person, fields)
    if "id_number" in data:
        data["id_number"] = person.masked_id_number
    if "phone" in data:
        data["phone"] = person.masked_phone
    return data


@transaction.atomic
def do_reveal_person(person: Person, *, acting_user, reason: str = "") -> dict[str, str]:
    """Show a person's full phone and ID number to a role allowed to see them; audited."""
    if not has_permission(acting_user, "people.view_sensitive", person.place):
        raise ActionForbidden(_("您没有查看完整电话与身份证号的权限。"))
    record("places.person.reveal", actor=acting_user, obj=person,
           after={"fields": ["phone", "id_number"], "reason": reason})
    return {"phone": person.phone, "id_number": person.id_number or ""}


@transaction.atomic
def do_create_organisation(place: Place, *, acting_user, kind: str, name: str,
                           category: str = "", contact_name: str = "",
                           contact_phone: str = "") -> Organisation:
    require(acting_user, "organisations.change", place)
    if kind not in OrganisationKind.values:
        raise ActionError(_("未知的组织类别。"))
    if not (name or "").strip():
        raise ActionError(_("请填写名称。"))
    org = Organisation(kind=kind, name=name.strip(), category=category,
                       contact_name=contact_name, contact_phone=contact_phone)
    org.set_place(place)
    org.save(force_insert=True)
    record("places.organisation.create", actor=acting_user, obj=org, after=snapshot(org))
    return org


def level_of(kind: str) -> int:
    return LEVELS.index(kind)
