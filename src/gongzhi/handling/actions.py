"""Every write of 办: assignment, summons and check-in (吹哨报到), escalation, transfer and
mediation (说事评理). Pages, the API and jobs call these; each is atomic, checks before it
changes anything, writes the timeline and the audit chain, and notifies (the outbox is
delivered after commit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from gongzhi.accounts.models import RoleGrant, User
from gongzhi.audit.log import record
from gongzhi.core import calendar
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.core.registry import registry
from gongzhi.matters import workflow
from gongzhi.matters.actions import policy
from gongzhi.matters.models import EventKind, HandlingMode, Matter, MatterEvent, StageKind
from gongzhi.notifications.outbox import notify
from gongzhi.places.models import Organisation, Place, PlaceKind

from .access import may_act
from .models import (
    Assignment,
    Escalation,
    Mediation,
    MediationMethod,
    MediationOutcome,
    MediationWay,
    Summons,
    SummonsStatus,
)

DISPUTE_METHODS = (MediationMethod.PEOPLES, MediationMethod.ADMINISTRATIVE,
                   MediationMethod.JUDICIAL)
CONFIRMATION_DAYS = 30  # 人民调解法 第三十三条: 司法确认 within 30 days of the agreement
DEFAULT_CHECKIN_HOURS = 24
DEFAULT_URGENT_MINUTES = 30
DEFAULT_HANDLING_DAYS = 10
# Stages from which "总结归档" may close a matter through the workflow (not before acceptance).
NOT_ARCHIVABLE_FROM = (StageKind.INTAKE, StageKind.REVIEW, StageKind.ACCEPTANCE_NOTICE)


# ---------------------------------------------------------------------------------------------
# Helpers


def matter_url(matter: Matter) -> str:
    """The matter page, or this app's handling page until the matter page exists."""
    try:
        return reverse("matters:detail", kwargs={"pk": matter.pk})
    except NoReverseMatch:
        return reverse("handling:matter", kwargs={"pk": matter.pk})


def summonses_url() -> str:
    return reverse("handling:summonses")


def _actor(user):
    return user if getattr(user, "is_authenticated", False) else None


def _lock(matter: Matter) -> Matter:
    return Matter.objects.select_for_update().select_related(
        "workflow", "place", "queue_place").get(pk=matter.pk)


def _require(user, permission: str, matter: Matter, message: str) -> None:
    if not may_act(user, permission, matter):
        raise ActionForbidden(message)


def _require_open(matter: Matter) -> None:
    if matter.is_closed or matter.merged_into_id:
        raise ActionError(_("事项已办结或已合并，不能再办理。"))


def _check_org(matter: Matter, org: Organisation | None) -> None:
    if org is None:
        return
    if org.county_id != matter.county_id or not org.is_active:
        raise ActionError(_("单位“%(org)s”不属于本县（区）或已停用。") % {"org": org.name})
    if matter.is_complaint and matter.accused_organisation_id == org.pk:
        raise ActionError(_("投诉举报事项不能交给被投诉的单位办理。"))


def _check_user(matter: Matter, user: User, orgs: Sequence[Organisation]) -> None:
    if not user.is_active:
        raise ActionError(_("责任人的账号已停用。"))
    if matter.is_complaint and matter.accused_user_id == user.pk:
        raise ActionError(_("投诉举报事项不能交给被投诉人办理。"))
    if user.organisation_id and user.organisation_id in {o.pk for o in orgs}:
        return
    if not has_permission(user, "matters.handle", matter.place):
        raise ActionError(_("%(user)s无权办理该地的事项，不能作为责任人。") % {"user": user})


def organisation_users(*orgs: Organisation | None) -> list[User]:
    ids = [o.pk for o in orgs if o is not None]
    if not ids:
        return []
    return list(User.objects.filter(organisation_id__in=ids, is_active=True))


