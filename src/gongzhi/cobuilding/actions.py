"""Every write of 三共: needs, resources, projects (match, progress, contributions, completion).

Each action is atomic, checks its preconditions and the acting user's permission first, and
writes the audit event last.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.places.models import Organisation, Place, PlaceKind

from .models import (
    Contribution,
    Need,
    NeedCategory,
    NeedStatus,
    Project,
    ProjectStatus,
    ProjectUnit,
    ProjectUpdate,
    Resource,
    ResourceKind,
)

PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024
UNDER_VILLAGE = (PlaceKind.VILLAGE, PlaceKind.GRID, PlaceKind.BUILDING, PlaceKind.HOUSEHOLD)


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


def _require(user, permission: str, place: Place, message: str) -> None:
    if user is None:
        return
    if not has_permission(user, permission, place):
        raise ActionForbidden(message)


def _text(value: str | None, limit: int | None = None) -> str:
    value = (value or "").strip()
    return value[:limit] if limit else value


def _decimal(value: Any, message: str, *, allow_none: bool = False) -> Decimal | None:
    if value in (None, "") and allow_none:
        return None
    try:
        number = Decimal(str(value if value not in (None, "") else 0).strip())
    except (InvalidOperation, ValueError):
        raise ActionError(message) from None
    if not number.is_finite() or number < 0 or number >= Decimal("1e10"):
        raise ActionError(message)
    return number


def may_manage_unit(user, organisation: Organisation) -> bool:
    """Staff who manage co-building where the unit is, or the unit's own liaison."""
    if user is None:
        return True
    if has_permission(user, "cobuilding.manage", organisation.place):
        return True
    return (getattr(user, "organisation_id", None) == organisation.pk
            and has_permission(user, "cobuilding.unit"))


# ---------------------------------------------------------------------------------------------
# Needs (需求清单)


@transaction.atomic
def do_record_need(place: Place, *, acting_user, title: str, category: str,
                   description: str = "", location: str = "", raised_by_name: str = "",
                   matter=None, visit=None) -> Need:
    """A need of the community at ``place`` (a village or a place under it), possibly heard
    as a matter or on a visit."""
    if place.kind not in UNDER_VILLAGE:
        raise ActionError(_("需求须属于一个村（社区）或其下的网格。"))
    _require(acting_user, "cobuilding.manage", place, _("您不能为该地登记需求。"))
    title = _text(title, 120)
    if not title:
        raise ActionError(_("请填写需求。"))
    if category not in NeedCategory.values:
        raise ActionError(_("请选择需求类别。"))
    if matter is not None and matter.village_id != place.village_id:
        raise ActionError(_("关联的事项不属于本村（社区）。"))
    if visit is not None and visit.village_id != place.village_id:
        raise ActionError(_("关联的走访不属于本村（社区）。"))
    need = Need(title=title, category=category, description=_text(description),
                location=_text(location, 120), raised_by_name=_text(raised_by_name, 60),
                matter=matter, visit=visit, created_by=_user(acting_user))
    need.set_place(place)
    need.save()
    record("cobuilding.need.record", actor=acting_user, obj=need,
           after={"place": place.pk, "title": title, "category": category,
                  "matter": getattr(matter, "pk", None), "visit": getattr(visit, "pk", None)})
    return need


@transaction.atomic
def do_close_need(need: Need, *, acting_user, reason: str) -> Need:
    need = Need.objects.select_for_update(of=("self",)).select_related("place").get(pk=need.pk)
    _require(acting_user, "cobuilding.manage", need.place, _("您不能管理该地的需求。"))
    if need.status != NeedStatus.OPEN:
        raise ActionError(_("只有待认领的需求可以关闭。"))
    reason = _text(reason)
    if not reason:
        raise ActionError(_("请说明关闭的原因。"))
    need.status = NeedStatus.CLOSED
    need.save(update_fields=["status"])
    record("cobuilding.need.close", actor=acting_user, obj=need,
           before={"status": NeedStatus.OPEN}, after={"status": need.status, "reason": reason})
    return need


# ---------------------------------------------------------------------------------------------
# Resources (资源清单)


@transaction.atomic
def do_add_resource(organisation: Organisation, *, acting_user, kind: str, title: str,
                    description: str = "", quantity: Any = None, unit: str = "",
                    availability: str = "") -> Resource:
    if not may_manage_unit(acting_user, organisation):
        raise ActionForbidden(_("您不能登记该单位的资源。"))
    if not organisation.is_active:
        raise ActionError(_("该单位已停用。"))
    if kind not in ResourceKind.values:
        raise ActionError(_("请选择资源类别：场地、资金、人员、专业技术或设备物资。"))
    title = _text(title, 120)
    if not title:
        raise ActionError(_("请填写资源名称。"))
    resource = Resource(organisation=organisation, kind=kind, title=title,
                        description=_text(description),
                        quantity=_decimal(quantity, _("数量须为不小于0的数字。"),
                                          allow_none=True),
                        unit=_text(unit, 12), availability=_text(availability, 120),
                        created_by=_user(acting_user))
    resource.set_place(organisation.place)
    resource.save()
    record("cobuilding.resource.add", actor=acting_user, obj=resource,
           after={"organisation": organisation.pk, "kind": kind, "title": title,
                  "quantity": resource.quantity, "unit": resource.unit})
    return resource


