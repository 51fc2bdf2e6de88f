"""Every write of 晒: publishing matters on the board, and the life of honour and shame lists.

Matters are published by policy, from the workflow's hooks (registered in ``apps.py``): on
entering a stage of kind ``disclosure``, and on closing when the county's policy
``publish_on_close`` is true. Staff holding ``matters.publish`` may also publish a matter or
withdraw it (with a reason; the policy then leaves it withdrawn). A duplicate merged into
another matter is never published.

A list (红榜/黑榜) is drafted by someone with ``board.change``, submitted, approved by a
holder of ``matters.publish`` who is neither its author nor its submitter (four eyes),
published, and may be withdrawn with a reason. Names are published as written, so entries
containing a phone or ID number are refused.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters.models import EventKind, Matter, MatterEvent
from gongzhi.places.models import Place

from .anonymise import has_phone_or_id
from .models import EntryKind, HonourEntry, HonourList, ListKind, ListStatus, Withdrawal
from .public import BOARD_LEVELS

MAX_ENTRIES = 200


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


# ---------------------------------------------------------------------------------------------
# Matters on the board


@transaction.atomic
def do_publish_matter(matter: Matter, *, acting_user, by_policy: bool = False) -> Matter:
    """Put a matter on its places' boards (公示), once; a public "公示" step on its timeline.

    ``by_policy``: called from the workflow's hooks (no permission check; a matter withdrawn by
    hand stays withdrawn). Otherwise the acting user needs ``matters.publish`` at its place.
    """
    if not by_policy:  # the hooks run inside do_transition, which holds the lock already
        if not has_permission(acting_user, "matters.publish", matter.place):
            raise ActionForbidden(_("您没有公示事项的权限。"))
        matter = Matter.objects.select_for_update().get(pk=matter.pk)
    if matter.merged_into_id:
        if by_policy:
            return matter
        raise ActionError(_("已并入其他事项的重复事项不公示。"))
    if matter.is_public:
        return matter
    if by_policy and Withdrawal.objects.filter(matter_id=matter.pk).exists():
        return matter
    now = timezone.now()
    matter.is_public = True
    matter.published_at = now
    matter.save(update_fields=["is_public", "published_at", "updated_at"])
    MatterEvent.objects.create(county_id=matter.county_id, matter=matter, at=now,
                               actor=_user(acting_user), kind=EventKind.PUBLISHED,
                               summary=_("公示"), is_public=True,
                               data={"by_policy": by_policy})
    record("board.matter.publish", actor=acting_user, obj=matter,
           before={"is_public": False}, after={"is_public": True, "by_policy": by_policy})
    return matter


@transaction.atomic
def do_withdraw_matter(matter: Matter, *, acting_user, reason: str) -> Matter:
    """Take a matter off the board (e.g. its text names someone); the policy will not put it
    back. Needs ``matters.publish`` at the matter's place and a reason."""
    if not has_permission(acting_user, "matters.publish", matter.place):
        raise ActionForbidden(_("您没有撤下公示的权限。"))
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("请填写撤下公示的原因。"))
    if len(reason) > 300:
        raise ActionError(_("撤下原因不能超过300个字。"))
    matter = Matter.objects.select_for_update().get(pk=matter.pk)
    if not matter.is_public:
        raise ActionError(_("此事项没有公示。"))
    matter.is_public = False
    matter.save(update_fields=["is_public", "updated_at"])
    Withdrawal.objects.create(county_id=matter.county_id, matter=matter, reason=reason,
                              by=_user(acting_user))
    MatterEvent.objects.create(county_id=matter.county_id, matter=matter,
                               actor=_user(acting_user), kind=EventKind.NOTE,
                               summary=_("撤下公示"), comment=reason, is_public=False)
    record("board.matter.withdraw", actor=acting_user, obj=matter,
           before={"is_public": True}, after={"is_public": False, "reason": reason})
    return matter


def on_enter_disclosure(matter: Matter, stage: dict[str, Any], event, acting_user) -> None:
    """Workflow hook: a stage of kind disclosure (晒事, 公示) publishes the matter."""
    do_publish_matter(matter, acting_user=acting_user, by_policy=True)


def on_enter_closed(matter: Matter, stage: dict[str, Any], event, acting_user) -> None:
    """Workflow hook: closing publishes the matter where the policy ``publish_on_close`` says so."""
    from gongzhi.matters.actions import policy

    if policy(matter.county_id, "publish_on_close", False):
        do_publish_matter(matter, acting_user=acting_user, by_policy=True)


# ---------------------------------------------------------------------------------------------
# Honour and shame lists (红黑榜)


def _check_place(place: Place) -> None:
    if place.kind not in BOARD_LEVELS:
        raise ActionError(_("红黑榜只能由县（区）、镇（街道）或村（社区）发布。"))