def level_staff(place: Place) -> list[User]:
    """The staff who take matters in ``place``'s queue: those granted the assigning roles there."""
    roles = registry.roles_with("matters.assign")
    return list(User.objects.filter(
        pk__in=RoleGrant.objects.filter(place=place, role__in=roles, is_active=True)
        .values("user_id"), is_active=True,
    ))


def _event(matter: Matter, kind: str, summary: str, *, acting_user, comment: str = "",
           data: dict[str, Any] | None = None, is_public: bool = False) -> MatterEvent:
    return MatterEvent.objects.create(
        county_id=matter.county_id, matter=matter, actor=_actor(acting_user), kind=kind,
        summary=summary[:200], comment=comment, data=data or {}, is_public=is_public,
    )


def _positive(value: Any, default: float) -> float:
    return value if isinstance(value, int | float) and value > 0 else default


def _handling_fields(matter: Matter) -> dict[str, Any]:
    return {"handling_mode": matter.handling_mode, "responsible_user": matter.responsible_user_id,
            "responsible_org": matter.responsible_org_id, "due_at": matter.due_at,
            "stage_deadline": matter.stage_deadline, "queue_place": matter.queue_place_id}


# ---------------------------------------------------------------------------------------------
# 交办: assignment


def default_due_at(matter: Matter, now: dt.datetime | None = None) -> dt.datetime:
    """The handling deadline when none is given: the current handling stage's deadline, else
    the time limit of the workflow's handling stage, else the locality's policy."""
    now = now or timezone.now()
    if matter.stage_kind == StageKind.HANDLING and matter.stage_deadline:
        return matter.stage_deadline
    wf = workflow.workflow_of(matter.workflow)
    stage = next((s for s in wf.stages() if s["kind"] == StageKind.HANDLING and s.get("limit")),
                 None)
    deadline = workflow.stage_deadline(matter, stage, now) if stage else None
    if deadline is not None:
        return deadline.at
    days = _positive(policy(matter.county_id, "handling_working_days", DEFAULT_HANDLING_DAYS),
                     DEFAULT_HANDLING_DAYS)
    return calendar.add_working_days(now, int(days)).at


