"""Every write of 督: opening and closing supervision items, supervisors' records, bulletins.

The scheduled scan (:mod:`.scan`) calls the same actions with ``acting_user=None``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.accounts.roles import Role
from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters.models import EventKind, Matter, MatterEvent
from gongzhi.matters.workflow import workflow_of
from gongzhi.notifications.outbox import notify
from gongzhi.places.models import Place, PlaceKind

from . import bulletins, recipients
from .models import (
    Bulletin,
    ItemStatus,
    PeriodKind,
    Reason,
    RecordKind,
    SupervisionItem,
    SupervisionRecord,
)

DEFAULT_CHAIN = ["town_secretary", "county_office", "supervisor"]


@dataclass(frozen=True)
class Level:
    """One level of a locality's supervision chain: the role that supervises there, and the
    name the locality gives it (``supervision_chain_labels``, e.g. 县联系办 → 县委常委 →
    县委书记); the role's own name when none is given."""

    role: str
    name: str


def chain_from_policy(pol: dict[str, Any]) -> list[Level]:
    roles = pol.get("supervision_chain") or DEFAULT_CHAIN
    labels = pol.get("supervision_chain_labels") or []
    levels = [Level(role, str(labels[i]) if i < len(labels) and labels[i]
                    else str(Role(role).label))
              for i, role in enumerate(roles) if role in Role.values]
    return levels or [Level(r, str(Role(r).label)) for r in DEFAULT_CHAIN]


def supervision_chain(county_id: int) -> list[Level]:
    from gongzhi.matters.actions import matter_settings

    return chain_from_policy(matter_settings(county_id).policy or {})


def level_label(level: int, name: str) -> str:
    return _("第%(n)d级（%(role)s）") % {"n": level + 1, "role": name}


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


def _stage_name(matter: Matter) -> str:
    try:
        return workflow_of(matter.workflow).stage(matter.stage).get("name", matter.stage)
    except KeyError:
        return matter.stage


def item_url(item: SupervisionItem) -> str:
    return reverse("supervision:item", args=[item.pk])


def _announce_item(item: SupervisionItem, matter: Matter, acting_user) -> None:
    """Timeline event and notifications for a newly opened item (inside the action)."""
    label = item.level_label if item.level_role else ""
    MatterEvent.objects.create(
        county_id=matter.county_id, matter=matter, actor=_user(acting_user),
        kind=EventKind.SUPERVISION, summary=(_("列入督办：%(level)s") % {"level": label}
                                             if label else _("列入督办"))[:200],
        comment=item.note, data={"item": item.pk, "level": item.level, "reason": item.reason},
        is_public=False,
    )
    title = _("事项“%(title)s”已列入督办，%(level)s。") % {"title": matter.title, "level": label}
    body = _("环节“%(stage)s”，时限 %(deadline)s。请督促责任单位尽快办理。") % {
        "stage": item.stage_name,
        "deadline": timezone.localtime(item.deadline).strftime("%Y-%m-%d %H:%M")
        if item.deadline else "—",
    }
    supervisors = recipients.role_holders(matter, item.level_role) if item.level_role else []
    # Called once per item (its row is the guard), so no dedupe key: notify's in-app dedupe
    # compares titles, and items of one matter at one level share theirs.
    notify(event="supervision_opened", title=title, body=body, users=supervisors,
           url=item_url(item), matter=matter)
    answerable = [u for u in recipients.responsible_users(matter) or recipients.queue_staff(matter)
                  if u not in supervisors]
    notify(event="supervision_opened", title=title, body=body, users=answerable,
           url=recipients.matter_url(matter), matter=matter)


# ---------------------------------------------------------------------------------------------
# Items