def clean_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries as given (``name``, ``reason``, optional ``kind``), checked; raises ActionError.

    Names are published as written (that is what a list is), so a phone or ID number anywhere
    in an entry is refused rather than masked.
    """
    if len(entries) > MAX_ENTRIES:
        raise ActionError(_("一份榜单最多 %(n)d 条。") % {"n": MAX_ENTRIES})
    cleaned = []
    for i, entry in enumerate(entries, start=1):
        name = str(entry.get("name") or "").strip()
        reason = str(entry.get("reason") or "").strip()
        kind = entry.get("kind") or EntryKind.PERSON
        if not name:
            raise ActionError(_("第 %(n)d 条缺少名称。") % {"n": i})
        if not reason:
            raise ActionError(_("第 %(n)d 条“%(name)s”缺少事由。") % {"n": i, "name": name})
        if len(name) > 120 or len(reason) > 300:
            raise ActionError(_("第 %(n)d 条过长：名称不超过120个字，事由不超过300个字。")
                              % {"n": i})
        if kind not in EntryKind.values:
            raise ActionError(_("第 %(n)d 条的对象类型未知。") % {"n": i})
        if has_phone_or_id(name) or has_phone_or_id(reason):
            raise ActionError(_("第 %(n)d 条含有电话号码或身份证号。榜单会公开发布，"
                                "请删除号码后再保存。") % {"n": i})
        cleaned.append({"name": name, "reason": reason, "kind": kind})
    return cleaned


def _clean_fields(*, kind: str, title: str, period_label: str, period_start: date,
                  period_end: date, intro: str) -> dict[str, Any]:
    title, period_label, intro = (title or "").strip(), (period_label or "").strip(), (
        intro or "").strip()
    if kind not in ListKind.values:
        raise ActionError(_("请选择红榜或黑榜。"))
    if not title:
        raise ActionError(_("请填写榜单标题。"))
    if len(title) > 120 or len(period_label) > 40:
        raise ActionError(_("标题不能超过120个字，期别不能超过40个字。"))
    if not period_label:
        raise ActionError(_("请填写期别，例如“2026年第一季度”。"))
    if period_start is None or period_end is None:
        raise ActionError(_("请填写榜单的起止日期。"))
    if period_start > period_end:
        raise ActionError(_("起始日期不能晚于截止日期。"))
    if has_phone_or_id(title) or has_phone_or_id(intro):
        raise ActionError(_("标题或说明中含有电话号码或身份证号，请删除后再保存。"))
    return {"kind": kind, "title": title, "period_label": period_label,
            "period_start": period_start, "period_end": period_end, "intro": intro}


def _snapshot(hl: HonourList) -> dict[str, Any]:
    return {"status": hl.status, "kind": hl.kind, "title": hl.title,
            "period_label": hl.period_label, "period_start": hl.period_start,
            "period_end": hl.period_end, "intro": hl.intro,
            "entries": [{"kind": e.kind, "name": e.name, "reason": e.reason}
                        for e in hl.entries.all()]}


def _save_entries(hl: HonourList, entries: list[dict[str, Any]]) -> None:
    hl.entries.all().delete()
    HonourEntry.objects.bulk_create([
        HonourEntry(honour_list=hl, sort_order=i, **entry) for i, entry in enumerate(entries)
    ])


@transaction.atomic
def do_create_honour_list(*, place: Place, kind: str, title: str, period_label: str,
                          period_start: date, period_end: date, intro: str = "",
                          entries: list[dict[str, Any]] | None = None,
                          acting_user) -> HonourList:
    """Draft a list for a county, town or village (``board.change`` there)."""
    if not has_permission(acting_user, "board.change", place):
        raise ActionForbidden(_("您没有在该地编制红黑榜的权限。"))
    _check_place(place)
    fields = _clean_fields(kind=kind, title=title, period_label=period_label,
                           period_start=period_start, period_end=period_end, intro=intro)
    cleaned = clean_entries(entries or [])
    hl = HonourList(**fields, created_by=_user(acting_user))
    hl.set_place(place)
    hl.save(force_insert=True)
    _save_entries(hl, cleaned)
    record("board.list.create", actor=acting_user, obj=hl, after=_snapshot(hl))
    return hl


def _locked(hl: HonourList) -> HonourList:
    return HonourList.objects.select_for_update().select_related("place").get(pk=hl.pk)


@transaction.atomic
def do_update_honour_list(hl: HonourList, *, kind: str, title: str, period_label: str,
                          period_start: date, period_end: date, intro: str = "",
                          entries: list[dict[str, Any]], acting_user) -> HonourList:
    """Change a draft (a submitted list is returned to draft first)."""
    hl = _locked(hl)
    if not has_permission(acting_user, "board.change", hl.place):
        raise ActionForbidden(_("您没有编制红黑榜的权限。"))
    if hl.status != ListStatus.DRAFT:
        raise ActionError(_("只有草稿可以修改；已提交的榜单请先退回。"))
    before = _snapshot(hl)
    fields = _clean_fields(kind=kind, title=title, period_label=period_label,
                           period_start=period_start, period_end=period_end, intro=intro)
    cleaned = clean_entries(entries)
    for name, value in fields.items():
        setattr(hl, name, value)
    hl.save(update_fields=[*fields, "updated_at"])
    _save_entries(hl, cleaned)
    record("board.list.update", actor=acting_user, obj=hl, before=before, after=_snapshot(hl))
    return hl


@transaction.atomic
def do_submit_honour_list(hl: HonourList, *, acting_user) -> HonourList:
    """Send a draft for approval."""
    hl = _locked(hl)
    if not has_permission(acting_user, "board.change", hl.place):
        raise ActionForbidden(_("您没有提交红黑榜的权限。"))
    if hl.status != ListStatus.DRAFT:
        raise ActionError(_("只有草稿可以提交审批。"))
    if not hl.entries.exists():
        raise ActionError(_("榜单还没有任何条目，不能提交。"))
    hl.status = ListStatus.SUBMITTED
    hl.submitted_by = _user(acting_user)
    hl.submitted_at = timezone.now()
    hl.returned_reason = ""
    hl.save(update_fields=["status", "submitted_by", "submitted_at", "returned_reason",
                           "updated_at"])
    record("board.list.submit", actor=acting_user, obj=hl,
           before={"status": ListStatus.DRAFT}, after={"status": hl.status})
    return hl


def _check_approver(hl: HonourList, acting_user) -> None:
    if not has_permission(acting_user, "matters.publish", hl.place):
        raise ActionForbidden(_("您没有审批和发布红黑榜的权限。"))


@transaction.atomic
def do_return_honour_list(hl: HonourList, *, acting_user, reason: str) -> HonourList:
    """Send a submitted list back to its author as a draft, with the reason."""
    hl = _locked(hl)
    _check_approver(hl, acting_user)
    if hl.status != ListStatus.SUBMITTED:
        raise ActionError(_("只有待审批的榜单可以退回。"))
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("请填写退回原因。"))
    hl.status = ListStatus.DRAFT
    hl.returned_reason = reason[:300]
    hl.save(update_fields=["status", "returned_reason", "updated_at"])
    record("board.list.return", actor=acting_user, obj=hl,
           before={"status": ListStatus.SUBMITTED},
           after={"status": hl.status, "reason": hl.returned_reason})
    return hl


@transaction.atomic
def do_approve_honour_list(hl: HonourList, *, acting_user) -> HonourList:
    """Approve a submitted list: ``matters.publish``, and not by its author or submitter."""
    hl = _locked(hl)
    _check_approver(hl, acting_user)
    if hl.status != ListStatus.SUBMITTED:
        raise ActionError(_("只有待审批的榜单可以审批。"))
    if acting_user is not None and acting_user.pk in (hl.created_by_id, hl.submitted_by_id):
        raise ActionForbidden(_("榜单须由编制人、提交人以外的人审批。"))
    hl.status = ListStatus.APPROVED
    hl.approved_by = _user(acting_user)
    hl.approved_at = timezone.now()
    hl.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    record("board.list.approve", actor=acting_user, obj=hl,
           before={"status": ListStatus.SUBMITTED}, after={"status": hl.status})
    return hl


@transaction.atomic
def do_publish_honour_list(hl: HonourList, *, acting_user) -> HonourList:
    """Publish an approved list on its place's board (and those above it)."""
    hl = _locked(hl)
    _check_approver(hl, acting_user)
    if hl.status != ListStatus.APPROVED:
        raise ActionError(_("榜单须经审批后才能发布。"))
    hl.status = ListStatus.PUBLISHED
    hl.published_by = _user(acting_user)
    hl.published_at = timezone.now()
    hl.save(update_fields=["status", "published_by", "published_at", "updated_at"])
    record("board.list.publish", actor=acting_user, obj=hl,
           before={"status": ListStatus.APPROVED}, after={"status": hl.status})
    return hl


@transaction.atomic
def do_withdraw_honour_list(hl: HonourList, *, acting_user, reason: str) -> HonourList:
    """Take a published list off the board, with the reason."""
    hl = _locked(hl)
    _check_approver(hl, acting_user)
    if hl.status != ListStatus.PUBLISHED:
        raise ActionError(_("只有已发布的榜单可以撤回。"))
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("请填写撤回原因。"))
    if len(reason) > 300:
        raise ActionError(_("撤回原因不能超过300个字。"))
    hl.status = ListStatus.WITHDRAWN
    hl.withdrawn_by = _user(acting_user)
    hl.withdrawn_at = timezone.now()
    hl.withdraw_reason = reason
    hl.save(update_fields=["status", "withdrawn_by", "withdrawn_at", "withdraw_reason",
                           "updated_at"])
    record("board.list.withdraw", actor=acting_user, obj=hl,
           before={"status": ListStatus.PUBLISHED}, after={"status": hl.status, "reason": reason})
    return hl