@transaction.atomic
def do_assign(matter: Matter, *, acting_user, mode: str, responsible_user: User | None = None,
              responsible_org: Organisation | None = None,
              co_orgs: Iterable[Organisation] = (), due_at: dt.datetime | None = None,
              instructions: str = "") -> Assignment:
    """交办: who handles the matter (a person, a unit or both), how (自办/代办/联办), by when."""
    matter = _lock(matter)
    _require(acting_user, "matters.assign", matter, _("您不能在此层级交办该事项。"))
    _require_open(matter)
    if mode not in HandlingMode.values:
        raise ActionError(_("请选择办理方式：自办、代办或联办。"))
    if responsible_user is None and responsible_org is None:
        raise ActionError(_("请指定责任人或责任单位。"))
    co_orgs = [o for o in dict.fromkeys(co_orgs) if o != responsible_org]
    if mode == HandlingMode.JOINT and not co_orgs:
        raise ActionError(_("联办须指定至少一个联办单位。"))
    if mode != HandlingMode.JOINT and co_orgs:
        raise ActionError(_("只有联办才需要指定联办单位。"))
    for org in [responsible_org, *co_orgs]:
        _check_org(matter, org)
    if responsible_user is not None:
        _check_user(matter, responsible_user, [o for o in [responsible_org, *co_orgs] if o])
    now = timezone.now()
    if due_at is None:
        due_at = default_due_at(matter, now)
        explicit = False
    else:
        if timezone.is_naive(due_at):
            due_at = timezone.make_aware(due_at)
        if due_at <= now:
            raise ActionError(_("办理期限不能早于当前时间。"))
        explicit = True
    instructions = (instructions or "").strip()
    before = _handling_fields(matter)
    matter.handling_mode = mode
    matter.responsible_user = responsible_user
    matter.responsible_org = responsible_org
    matter.due_at = due_at
    fields = ["handling_mode", "responsible_user", "responsible_org", "due_at", "updated_at"]
    if explicit and matter.stage_kind == StageKind.HANDLING:
        matter.stage_deadline = due_at
        matter.deadline_uncertain = False
        fields += ["stage_deadline", "deadline_uncertain"]
    matter.save(update_fields=fields)
    assignment = Assignment.objects.create(
        county_id=matter.county_id, matter=matter, mode=mode, responsible_user=responsible_user,
        responsible_org=responsible_org, due_at=due_at, instructions=instructions,
        assigned_by=_actor(acting_user), assigned_at=now,
    )
    if co_orgs:
        assignment.co_orgs.set(co_orgs)
    mode_label = HandlingMode(mode).label
    if responsible_org is not None:
        summary = _("交办%(org)s办理（%(mode)s）") % {"org": responsible_org.name,
                                                   "mode": mode_label}
    else:
        summary = _("交办责任人办理（%(mode)s）") % {"mode": mode_label}
    _event(matter, EventKind.ASSIGNED, summary, acting_user=acting_user, comment=instructions,
           is_public=True,
           data={"assignment": assignment.pk, "mode": mode,
                 "responsible_user": responsible_user.pk if responsible_user else None,
                 "responsible_org": responsible_org.pk if responsible_org else None,
                 "co_orgs": [o.pk for o in co_orgs], "due_at": due_at.isoformat()})
    recipients = [responsible_user, *organisation_users(responsible_org, *co_orgs)]
    notify(event="handling.assigned", title=_("新交办事项：%(title)s") % {"title": matter.title},
           body=_("请在 %(due)s 前办结。%(instructions)s") % {
               "due": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M"),
               "instructions": instructions},
           users=list(dict.fromkeys(u for u in recipients if u is not None)),
           url=matter_url(matter), matter=matter)
    after = _handling_fields(matter)
    after.update(assignment=assignment.pk, co_orgs=[o.pk for o in co_orgs],
                 instructions=instructions)
    record("handling.matter.assign", actor=acting_user, obj=matter, before=before, after=after)
    return assignment


@transaction.atomic
def do_bulk_assign(matters: Iterable[Matter], *, acting_user, **kwargs: Any) -> list[Assignment]:
    """Assign several matters alike (the workbench): all of them, or none if one is refused."""
    matters = list(matters)
    if not matters:
        raise ActionError(_("请至少选择一件事项。"))
    done = []
    for matter in matters:
        try:
            done.append(do_assign(matter, acting_user=acting_user, **kwargs))
        except ActionForbidden as exc:
            raise ActionForbidden(_("事项 %(code)s：%(error)s") % {
                "code": matter.tracking_code, "error": exc}) from exc
        except ActionError as exc:
            raise ActionError(_("事项 %(code)s：%(error)s") % {
                "code": matter.tracking_code, "error": " ".join(exc.messages)}) from exc
    return done


# ---------------------------------------------------------------------------------------------
# 吹哨报到: summons and check-in


def check_in_due(matter: Matter, now: dt.datetime, urgent: bool) -> dt.datetime:
    """Calendar time (a department answers a whistle at any hour): policy hours, or minutes
    when urgent."""
    if urgent:
        minutes = _positive(policy(matter.county_id, "urgent_checkin_minutes",
                                   DEFAULT_URGENT_MINUTES), DEFAULT_URGENT_MINUTES)
        return now + dt.timedelta(minutes=minutes)
    hours = _positive(policy(matter.county_id, "summons_checkin_hours", DEFAULT_CHECKIN_HOURS),
                      DEFAULT_CHECKIN_HOURS)
    return now + dt.timedelta(hours=hours)