@transaction.atomic
def do_withdraw_resource(resource: Resource, *, acting_user) -> Resource:
    resource = Resource.objects.select_for_update(of=("self",)).select_related(
        "organisation__place").get(pk=resource.pk)
    if not may_manage_unit(acting_user, resource.organisation):
        raise ActionForbidden(_("您不能管理该单位的资源。"))
    if not resource.is_active:
        raise ActionError(_("该资源已停止提供。"))
    resource.is_active = False
    resource.save(update_fields=["is_active"])
    record("cobuilding.resource.withdraw", actor=acting_user, obj=resource,
           before={"is_active": True}, after={"is_active": False})
    return resource


def serves(resource: Resource, need: Need) -> bool:
    """A unit serves a need when it is stationed at the need's village or beneath it, or at
    the town or county above it."""
    place = resource.organisation.place
    if place.kind in UNDER_VILLAGE:
        return place.village_id == need.village_id
    return need.place.ancestor_id(place.kind) == place.pk


# ---------------------------------------------------------------------------------------------
# Projects (项目清单)


@transaction.atomic
def do_start_project(need: Need, resources: list[Resource], *, acting_user, title: str,
                     owner_name: str, start_on: dt.date, due_on: dt.date,
                     description: str = "", owner_user=None,
                     commitments: dict[int, str] | None = None,
                     is_public: bool = True) -> Project:
    """Match a need with one or more units' resources: a project with an owner and dates.
    The need is then 已对接."""
    need = Need.objects.select_for_update(of=("self",)).select_related("place").get(pk=need.pk)
    _require(acting_user, "cobuilding.manage", need.place, _("您不能为该地的需求立项。"))
    if need.status not in (NeedStatus.OPEN, NeedStatus.MATCHED):
        raise ActionError(_("该需求已完成或已关闭。"))
    resources = list({r.pk: r for r in resources}.values())
    if not resources:
        raise ActionError(_("请至少选择一项驻区单位的资源。"))
    for r in resources:
        if not r.is_active:
            raise ActionError(_("资源“%(title)s”已停止提供。") % {"title": r.title})
        if r.county_id != need.county_id or not serves(r, need):
            raise ActionError(_("%(unit)s不在该需求所在的村（社区）或其上级驻区，不能对接。")
                              % {"unit": r.organisation.name})
    title = _text(title, 120) or need.title
    owner_name = _text(owner_name, 60) or (str(owner_user) if owner_user else "")
    if not owner_name:
        raise ActionError(_("请填写项目负责人。"))
    if start_on is None or due_on is None:
        raise ActionError(_("请填写开始日期和计划完成日期。"))
    if due_on < start_on:
        raise ActionError(_("计划完成日期不能早于开始日期。"))
    project = Project(need=need, title=title, description=_text(description),
                      owner_name=owner_name, owner_user=owner_user, start_on=start_on,
                      due_on=due_on, is_public=bool(is_public), created_by=_user(acting_user))
    project.set_place(need.place)
    project.save()
    commitments = commitments or {}
    ProjectUnit.objects.bulk_create([
        ProjectUnit(project=project, resource=r, organisation_id=r.organisation_id,
                    commitment=_text(commitments.get(r.pk), 120)) for r in resources])
    before = need.status
    need.status = NeedStatus.MATCHED
    need.save(update_fields=["status"])
    record("cobuilding.project.start", actor=acting_user, obj=project,
           after={"need": need.pk, "need_status": [before, need.status],
                  "resources": [r.pk for r in resources],
                  "units": sorted({r.organisation_id for r in resources}),
                  "owner": owner_name, "start_on": start_on, "due_on": due_on})
    return project


def _lock_project(project: Project) -> Project:
    return Project.objects.select_for_update(of=("self",)).select_related("place", "need").get(
        pk=project.pk)