@transaction.atomic
def do_open_supervision(matter: Matter, *, acting_user, level: int = 0,
                        reason: str = Reason.MANUAL, note: str = "") -> SupervisionItem:
    """A supervisor puts a matter under supervision by hand (专项督办 / 临期督办)."""
    if not has_permission(acting_user, "matters.supervise", matter.place):
        raise ActionForbidden(_("您没有督办此事项的权限。"))
    if matter.is_closed or matter.merged_into_id:
        raise ActionError(_("事项已办结，不能再列入督办。"))
    if reason not in (Reason.MANUAL, Reason.NEAR_DEADLINE):
        raise ActionError(_("请选择督办原因：专项督办或临期督办。"))
    chain = supervision_chain(matter.county_id)
    if not 0 <= level < len(chain):
        raise ActionError(_("督办层级超出本地督办链条的范围。"))
    matter = Matter.objects.select_for_update().get(pk=matter.pk)
    if SupervisionItem.objects.filter(matter=matter, automatic=False,
                                      status=ItemStatus.OPEN).exists():
        raise ActionError(_("此事项已有进行中的专项督办。"))
    try:
        with transaction.atomic():
            item = SupervisionItem.objects.create(
                county_id=matter.county_id, matter=matter, stage=matter.stage,
                stage_name=_stage_name(matter)[:80], stage_entered_at=matter.stage_entered_at,
                deadline=matter.stage_deadline, level=level, level_role=chain[level].role,
                level_name=chain[level].name[:40], reason=reason, automatic=False,
                note=(note or "").strip(), opened_by=_user(acting_user),
            )
    except IntegrityError as exc:
        raise ActionError(_("此事项已有进行中的专项督办。")) from exc
    _announce_item(item, matter, acting_user)
    record("supervision.item.open", actor=acting_user, obj=item,
           after={"matter": matter.pk, "level": level, "reason": reason, "automatic": False})
    return item


def open_automatic_item(matter: Matter, *, stage: str, stage_name: str, stage_entered_at,
                        deadline, level: int, chain: list[Level], now,
                        reason: str = Reason.OVERDUE, acting_user=None) -> SupervisionItem | None:
    """The item of this stage visit at ``level``, opened once (by the scan, or on entering a
    stage of kind supervision).

    Runs inside the caller's transaction with the matter row locked. Returns the new item, or
    None when it exists already (opened by an earlier run or by another process).
    """
    lookup = dict(matter=matter, stage=stage, stage_entered_at=stage_entered_at, automatic=True)
    if SupervisionItem.objects.filter(**lookup, level=level).exists():
        return None
    try:
        with transaction.atomic():
            item = SupervisionItem.objects.create(
                **lookup, county_id=matter.county_id, stage_name=stage_name[:80],
                deadline=deadline, level=level, level_role=chain[level].role,
                level_name=chain[level].name[:40], reason=reason, opened_at=now,
            )
    except IntegrityError:
        return None  # another process opened it first
    raised = SupervisionItem.objects.filter(**lookup, level__lt=level, status=ItemStatus.OPEN)
    note = _("已提级至%(level)s。") % {"level": level_label(level, chain[level].name)}
    raised.update(status=ItemStatus.CLOSED, closed_at=now, close_note=note)
    _announce_item(item, matter, acting_user)
    record("supervision.item.open", actor=acting_user, obj=item,
           after={"matter": matter.pk, "level": level, "reason": reason,
                  "automatic": True, "stage": stage, "deadline": deadline})
    return item


@transaction.atomic
def do_close_supervision(item: SupervisionItem, *, acting_user, note: str = "") -> SupervisionItem:
    if not has_permission(acting_user, "matters.supervise", item.matter.place):
        raise ActionForbidden(_("您没有结束此督办的权限。"))
    item = SupervisionItem.objects.select_for_update().get(pk=item.pk)
    if item.status != ItemStatus.OPEN:
        raise ActionError(_("此督办已经结束。"))
    note = (note or "").strip()
    if not note:
        raise ActionError(_("请填写结束督办的说明。"))
    item.status = ItemStatus.CLOSED
    item.closed_at = timezone.now()
    item.closed_by = _user(acting_user)
    item.close_note = note
    item.save(update_fields=["status", "closed_at", "closed_by", "close_note"])
    MatterEvent.objects.create(county_id=item.county_id, matter_id=item.matter_id,
                               actor=_user(acting_user), kind=EventKind.SUPERVISION,
                               summary=_("结束督办"), comment=note, data={"item": item.pk})
    record("supervision.item.close", actor=acting_user, obj=item,
           before={"status": ItemStatus.OPEN}, after={"status": item.status, "note": note})
    return item