@transaction.atomic
def do_summon(matter: Matter, organisations: Iterable[Organisation], *, acting_user,
              reason: str, urgent: bool = False) -> list[Summons]:
    """吹哨: summon one or more units, each of which must check in (报到) by a deadline."""
    matter = _lock(matter)
    _require(acting_user, "matters.whistle", matter, _("您没有在此事项上吹哨召集部门的权限。"))
    _require_open(matter)
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("请说明吹哨事由。"))
    orgs = list(dict.fromkeys(organisations))
    if not orgs:
        raise ActionError(_("请选择要召集的单位。"))
    for org in orgs:
        _check_org(matter, org)
    pending = (Summons.objects.filter(matter=matter, organisation__in=orgs,
                                      status__in=[SummonsStatus.WAITING, SummonsStatus.CHECKED_IN])
               .select_related("organisation").first())
    if pending is not None:
        raise ActionError(_("已向%(org)s吹哨且尚未处置完毕，不能重复吹哨。")
                          % {"org": pending.organisation.name})
    now = timezone.now()
    due = check_in_due(matter, now, urgent)
    created = [
        Summons.objects.create(county_id=matter.county_id, matter=matter, organisation=org,
                               reason=reason, is_urgent=urgent, summoned_by=_actor(acting_user),
                               summoned_at=now, check_in_due=due)
        for org in orgs
    ]
    names = "、".join(o.name for o in orgs)
    _event(matter, EventKind.SUMMONS, _("吹哨召集：%(orgs)s") % {"orgs": names},
           acting_user=acting_user, comment=reason, is_public=True,
           data={"summons": [s.pk for s in created], "urgent": urgent,
                 "check_in_due": due.isoformat()})
    title = (_("紧急吹哨，请立即报到：%(title)s") if urgent else _("吹哨报到：%(title)s")) % {
        "title": matter.title}
    notify(event="handling.summoned", title=title,
           body=_("请在 %(due)s 前报到。事由：%(reason)s") % {
               "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"), "reason": reason},
           users=organisation_users(*orgs), url=summonses_url(), matter=matter,
           context={"due": due, "urgent": urgent}, urgent=urgent)
    for summons in created:
        record("handling.summons.create", actor=acting_user, obj=summons,
               after={"matter": matter.pk, "organisation": summons.organisation_id,
                      "urgent": urgent, "check_in_due": due, "reason": reason})
    return created


def _lock_summons(summons: Summons) -> Summons:
    return (Summons.objects.select_for_update(of=("self",))
            .select_related("matter", "matter__place", "organisation").get(pk=summons.pk))


def _require_member(user, summons: Summons) -> None:
    if not (getattr(user, "is_authenticated", False)
            and getattr(user, "organisation_id", None) == summons.organisation_id
            and has_permission(user, "handling.check_in", summons.matter.place)):
        raise ActionForbidden(_("只有被召集单位的联络员才能报到和填写处置情况。"))


@transaction.atomic
def do_check_in(summons: Summons, *, acting_user, note: str = "") -> Summons:
    """报到: the summoned unit's liaison checks in; late if after the deadline."""
    summons = _lock_summons(summons)
    _require_member(acting_user, summons)
    if summons.status == SummonsStatus.CANCELLED:
        raise ActionError(_("该吹哨已撤回，无需报到。"))
    if summons.checked_in_at is not None:
        raise ActionError(_("本单位已于 %(at)s 报到。") % {
            "at": timezone.localtime(summons.checked_in_at).strftime("%Y-%m-%d %H:%M")})
    now = timezone.now()
    summons.checked_in_at = now
    summons.checked_in_by = acting_user
    summons.is_late = now > summons.check_in_due
    summons.check_in_note = (note or "").strip()
    summons.status = SummonsStatus.CHECKED_IN
    summons.save(update_fields=["checked_in_at", "checked_in_by", "is_late", "check_in_note",
                                "status"])
    org = summons.organisation.name
    summary = (_("%(org)s迟到报到") if summons.is_late else _("%(org)s按时报到")) % {"org": org}
    _event(summons.matter, EventKind.CHECK_IN, summary, acting_user=acting_user,
           comment=summons.check_in_note, is_public=True,
           data={"summons": summons.pk, "late": summons.is_late})
    if summons.summoned_by_id:
        notify(event="handling.checked_in", title=_("%(org)s已报到：%(title)s") % {
            "org": org, "title": summons.matter.title},
            users=[summons.summoned_by], url=matter_url(summons.matter), matter=summons.matter)
    record("handling.summons.check_in", actor=acting_user, obj=summons,
           before={"status": SummonsStatus.WAITING},
           after={"status": summons.status, "checked_in_at": now, "late": summons.is_late,
                  "note": summons.check_in_note})
    return summons


