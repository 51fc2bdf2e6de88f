"""Importing households and residents from the village spreadsheet, and exporting them back.

:func:`plan_import` checks every row of a sheet against the registry and collects every
problem as "第 N 行：…"; :func:`do_import_households` writes a plan that has none, all in one
transaction, or nothing at all. :func:`do_export_households` writes the same layout back out,
with phones and ID numbers masked unless the user may see them in full.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gongzhi.audit.log import record, snapshot
from gongzhi.core.access import grants_with, has_permission
from gongzhi.core.errors import ActionError
from gongzhi.core.privacy import mask_id_number, mask_phone

from . import excel
from .actions import _check_child, _insert_place, clean_person_data, new_card_code, require
from .models import Household, HouseholdType, Person, Place, PlaceKind, Relation, level_index
from .validators import validate_id_number, validate_phone

IMPORT_TARGET_KINDS = (PlaceKind.VILLAGE, PlaceKind.GRID)
_BATCH = 500
_HEAD = Relation.HEAD.value
_MAX_LENGTHS = {"name": 60, "address": 200, "building": 120, "grid": 120, "household_key": 40,
                "notes": 2000}
_FIELD_NAMES = {"grid": "网格", "building": "楼栋/组", "address": "门牌地址",
                "household_type": "户类型"}


@dataclass(frozen=True)
class RowError:
    row: int
    message: str

    def __str__(self) -> str:
        return _("第 %(row)s 行：%(message)s") % {"row": self.row, "message": self.message}


class ImportRejected(ActionError):
    """The sheet has problems; ``row_errors`` lists them all. Nothing was imported."""

    def __init__(self, row_errors: list[RowError]):
        self.row_errors = row_errors
        super().__init__(
            ngettext("文件中有 %(count)s 处错误，未导入任何数据。",
                     "文件中有 %(count)s 处错误，未导入任何数据。", len(row_errors))
            % {"count": len(row_errors)}
        )


@dataclass
class PlannedHousehold:
    key: str
    first_row: int
    grid: Place | None = None
    building_name: str = ""
    building: Place | None = None  # an existing building; None with a name means "new"
    address: str = ""
    household_type: str = HouseholdType.ORDINARY
    members: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ImportPlan:
    place: Place
    row_count: int = 0
    households: list[PlannedHousehold] = field(default_factory=list)
    new_buildings: list[tuple[Place, str]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    @property
    def person_count(self) -> int:
        return sum(len(h.members) for h in self.households)

    def summary(self) -> dict[str, Any]:
        """Counts for the preview page and the audit event."""
        types = Counter(h.household_type for h in self.households)
        groups: Counter[str] = Counter()
        for h in self.households:
            for m in h.members:
                groups.update(m["special_groups"])
        grids = Counter(h.grid.name for h in self.households if h.grid)
        return {
            "rows": self.row_count,
            "households": len(self.households),
            "persons": self.person_count,
            "party_members": sum(m["is_party_member"] for h in self.households
                                 for m in h.members),
            "household_types": {excel.HOUSEHOLD_TYPE_LABELS[t]: n for t, n in types.items()},
            "special_groups": {excel.SPECIAL_GROUP_LABELS[g]: n for g, n in groups.items()},
            "grids": dict(grids),
            "new_buildings": [f"{grid.name} / {name}" for grid, name in self.new_buildings],
        }


# -- checking ---------------------------------------------------------------------------------

def _allowed(values) -> str:
    return "、".join(values)


def _has_mask(text: str) -> bool:
    return "*" in text or "＊" in text


class _RowReader:
    """Turns one sheet row into a person and its household fields, noting every problem."""

    def __init__(self, plan: ImportPlan, grids: dict[str, list[Place]], target: Place):
        self.plan = plan
        self.grids = grids
        self.target = target
        self.seen_ids: dict[str, int] = {}
        self.today = timezone.localdate()

    def error(self, row: int, message: str) -> None:
        self.plan.errors.append(RowError(row, message))

    def warn(self, row: int, message: str) -> None:
        self.plan.warnings.append(RowError(row, message))

    def read(self, number: int, values: dict[str, Any], previous_key: str) -> dict[str, Any]:
        text = {key: excel.cell_text(value) for key, value in values.items()}
        out: dict[str, Any] = {"row": number, "ok": True}
        errors_before = len(self.plan.errors)

        for key, limit in _MAX_LENGTHS.items():
            if len(text.get(key, "")) > limit:
                self.error(number, _("“%(column)s”不能超过 %(max)s 个字。")
                           % {"column": _column_header(key), "max": limit})
                text[key] = text[key][:limit]

        out["key"] = text.get("household_key") or previous_key
        if not out["key"]:
            self.error(number, _("请填写户编号。"))
        out["grid"] = text.get("grid", "")
        if out["grid"]:
            self._check_grid(number, out["grid"])
        out["building"] = text.get("building", "")
        out["address"] = text.get("address", "")
        out["household_type"] = ""
        if text.get("household_type"):
            out["household_type"] = excel.HOUSEHOLD_TYPE_VALUES.get(text["household_type"], "")
            if not out["household_type"]:
                self.error(number, _("户类型“%(value)s”无法识别，可填：%(allowed)s。")
                           % {"value": text["household_type"],
                              "allowed": _allowed(excel.HOUSEHOLD_TYPE_LABELS.values())})

        person: dict[str, Any] = {"name": text.get("name", ""), "notes": text.get("notes", "")}
        if not person["name"]:
            self.error(number, _("请填写姓名。"))
        relation = text.get("relation", "")
        person["relation"] = excel.RELATION_VALUES.get(relation, "")
        if not relation:
            self.error(number, _("请填写与户主关系。"))
        elif not person["relation"]:
            self.error(number, _("与户主关系“%(value)s”无法识别，可填：%(allowed)s。")
                       % {"value": relation,
                          "allowed": _allowed(excel.RELATION_LABELS.values())})
        person["gender"] = ""
        if text.get("gender"):
            person["gender"] = excel.GENDER_VALUES.get(text["gender"], "")
            if not person["gender"]:
                self.error(number, _("性别“%(value)s”无法识别，请填“男”或“女”。")
                           % {"value": text["gender"]})
        person["birth_date"] = self._birth_date(number, values.get("birth_date"))
        person["id_number"] = self._id_number(number, values.get("id_number"), person)
        person["phone"] = self._phone(number, values.get("phone"))
        person["is_party_member"] = False
        if text.get("political_status"):
            member = excel.POLITICAL_VALUES.get(text["political_status"])
            if member is None:
                self.error(number, _("政治面貌“%(value)s”无法识别，可填：%(allowed)s。")
                           % {"value": text["political_status"],
                              "allowed": _allowed(excel.POLITICAL_STATUSES)})
            person["is_party_member"] = bool(member)
        person["special_groups"] = []
        for label in excel.split_labels(text.get("special_groups", "")):
            code = excel.SPECIAL_GROUP_VALUES.get(label)
            if code is None:
                self.error(number, _("特殊群体“%(value)s”无法识别，可填：%(allowed)s。")
                           % {"value": label,
                              "allowed": _allowed(excel.SPECIAL_GROUP_LABELS.values())})
            elif str(code) not in person["special_groups"]:
                person["special_groups"].append(str(code))
        person["relation"] = str(person["relation"])
        person["gender"] = str(person["gender"])
        out["person"] = person
        out["ok"] = len(self.plan.errors) == errors_before
        return out

    def _check_grid(self, number: int, name: str) -> None:
        if self.target.kind == PlaceKind.GRID:
            if name != self.target.name:
                self.error(number, _("网格“%(name)s”不是本次导入的网格“%(grid)s”。")
                           % {"name": name, "grid": self.target.name})
        elif name not in self.grids:
            self.error(number, _("本村（社区）没有名为“%(name)s”的网格，请核对网格名称。")
                       % {"name": name})
        elif len(self.grids[name]) > 1:
            self.error(number, _("本村（社区）有多个名为“%(name)s”的网格，请先在系统中改名区分。")
                       % {"name": name})

    def _birth_date(self, number: int, value: Any) -> dt.date | None:
        try:
            born = excel.parse_date(value)
        except (ValueError, OverflowError):
            self.error(number, _("出生日期“%(value)s”无法识别，请按 1980-01-31 的格式填写。")
                       % {"value": excel.cell_text(value)})
            return None
        if born and born > self.today:
            self.error(number, _("出生日期不能晚于今天。"))
        elif born and born.year < 1900:
            self.error(number, _("出生日期早于 1900 年，请核对。"))
        return born

    def _id_number(self, number: int, value: Any, person: dict[str, Any]) -> str | None:
        if value is None or excel.cell_text(value) == "":
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.error(number, _(
                "身份证号被 Excel 存成了数字，末几位已经丢失。请把该列设为“文本”格式，"
                "重新填写后再导入。"))
            return None
        text = excel.cell_text(value).replace(" ", "")
        if _has_mask(text):
            self.error(number, _("身份证号已脱敏（含 *），不能导入。请填写完整的身份证号。"))
            return None
        try:
            id_number = validate_id_number(text)
        except ActionError as exc:
            for message in exc.messages:
                self.error(number, message)
            return None
        try:
            born = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        except ValueError:
            self.error(number, _("身份证号中的出生日期不存在，请核对。"))
            return None
        gender = "male" if int(id_number[16]) % 2 else "female"
        # Blank cells are filled from the number; cells that disagree with it are kept (the
        # registry holds such records too) but pointed out before the import is confirmed.
        if person["birth_date"] is None:
            person["birth_date"] = born
        elif person["birth_date"] != born:
            self.warn(number, _("出生日期与身份证号不一致，将按表中填写的出生日期登记，请核对。"))
        if not person["gender"]:
            person["gender"] = gender
        elif person["gender"] != gender:
            self.warn(number, _("性别与身份证号不一致，将按表中填写的性别登记，请核对。"))
        if id_number in self.seen_ids:
            self.error(number, _("身份证号与第 %(row)s 行重复。")
                       % {"row": self.seen_ids[id_number]})
            return None
        self.seen_ids[id_number] = number
        return id_number

    def _phone(self, number: int, value: Any) -> str:
        text = excel.cell_text(value)
        if not text:
            return ""
        if _has_mask(text):
            self.error(number, _("联系电话已脱敏（含 *），不能导入。请填写完整的号码。"))
            return ""
        try:
            return validate_phone(text)
        except ActionError as exc:
            for message in exc.messages:
                self.error(number, message)
            return ""


def _column_header(key: str) -> str:
    return next(c.header for c in excel.COLUMNS if c.key == key)


def plan_import(place: Place, sheet: excel.Sheet) -> ImportPlan:
    """Check every row of ``sheet`` for import under ``place``; collect every problem.

    Reads the registry (grids, buildings, ID numbers already registered in the county) and
    writes nothing. The plan has errors, or households ready for :func:`do_import_households`.
    """
    if place.kind not in IMPORT_TARGET_KINDS:
        raise ActionError(_("只能导入到村（社区）或网格。"))
    if place.kind == PlaceKind.VILLAGE and "grid" not in sheet.columns:
        raise excel.WorkbookError(_("表格缺少“网格”列。导入到村（社区）时须写明每户所在的网格。"))
    plan = ImportPlan(place=place, row_count=len(sheet.rows))
    village_id = place.ancestor_id("village")
    grids: dict[str, list[Place]] = {}
    for grid in Place.objects.filter(parent_id=village_id, kind=PlaceKind.GRID, is_active=True):
        grids.setdefault(grid.name, []).append(grid)
    reader = _RowReader(plan, grids, place)

    rows_by_household: dict[str, list[dict[str, Any]]] = {}
    previous_key = ""
    for sheet_row in sheet.rows:
        row = reader.read(sheet_row.number, sheet_row.values, previous_key)
        previous_key = row["key"]
        if row["key"]:
            rows_by_household.setdefault(row["key"], []).append(row)

    _check_registered_ids(plan, reader.seen_ids)
    buildings = _existing_buildings(place, village_id)
    addresses = set(
        Household.objects.filter(place__village_id=village_id, place__is_active=True)
        .exclude(address="").values_list("place__grid_id", "address")
    )
    new_buildings: dict[tuple[int, str], None] = {}
    for key, rows in rows_by_household.items():
        household = _plan_household(plan, place, grids, key, rows)
        if household is None:
            continue
        if household.grid and household.building_name:
            household.building = buildings.get((household.grid.pk, household.building_name))
            building_key = (household.grid.pk, household.building_name)
            if household.building is None and building_key not in new_buildings:
                new_buildings[building_key] = None
                plan.new_buildings.append((household.grid, household.building_name))
        if household.grid and (household.grid.pk, household.address) in addresses:
            plan.warnings.append(RowError(household.first_row, _(
                "门牌地址“%(address)s”在%(grid)s已有户档案，导入后将另建一户。")
                % {"address": household.address, "grid": household.grid.name}))
        if (household.household_type == HouseholdType.PARTY
                and not any(m["is_party_member"] for m in household.members)):
            plan.warnings.append(RowError(household.first_row, _(
                "户编号 %(key)s 的户类型是党员户，但该户没有人填写为中共党员。") % {"key": key}))
        plan.households.append(household)
    plan.errors.sort(key=lambda e: e.row)
    plan.warnings.sort(key=lambda e: e.row)
    if plan.errors:
        plan.households = []
        plan.new_buildings = []
    return plan


def _plan_household(plan: ImportPlan, place: Place, grids: dict[str, list[Place]], key: str,
                    rows: list[dict[str, Any]]) -> PlannedHousehold | None:
    first = rows[0]["row"]
    household = PlannedHousehold(key=key, first_row=first)
    ok = True
    shared: dict[str, str] = {}
    for field_name in ("grid", "building", "address", "household_type"):
        given = [(r["row"], r[field_name]) for r in rows if r[field_name]]
        if not given:
            continue
        first_row, value = given[0]
        shared[field_name] = value
        for row, other in given[1:]:
            if other != value:
                plan.errors.append(RowError(row, _(
                    "与同户（户编号 %(key)s）第 %(first)s 行的“%(field)s”不一致。")
                    % {"key": key, "first": first_row, "field": _FIELD_NAMES[field_name]}))
                ok = False
                break
    grid_name = shared.get("grid", "")
    if place.kind == PlaceKind.GRID:
        household.grid = place
    elif not grid_name:
        plan.errors.append(RowError(first, _("户编号 %(key)s 没有填写网格。") % {"key": key}))
        ok = False
    elif len(grids.get(grid_name, [])) == 1:
        household.grid = grids[grid_name][0]
    household.building_name = shared.get("building", "")
    household.address = shared.get("address", "")
    household.household_type = str(shared.get("household_type") or HouseholdType.ORDINARY)

    if all(r["person"]["relation"] for r in rows):
        heads = [r["row"] for r in rows if r["person"]["relation"] == _HEAD]
        if not heads:
            plan.errors.append(RowError(first, _(
                "户编号 %(key)s 没有户主。每户须有且只有一名户主。") % {"key": key}))
        for extra in heads[1:]:
            plan.errors.append(RowError(extra, _(
                "户编号 %(key)s 已在第 %(row)s 行填写了户主，每户只能有一名户主。")
                % {"key": key, "row": heads[0]}))
    if not ok or not household.grid or any(not r["ok"] for r in rows):
        return None
    # Heads first, then the order of the sheet.
    ordered = sorted(rows, key=lambda r: r["person"]["relation"] != _HEAD)
    household.members = [r["person"] for r in ordered]
    return household


def _check_registered_ids(plan: ImportPlan, seen_ids: dict[str, int]) -> None:
    ids = list(seen_ids)
    county_id = plan.place.county_id
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for id_number in Person.objects.filter(
            county_id=county_id, id_number__in=chunk
        ).values_list("id_number", flat=True):
            plan.errors.append(RowError(seen_ids[id_number], _(
                "该身份证号已登记在本县，不能重复登记。如是同一人，请在系统中修改其档案。")))


def _existing_buildings(place: Place, village_id: int) -> dict[tuple[int, str], Place]:
    found: dict[tuple[int, str], Place] = {}
    for building in Place.objects.filter(village_id=village_id, kind=PlaceKind.BUILDING,
                                         is_active=True).order_by("sort_order", "id"):
        found.setdefault((building.parent_id, building.name), building)
    return found


# -- writing ----------------------------------------------------------------------------------

def do_import_households(place: Place, sheet: excel.Sheet, *, acting_user, file_name: str = "",
                         sha256: str = "") -> ImportPlan:
    """Import every household of ``sheet`` under ``place``, or nothing.

    Checks the sheet again inside the transaction (the registry may have changed since a
    preview); any problem raises :class:`ImportRejected` listing them all. The import is
    audited once, with its file's name and digest, its counts and the households it created;
    each new building is audited as one created by hand.
    """
    require(acting_user, "people.import", place)
    try:
        with transaction.atomic():
            return _apply(place, sheet, acting_user=acting_user, file_name=file_name,
                          sha256=sha256)
    except IntegrityError as exc:  # a person registered by someone else at the same moment
        raise ActionError(
            _("导入时有人同时登记了相同身份证号的人员，未导入任何数据。请重新上传。")
        ) from exc


def _apply(place: Place, sheet: excel.Sheet, *, acting_user, file_name: str,
           sha256: str) -> ImportPlan:
    plan = plan_import(place, sheet)
    if plan.errors:
        raise ImportRejected(plan.errors)
    created_buildings: dict[tuple[int, str], Place] = {}
    for grid, name in plan.new_buildings:
        _check_child(grid, PlaceKind.BUILDING)
        building = _insert_place(grid, PlaceKind.BUILDING, name)
        created_buildings[(grid.pk, name)] = building
        record("places.place.create", actor=acting_user, obj=building,
               county_id=building.county_id, after=snapshot(building))

    # The bulk counterpart of actions._insert_place and do_create_household: a village's
    # thousands of households in a handful of statements instead of several each.
    places = []
    for planned in plan.households:
        parent = planned.building or created_buildings.get(
            (planned.grid.pk, planned.building_name)) or planned.grid
        _check_child(parent, PlaceKind.HOUSEHOLD)
        head = planned.members[0]["name"] if planned.members else ""
        label = (planned.address or f"{head}户").strip()[:120]  # as do_create_household names it
        household_place = Place(parent=parent, kind=PlaceKind.HOUSEHOLD, name=label)
        household_place.copy_ancestors_from(parent)
        places.append(household_place)
    Place.objects.bulk_create(places, batch_size=_BATCH)
    ids = [p.pk for p in places]
    for start in range(0, len(ids), _BATCH):  # a household place is its own household column
        Place.objects.filter(pk__in=ids[start:start + _BATCH]).update(household_id=F("pk"))
    today = timezone.localdate()
    households, people = [], []
    for planned, household_place in zip(plan.households, places, strict=True):
        household_place.household_id = household_place.pk
        households.append(Household(
            place=household_place, county_id=household_place.county_id,
            household_type=planned.household_type, address=planned.address,
            card_code=new_card_code(), registered_at=today,
        ))
        for member in planned.members:
            person = Person(**clean_person_data(member))
            person.set_place(household_place)
            people.append(person)
    Household.objects.bulk_create(households, batch_size=_BATCH)
    Person.objects.bulk_create(people, batch_size=_BATCH)
    record("places.households.import", actor=acting_user, obj=place, county_id=place.county_id,
           after={"file_name": file_name, "sha256": sha256, **plan.summary(),
                  "household_ids": ids})
    return plan


# -- export -----------------------------------------------------------------------------------

_EXPORT_PERSON_FIELDS = ("household", "county", "town", "village", "grid", "building", "name",
                         "relation", "gender", "birth_date", "id_number", "phone",
                         "is_party_member", "special_groups", "notes")

@dataclass
class ExportFile:
    content: bytes
    file_name: str
    households: int
    persons: int
    unmasked: int


def do_export_households(place: Place, *, acting_user) -> ExportFile:
    """The households and residents under ``place`` in the template's layout; audited.

    Phones and ID numbers are masked except where the user holds ``people.view_sensitive``;
    an export that shows any in full is recorded as such.
    """
    require(acting_user, "people.export", place)
    households = (
        Household.objects.restrict(acting_user, "export")
        .filter(place.scope_q("place__"), place__is_active=True)
        .select_related("place")
        .order_by("place__village_id", "place__grid__sort_order", "place__grid_id",
                  models.F("place__building_id").asc(nulls_first=True), "place_id")
    )
    persons: dict[int, list[Person]] = {}
    head_first = models.Case(models.When(relation=Relation.HEAD, then=0), default=1)
    for person in (
        Person.objects.restrict(acting_user, "export")
        .filter(place.scope_q(), household__isnull=False, is_active=True)
        .order_by("household_id", head_first, "id")
        .only(*_EXPORT_PERSON_FIELDS)
        .iterator(chunk_size=2000)
    ):
        persons.setdefault(person.household_id, []).append(person)
    names = dict(
        Place.objects.filter(place.scope_q(),
                             kind__in=(PlaceKind.VILLAGE, PlaceKind.GRID, PlaceKind.BUILDING))
        .values_list("pk", "name")
    )
    may_see = _sensitive_test(acting_user)
    with_village = place.level < level_index(PlaceKind.VILLAGE)
    counts: Counter[str] = Counter()

    def rows():
        for number, household in enumerate(households.iterator(chunk_size=1000), start=1):
            counts["households"] += 1
            hp = household.place
            head = [names.get(hp.village_id, "")] if with_village else []
            base = [names.get(hp.grid_id, ""), names.get(hp.building_id, ""), household.address,
                    str(number), excel.HOUSEHOLD_TYPE_LABELS.get(household.household_type, "")]
            members = persons.get(hp.pk) or [None]
            for person in members:
                if person is None:
                    yield head + base + [""] * (len(excel.COLUMNS) - len(base))
                    continue
                counts["persons"] += 1
                full = may_see(person)
                counts["unmasked"] += bool(full and (person.id_number or person.phone))
                yield head + base + [
                    person.name,
                    excel.RELATION_LABELS.get(person.relation, ""),
                    excel.GENDER_LABELS.get(person.gender, ""),
                    person.birth_date,
                    (person.id_number or "") if full else mask_id_number(person.id_number),
                    person.phone if full else mask_phone(person.phone),
                    excel.PARTY_MEMBER if person.is_party_member else excel.NON_MEMBER,
                    "、".join(excel.SPECIAL_GROUP_LABELS.get(g, g) for g in person.special_groups),
                    person.notes,
                ]

    today = timezone.localdate()
    title = f"{place.full_name()} 户与人员名册（导出日期：{today.isoformat()}）"
    out = io.BytesIO()
    excel.write_workbook(out, title=title, rows=rows(), with_village=with_village)
    content = out.getvalue()
    export = ExportFile(content=content, file_name=f"{place.name}-户与人员-{today:%Y%m%d}.xlsx",
                        households=counts["households"], persons=counts["persons"],
                        unmasked=counts["unmasked"])
    with transaction.atomic():
        record("places.households.export", actor=acting_user, obj=place,
               county_id=place.county_id,
               after={"households": export.households, "persons": export.persons,
                      "unmasked": export.unmasked > 0, "unmasked_persons": export.unmasked,
                      "sha256": hashlib.sha256(content).hexdigest()})
    return export


def _sensitive_test(user):
    """Whether the user may see a person's full phone and ID number (``people.view_sensitive``)."""
    if getattr(user, "is_superuser", False):
        allowed = has_permission(user, "people.view_sensitive")
        return lambda person: allowed
    grants = grants_with(user, "people.view_sensitive")
    return lambda person: any(
        getattr(person, f"{g.kind}_id") == g.place_id for g in grants
    )