def close_items_of_closed_matter(matter: Matter, stage, event, acting_user) -> None:
    """Hook: a matter that reaches its closed stage ends its open supervision."""
    items = list(SupervisionItem.objects.filter(matter=matter, status=ItemStatus.OPEN))
    if not items:
        return
    now = timezone.now()
    SupervisionItem.objects.filter(pk__in=[i.pk for i in items]).update(
        status=ItemStatus.CLOSED, closed_at=now, close_note=_("事项已办结。"))
    for item in items:
        record("supervision.item.close", actor=acting_user, obj=item,
               before={"status": ItemStatus.OPEN},
               after={"status": ItemStatus.CLOSED, "note": "matter closed"})


def open_stage_item(matter: Matter, stage: dict[str, Any], event, acting_user) -> None:
    """Hook: a matter entering a stage of kind supervision (督查, 严格督查) is put before the
    first level of the chain at once, not only when a deadline runs out."""
    chain = supervision_chain(matter.county_id)
    open_automatic_item(matter, stage=matter.stage,
                        stage_name=str(stage.get("name", matter.stage)),
                        stage_entered_at=matter.stage_entered_at, deadline=matter.stage_deadline,
                        level=0, chain=chain, now=matter.stage_entered_at, reason=Reason.STAGE,
                        acting_user=acting_user)


def mark_stage_left(matter: Matter, transition, event, acting_user) -> None:
    """Hook: the watches of the stage visit a matter just left record when it left, and the
    items of a supervision stage it left are done."""
    from .models import DeadlineWatch

    DeadlineWatch.objects.filter(matter=matter, left_at__isnull=True).exclude(
        stage=matter.stage, stage_entered_at=matter.stage_entered_at,
    ).update(left_at=matter.stage_entered_at)
    done = list(SupervisionItem.objects.filter(
        matter=matter, reason=Reason.STAGE, status=ItemStatus.OPEN,
    ).exclude(stage=matter.stage, stage_entered_at=matter.stage_entered_at))
    if done:
        SupervisionItem.objects.filter(pk__in=[i.pk for i in done]).update(
            status=ItemStatus.CLOSED, closed_at=matter.stage_entered_at,
            closed_by=_user(acting_user), close_note=_("督查环节已完成。"))
        for item in done:
            record("supervision.item.close", actor=acting_user, obj=item,
                   before={"status": ItemStatus.OPEN},
                   after={"status": ItemStatus.CLOSED, "note": "stage left"})


# ---------------------------------------------------------------------------------------------
# Records


@transaction.atomic
def do_add_supervision_record(
    item: SupervisionItem,
    *,
    acting_user,
    kind: str,
    notes: str,
    at: dt.datetime | None = None,
    talked_to_user: User | None = None,
    talked_to_name: str = "",
    talked_to_position: str = "",
    attachments: list | None = None,
) -> SupervisionRecord:
    """A site check, survey, meeting or 约谈 (which must name the person talked to)."""
    matter = item.matter
    if not has_permission(acting_user, "matters.supervise", matter.place):
        raise ActionForbidden(_("您没有记录督办情况的权限。"))
    if kind not in RecordKind.values:
        raise ActionError(_("请选择督办方式。"))
    notes = (notes or "").strip()
    if not notes:
        raise ActionError(_("请填写督办情况。"))
    talked_to_name = (talked_to_name or "").strip()[:60]
    talked_to_position = (talked_to_position or "").strip()[:80]
    if kind == RecordKind.TALK and talked_to_user is None and not talked_to_name:
        raise ActionError(_("约谈须填写约谈对象：选择人员，或填写姓名和职务。"))
    if talked_to_user is not None and talked_to_user.county_id not in (None, matter.county_id):
        raise ActionError(_("约谈对象不属于本县区。"))
    now = timezone.now()
    at = at or now
    if at > now + dt.timedelta(minutes=5):
        raise ActionError(_("督办时间不能晚于现在。"))
    item = SupervisionItem.objects.select_for_update().get(pk=item.pk)
    if item.status != ItemStatus.OPEN:
        raise ActionError(_("此督办已经结束，不能再添加记录。"))
    rec = SupervisionRecord(
        county_id=item.county_id, item=item, matter=matter, kind=kind, notes=notes, at=at,
        by=_user(acting_user), talked_to_user=talked_to_user if kind == RecordKind.TALK else None,
        talked_to_name=talked_to_name if kind == RecordKind.TALK else "",
        talked_to_position=talked_to_position if kind == RecordKind.TALK else "",
    )
    summary = str(RecordKind(kind).label)
    if kind == RecordKind.TALK:
        summary = _("约谈：%(who)s") % {"who": rec.talked_to}
    rec.event = MatterEvent.objects.create(
        county_id=item.county_id, matter=matter, actor=_user(acting_user), at=at,
        kind=EventKind.SUPERVISION, summary=summary[:200], comment=notes,
        data={"item": item.pk, "record_kind": kind},
    )
    rec.save(force_insert=True)
    if attachments:
        from gongzhi.matters.actions import attach_files

        attach_files(matter, attachments, acting_user=acting_user, event=rec.event)
    record("supervision.record.add", actor=acting_user, obj=rec,
           after={"item": item.pk, "kind": kind, "talked_to_user": rec.talked_to_user_id,
                  "talked_to": rec.talked_to, "at": at})
    return rec