@transaction.atomic
def do_record_summons_action(summons: Summons, *, acting_user, action_taken: str,
                             done: bool = True) -> Summons:
    """What the summoned unit did; ``done`` closes its part."""
    summons = _lock_summons(summons)
    _require_member(acting_user, summons)
    if summons.status == SummonsStatus.CANCELLED:
        raise ActionError(_("该吹哨已撤回。"))
    if summons.status == SummonsStatus.WAITING:
        raise ActionError(_("请先报到，再填写处置情况。"))
    if summons.status == SummonsStatus.DONE:
        raise ActionError(_("本单位已处置完毕，不能再修改处置情况。"))
    action_taken = (action_taken or "").strip()
    if not action_taken:
        raise ActionError(_("请填写处置情况。"))
    before = {"status": summons.status, "action_taken": summons.action_taken}
    summons.action_taken = action_taken
    fields = ["action_taken"]
    if done:
        summons.status = SummonsStatus.DONE
        summons.done_at = timezone.now()
        fields += ["status", "done_at"]
    summons.save(update_fields=fields)
    org = summons.organisation.name
    summary = (_("%(org)s处置完毕") if done else _("%(org)s处置进展")) % {"org": org}
    _event(summons.matter, EventKind.SUMMONS, summary, acting_user=acting_user,
           comment=action_taken, is_public=done, data={"summons": summons.pk, "done": done})
    if done and summons.summoned_by_id:
        notify(event="handling.summons_done", title=_("%(org)s已处置完毕：%(title)s") % {
            "org": org, "title": summons.matter.title}, body=action_taken,
            users=[summons.summoned_by], url=matter_url(summons.matter), matter=summons.matter)
    record("handling.summons.action", actor=acting_user, obj=summons, before=before,
           after={"status": summons.status, "action_taken": action_taken, "done": done})
    return summons


# ---------------------------------------------------------------------------------------------
# 提级上报 and 移交处置


def upper_level(place: Place) -> Place | None:
    """The level above a queue: village (or below) → town → county; None at the county."""
    if place.kind == PlaceKind.COUNTY:
        return None
    if place.kind != PlaceKind.TOWN and place.town_id:
        return Place.objects.get(pk=place.town_id)
    return Place.objects.get(pk=place.county_id)