def _check_photo(upload) -> str:
    name = getattr(upload, "name", "photo")
    ctype = getattr(upload, "content_type", None) or mimetypes.guess_type(name)[0] or ""
    if ctype not in PHOTO_TYPES:
        raise ActionError(_("%(n)s 不是照片。请上传 JPG、PNG 或 WebP 图片。") % {"n": name})
    if upload.size > MAX_PHOTO_BYTES:
        raise ActionError(_("照片 %(n)s 超过 10MB。") % {"n": name})
    head = upload.read(16)
    upload.seek(0)
    if not (head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG")
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")):
        raise ActionError(_("照片 %(n)s 不是有效的图片。") % {"n": name})
    return ctype


@transaction.atomic
def do_report_progress(project: Project, *, acting_user, percent: int, note: str,
                       photo=None) -> ProjectUpdate:
    """A progress update: the percentage reached (never lower than before), a note and an
    optional photo. Reaching 100% does not complete the project: completion is its own step."""
    project = _lock_project(project)
    _require(acting_user, "cobuilding.manage", project.place, _("您不能更新该项目的进展。"))
    if project.status != ProjectStatus.ACTIVE:
        raise ActionError(_("项目已完成或已终止。"))
    try:
        percent = int(percent)
    except (TypeError, ValueError):
        raise ActionError(_("进度须为0到100之间的整数。")) from None
    if not 0 <= percent <= 100:
        raise ActionError(_("进度须为0到100之间的整数。"))
    if percent < project.progress:
        raise ActionError(_("进度不能低于上次报告的%(p)d%%。") % {"p": project.progress})
    note = _text(note)
    if not note:
        raise ActionError(_("请填写进展说明。"))
    ctype = _check_photo(photo) if photo else ""
    update = ProjectUpdate.objects.create(project=project, percent=percent, note=note,
                                          photo=photo or "", photo_type=ctype,
                                          by=_user(acting_user))
    before = project.progress
    project.progress = percent
    project.save(update_fields=["progress"])
    record("cobuilding.project.progress", actor=acting_user, obj=project,
           before={"progress": before},
           after={"progress": percent, "update": update.pk, "photo": bool(photo)})
    return update


@transaction.atomic
def do_record_contribution(project: Project, organisation: Organisation, *, acting_user,
                           on: dt.date, hours: Any = 0, funds: Any = 0,
                           note: str = "") -> Contribution:
    """Hours and funds a participating unit put into the project on a day."""
    project = _lock_project(project)
    if not (may_manage_unit(acting_user, organisation)
            or has_permission(acting_user, "cobuilding.manage", project.place)):
        raise ActionForbidden(_("您不能登记该单位的投入。"))
    if not project.units.filter(organisation=organisation).exists():
        raise ActionError(_("%(unit)s没有参与该项目。") % {"unit": organisation.name})
    if project.status == ProjectStatus.CANCELLED:
        raise ActionError(_("项目已终止。"))
    if on is None or on > timezone.localdate():
        raise ActionError(_("请填写投入日期，且不能晚于今天。"))
    if on < project.start_on:
        raise ActionError(_("投入日期不能早于项目开始日期。"))
    hours = _decimal(hours, _("工时须为不小于0的数字。"))
    funds = _decimal(funds, _("资金须为不小于0的数字。"))
    if not hours and not funds:
        raise ActionError(_("请填写投入的工时或资金。"))
    contribution = Contribution(project=project, organisation=organisation, on=on,
                                hours=hours, funds=funds, note=_text(note, 200),
                                recorded_by=_user(acting_user))
    contribution.set_place(project.place)
    contribution.save()
    record("cobuilding.contribution.record", actor=acting_user, obj=contribution,
           after={"project": project.pk, "organisation": organisation.pk, "on": on,
                  "hours": hours, "funds": funds})
    return contribution


@transaction.atomic
def do_complete_project(project: Project, *, acting_user, note: str,
                        completed_on: dt.date | None = None) -> Project:
    """Complete the project (progress 100%); its need is 已完成 when no other project of it
    is still under way."""
    project = _lock_project(project)
    _require(acting_user, "cobuilding.manage", project.place, _("您不能完成该项目。"))
    if project.status != ProjectStatus.ACTIVE:
        raise ActionError(_("项目已完成或已终止。"))
    completed_on = completed_on or timezone.localdate()
    if completed_on > timezone.localdate() or completed_on < project.start_on:
        raise ActionError(_("完成日期须在项目开始日期和今天之间。"))
    note = _text(note)
    if not note:
        raise ActionError(_("请填写完成情况。"))
    ProjectUpdate.objects.create(project=project, percent=100, note=note, by=_user(acting_user))
    project.status = ProjectStatus.COMPLETED
    project.progress = 100
    project.completed_on = completed_on
    project.save(update_fields=["status", "progress", "completed_on"])
    need = Need.objects.select_for_update(of=("self",)).get(pk=project.need_id)
    if not need.projects.filter(status=ProjectStatus.ACTIVE).exists():
        need.status = NeedStatus.DONE
        need.save(update_fields=["status"])
    record("cobuilding.project.complete", actor=acting_user, obj=project,
           after={"status": project.status, "completed_on": completed_on,
                  "on_time": completed_on <= project.due_on, "need_status": need.status})
    return project