# ---------------------------------------------------------------------------------------------
# Bulletins


@transaction.atomic
def do_generate_bulletin(place: Place, period_kind: str, day: dt.date, *,
                         acting_user) -> Bulletin:
    """通报 for the period containing ``day``; generating again refreshes an unpublished one."""
    if place.kind not in (PlaceKind.COUNTY, PlaceKind.TOWN):
        raise ActionError(_("通报只能按县区或乡镇（街道）生成。"))
    if not has_permission(acting_user, "matters.supervise", place):
        raise ActionForbidden(_("您没有为此地生成通报的权限。"))
    if period_kind not in PeriodKind.values:
        raise ActionError(_("请选择通报周期：周、月或季度。"))
    start, end = bulletins.period_bounds(period_kind, day)
    today = timezone.localdate()
    if start > today:
        raise ActionError(_("不能为尚未开始的周期生成通报。"))
    existing = Bulletin.objects.select_for_update().filter(
        place=place, period_kind=period_kind, period_start=start).first()
    if existing and existing.published:
        raise ActionError(_("本期通报已经发布，不能重新生成。"))
    now = timezone.now()
    data = bulletins.figures(place, start, end, now=now)
    title = bulletins.title(place, period_kind, start, end)
    if existing:
        before: Any = {"generated_at": existing.generated_at, "totals": existing.data.get("totals")}
        existing.data, existing.title, existing.generated_at = data, title, now
        existing.generated_by = _user(acting_user)
        existing.save(update_fields=["data", "title", "generated_at", "generated_by"])
        bulletin = existing
    else:
        before = None
        bulletin = Bulletin(period_kind=period_kind, period_start=start,
                            period_end=end - dt.timedelta(days=1), title=title, generated_at=now,
                            generated_by=_user(acting_user), data=data)
        bulletin.set_place(place)
        bulletin.save(force_insert=True)
    record("supervision.bulletin.generate", actor=acting_user, obj=bulletin, before=before,
           after={"period": [str(start), str(end)], "totals": data["totals"]})
    return bulletin


@transaction.atomic
def do_publish_bulletin(bulletin: Bulletin, *, acting_user) -> Bulletin:
    if not has_permission(acting_user, "matters.supervise", bulletin.place):
        raise ActionForbidden(_("您没有发布此通报的权限。"))
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.published:
        raise ActionError(_("此通报已经发布。"))
    bulletin.published = True
    bulletin.published_at = timezone.now()
    bulletin.published_by = _user(acting_user)
    bulletin.save(update_fields=["published", "published_at", "published_by"])
    record("supervision.bulletin.publish", actor=acting_user, obj=bulletin,
           after={"published": True, "totals": bulletin.data.get("totals")})
    return bulletin