@transaction.atomic
def do_escalate(matter: Matter, *, acting_user, reason: str,
                automatic: bool = False) -> Escalation:
    """提级上报: the matter joins the queue of the level above, with its whole history.

    The level above assigns it anew (the previous responsible person and unit are released) and
    the current stage's time limit starts again there. ``automatic`` is for the deadline job,
    which acts by the locality's policy rather than by a person's permission.
    """
    matter = _lock(matter)
    if not automatic:
        _require(acting_user, "handling.escalate", matter, _("您不能在此层级提级上报该事项。"))
    _require_open(matter)
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("请说明提级上报的理由。"))
    current = matter.queue_place
    upper = upper_level(current)
    if upper is None:
        raise ActionError(_("事项已在县（区）一级办理，不能再提级上报。"))
    before = _handling_fields(matter)
    now = timezone.now()
    matter.queue_place = upper
    matter.escalation_count += 1
    matter.handling_mode = ""
    matter.responsible_user = None
    matter.responsible_org = None
    matter.due_at = None
    fields = ["queue_place", "escalation_count", "handling_mode", "responsible_user",
              "responsible_org", "due_at", "updated_at"]
    stage = workflow.workflow_of(matter.workflow).stage(matter.stage)
    deadline = workflow.stage_deadline(matter, stage, now)
    if deadline is not None:
        matter.stage_deadline = deadline.at
        matter.deadline_uncertain = deadline.uncertain
        fields += ["stage_deadline", "deadline_uncertain"]
    matter.save(update_fields=fields)
    escalation = Escalation.objects.create(
        county_id=matter.county_id, matter=matter, kind=Escalation.Kind.ESCALATE,
        from_place=current, to_place=upper, reason=reason, is_automatic=automatic,
        by=_actor(acting_user), at=now,
    )
    _event(matter, EventKind.ESCALATED, _("提级上报至%(place)s") % {"place": upper.name},
           acting_user=acting_user, comment=reason, is_public=True,
           data={"escalation": escalation.pk, "from": current.pk, "to": upper.pk,
                 "automatic": automatic})
    notify(event="handling.escalated", title=_("提级上报事项：%(title)s") % {"title": matter.title},
           body=_("%(from)s提级上报。理由：%(reason)s") % {"from": current.name, "reason": reason},
           users=level_staff(upper), url=matter_url(matter), matter=matter)
    after = _handling_fields(matter)
    after.update(escalation=escalation.pk, escalation_count=matter.escalation_count,
                 automatic=automatic, reason=reason)
    record("handling.matter.escalate", actor=acting_user, obj=matter, before=before, after=after)
    return escalation


@transaction.atomic
def do_transfer(matter: Matter, *, acting_user, organisation: Organisation,
                reason: str) -> Escalation:
    """移交处置: hand the matter to another body (综合执法, 派出所 ...), which becomes
    responsible for it."""
    matter = _lock(matter)
    _require(acting_user, "handling.transfer", matter, _("您不能在此层级移交该事项。"))
    _require_open(matter)
    if organisation is None:
        raise ActionError(_("请选择接收单位。"))
    _check_org(matter, organisation)
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("请说明移交的理由。"))
    if matter.responsible_org_id == organisation.pk:
        raise ActionError(_("该事项已由%(org)s负责。") % {"org": organisation.name})
    before = _handling_fields(matter)
    matter.responsible_org = organisation
    fields = ["responsible_org", "updated_at"]
    if matter.responsible_user_id and matter.responsible_user.organisation_id != organisation.pk:
        matter.responsible_user = None
        fields.append("responsible_user")
    matter.save(update_fields=fields)
    transfer = Escalation.objects.create(
        county_id=matter.county_id, matter=matter, kind=Escalation.Kind.TRANSFER,
        from_place=matter.queue_place, to_org=organisation, reason=reason,
        by=_actor(acting_user),
    )
    _event(matter, EventKind.TRANSFERRED, _("移交%(org)s处置") % {"org": organisation.name},
           acting_user=acting_user, comment=reason, is_public=True,
           data={"escalation": transfer.pk, "to_org": organisation.pk})
    notify(event="handling.transferred",
           title=_("移交处置事项：%(title)s") % {"title": matter.title}, body=reason,
           users=organisation_users(organisation), url=matter_url(matter), matter=matter)
    after = _handling_fields(matter)
    after.update(escalation=transfer.pk, reason=reason)
    record("handling.matter.transfer", actor=acting_user, obj=matter, before=before, after=after)
    return transfer


# ---------------------------------------------------------------------------------------------
# 说事评理: the ways, the mediation agreement, the three outcomes


def _clean_parties(parties: Iterable[Any]) -> list[dict[str, str]]:
    out = []
    for party in parties or []:
        if isinstance(party, str):
            party = {"name": party}
        if not isinstance(party, dict):
            raise ActionError(_("当事人的写法有误。"))
        name = str(party.get("name") or "").strip()
        if not name:
            continue
        item = {"name": name[:60]}
        contact = str(party.get("contact") or "").strip()
        if contact:
            item["contact"] = contact[:60]
        out.append(item)
    return out


def _clean_terms(terms: Iterable[Any]) -> list[dict[str, str]]:
    out = []
    for n, term in enumerate(terms or [], start=1):
        if not isinstance(term, dict):
            raise ActionError(_("协议事项的写法有误。"))
        what = str(term.get("what") or "").strip()
        who = str(term.get("who") or "").strip()
        by = term.get("by")
        by_date = by if isinstance(by, dt.date) else parse_date(str(by or "").strip()[:10])
        if not (what or who or by):
            continue
        if not (what and who and by_date):
            raise ActionError(_("协议事项第 %(n)d 项须写明做什么、由谁做、何时完成。") % {"n": n})
        out.append({"what": what[:500], "who": who[:120], "by": by_date.isoformat()})
    return out


def _archive_transition(matter: Matter, user) -> dict[str, Any] | None:
    """A transition the user may take from the current stage straight to a closed stage."""
    if matter.stage_kind in NOT_ARCHIVABLE_FROM:
        return None
    wf = workflow.workflow_of(matter.workflow)
    for t in workflow.available_transitions(matter, user):
        requires = t.get("requires") or {}
        if wf.stage(t["to"])["kind"] != StageKind.CLOSED or requires.get("attachment"):
            continue
        if set(requires.get("fields", [])) <= {"outcome", "outcome_text"}:
            return t
    return None


@transaction.atomic
def do_record_mediation(matter: Matter, *, acting_user, way: str, method: str = "",
                        parties: Iterable[Any] = (), consent: bool = False, facts: str = "",
                        responsibilities: str = "", terms: Iterable[Any] = (),
                        work_record: str = "", signed_at: dt.datetime | dt.date | None = None,
                        outcome: str = "", outcome_reason: str = "",
                        transfer_to: Organisation | None = None) -> Mediation:
    """Record how a matter was weighed (说事评理) and, for a dispute, the mediation.

    Mediation of a dispute (人民/行政/司法调解) needs both parties' consent; a signed agreement
    states the parties, the facts, the responsibilities and the terms (what, by whom, by when),
    and either party may ask a court to confirm it within 30 days. ``outcome``: 总结归档 closes
    the matter if its workflow has a path to closed from here (otherwise it is recorded only),
    提级上报 escalates it, 移交处置 transfers it to ``transfer_to``.
    """
    matter = _lock(matter)
    _require(acting_user, "handling.mediate", matter, _("您不能在此层级记录说事评理。"))
    _require_open(matter)
    if way not in MediationWay.values:
        raise ActionError(_("请选择评理方式。"))
    method = method or ""
    if method and method not in MediationMethod.values:
        raise ActionError(_("未知的处置方式。"))
    if way == MediationWay.LEGAL and not method:
        raise ActionError(_("法治事件剖析评须选择处置方式：劝诫、人民调解、行政调解或司法调解。"))
    if outcome and outcome not in MediationOutcome.values:
        raise ActionError(_("未知的评理结果。"))
    parties = _clean_parties(parties)
    terms = _clean_terms(terms)
    facts, responsibilities = (facts or "").strip(), (responsibilities or "").strip()
    work_record = (work_record or "").strip()
    if method in DISPUTE_METHODS:
        if not consent:
            raise ActionError(_("调解须经双方当事人同意，请先确认双方同意调解。"))
        if len(parties) < 2:
            raise ActionError(_("调解须列明双方当事人。"))
    if signed_at is not None and not isinstance(signed_at, dt.datetime):
        signed_at = timezone.make_aware(dt.datetime.combine(signed_at, dt.time(12)))
    elif signed_at is not None and timezone.is_naive(signed_at):
        signed_at = timezone.make_aware(signed_at)
    confirmation_deadline = None
    if signed_at is not None:
        if signed_at > timezone.now():
            raise ActionError(_("签字日期不能晚于今天。"))
        missing = [label for label, ok in (
            (_("当事人（至少两方）"), len(parties) >= 2), (_("基本事实"), bool(facts)),
            (_("责任认定"), bool(responsibilities)), (_("协议事项"), bool(terms)),
        ) if not ok]
        if missing:
            raise ActionError(_("调解协议须写明：%(fields)s。") % {"fields": "、".join(missing)})
        confirmation_deadline = timezone.localdate(signed_at) + dt.timedelta(
            days=CONFIRMATION_DAYS)
    if outcome == MediationOutcome.TRANSFER and transfer_to is None:
        raise ActionError(_("移交处置须选择接收单位。"))
    mediation = Mediation.objects.create(
        county_id=matter.county_id, matter=matter, way=way, method=method, parties=parties,
        consent=bool(consent), facts=facts, responsibilities=responsibilities, terms=terms,
        work_record=work_record, signed_at=signed_at,
        confirmation_deadline=confirmation_deadline, outcome=outcome,
        mediator=_actor(acting_user),
    )
    summary = _("说事评理：%(way)s") % {"way": MediationWay(way).label}
    if method:
        summary = _("%(summary)s（%(method)s）") % {"summary": summary,
                                                 "method": MediationMethod(method).label}
    if signed_at is not None:
        summary = _("%(summary)s，达成调解协议") % {"summary": summary}
    _event(matter, EventKind.MEDIATION, summary, acting_user=acting_user, is_public=True,
           data={"mediation": mediation.pk, "way": way, "method": method,
                 "agreement": signed_at is not None, "outcome": outcome})
    record("handling.mediation.create", actor=acting_user, obj=mediation,
           after={"matter": matter.pk, "way": way, "method": method, "parties": parties,
                  "consent": bool(consent), "facts": facts,
                  "responsibilities": responsibilities, "terms": terms,
                  "signed_at": signed_at, "confirmation_deadline": confirmation_deadline,
                  "outcome": outcome})
    reason = (outcome_reason or "").strip()
    if outcome == MediationOutcome.ESCALATE:
        do_escalate(matter, acting_user=acting_user,
                    reason=reason or _("说事评理未能化解，提级上报。"))
    elif outcome == MediationOutcome.TRANSFER:
        do_transfer(matter, acting_user=acting_user, organisation=transfer_to,
                    reason=reason or _("说事评理后移交处置。"))
    elif outcome == MediationOutcome.ARCHIVE:
        t = _archive_transition(matter, acting_user)
        if t is not None:
            workflow.do_transition(
                matter, t["key"], acting_user=acting_user,
                comment=reason or _("说事评理，总结归档。"),
                fields={"outcome": "solved", "outcome_text": reason or facts or summary},
            )
    return mediation


# ---------------------------------------------------------------------------------------------
# Reporting the result (办结) through the workflow


def result_transitions(matter: Matter, user) -> list[dict[str, Any]]:
    """The transitions available to ``user`` that report a handling outcome."""
    return [t for t in workflow.available_transitions(matter, user)
            if "outcome" in (t.get("requires") or {}).get("fields", [])]


def do_report_result(matter: Matter, key: str, *, acting_user, outcome: str, outcome_text: str,
                     explanation: str = "", comment: str = "",
                     attachments: list | None = None) -> Matter:
    """办结: take the workflow transition that records the outcome. "Cannot be solved" needs
    the explanation given to the resident (the engine refuses it otherwise)."""
    return workflow.do_transition(
        matter, key, acting_user=acting_user, comment=comment, attachments=attachments,
        fields={"outcome": outcome, "outcome_text": (outcome_text or "").strip(),
                "explanation": (explanation or "").strip()},
    )
