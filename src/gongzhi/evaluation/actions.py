"""Every write of 评: the reporter's request and rating, other evaluators' ratings, return
visits, reopening after 不满意, and the expiry of unanswered requests.

Policy (the locality's ``MatterSettings.policy``, from its preset):

``evaluation_days``      working days the reporter has to answer (default 7)
``evaluator_kinds``      who evaluates: ``reporter`` and any of ``party_member`` (党员议评),
                         ``unit`` (单位参评), ``department`` (部门协评), ``superior`` (上级考评)
``reopen_on``            whose 不满意 reopens the matter (default ``["reporter"]``)
``evaluation_aspects``   rated beside the overall answer (default attitude, efficiency, result;
                         安泽 adds ``effect``)

Locks are taken matter first, then request, everywhere (as the workflow engine does), so two
paths never wait on each other in opposite order.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.audit.log import record
from gongzhi.core import calendar
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters.actions import policy
from gongzhi.matters.models import EventKind, Matter, MatterEvent, StageKind
from gongzhi.matters.workflow import do_transition, workflow_of
from gongzhi.notifications.outbox import notify, reporter_of
from gongzhi.supervision import recipients

from . import tokens
from .models import (
    ASPECTS,
    DEFAULT_ASPECTS,
    Evaluation,
    EvaluationRequest,
    EvaluatorKind,
    Outcome,
    RequestStatus,
    Resolved,
    ReturnVisit,
    Satisfaction,
    Via,
)

MAX_COMMENT = 2000


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


def aspects_for(county_id: int) -> list[str]:
    wanted = policy(county_id, "evaluation_aspects", DEFAULT_ASPECTS) or DEFAULT_ASPECTS
    return [a for a in wanted if a in ASPECTS]


def evaluator_kinds(county_id: int) -> list[str]:
    kinds = policy(county_id, "evaluator_kinds", [EvaluatorKind.REPORTER]) or []
    kinds = [k for k in kinds if k in EvaluatorKind.values]
    return kinds if EvaluatorKind.REPORTER in kinds else [EvaluatorKind.REPORTER, *kinds]


def reopen_on(county_id: int) -> list[str]:
    return list(policy(county_id, "reopen_on", [EvaluatorKind.REPORTER]) or [])


def organisations_for(user, matter: Matter):
    """Units that may take part in rating a matter: those the user may see, and the county's
    own departments (public bodies every cadre of the county deals with)."""
    from gongzhi.places.models import Organisation

    visible = Organisation.objects.restrict(user, "view").filter(county_id=matter.county_id)
    county_level = Organisation.objects.filter(county_id=matter.county_id, town_id__isnull=True)
    return (visible | county_level).filter(is_active=True).distinct()


def reporter_user(matter: Matter) -> User | None:
    """The platform account of a reporter who is a registered person, if there is one."""
    if matter.is_anonymous or not matter.reporter_person_id:
        return None
    return User.objects.filter(person_id=matter.reporter_person_id, is_active=True).order_by(
        "pk").first()


def in_visit(matter: Matter, req: EvaluationRequest) -> bool:
    return (not matter.is_closed and matter.stage == req.stage
            and matter.stage_entered_at == req.stage_entered_at)


# ---------------------------------------------------------------------------------------------
# Hooks called by the workflow engine (inside its transaction)


def on_enter_evaluation(matter: Matter, stage: dict[str, Any], event, acting_user) -> None:
    """A matter entered a stage of kind evaluation: invite the reporter to rate it."""
    now = timezone.now()
    EvaluationRequest.objects.filter(matter=matter, status=RequestStatus.PENDING).update(
        status=RequestStatus.CANCELLED)
    days = int(policy(matter.county_id, "evaluation_days", 7) or 7)
    deadline = calendar.add_working_days(now, days)
    user = reporter_user(matter)
    try:
        with transaction.atomic():
            req = EvaluationRequest.objects.create(
                county_id=matter.county_id, matter=matter, stage=matter.stage,
                stage_entered_at=matter.stage_entered_at, round=matter.reopen_count + 1,
                reporter_user=user, created_at=now, expires_at=deadline.at,
                deadline_uncertain=deadline.uncertain,
            )
    except IntegrityError:
        return  # this stage visit has its request already
    resident = reporter_of(matter)
    if user is not None or resident is not None:
        # Once per request (its row is the guard): no dedupe key, so a second round's
        # invitation is not taken for the first one's.
        notify(event="evaluation_request", users=[user], url=tokens.link(req), matter=matter,
               residents=[resident],
               title=_("您反映的事项“%(title)s”已办理完毕，请评价办理结果。") % {
                   "title": matter.title},
               body=_("请在 %(deadline)s 前评价：满意、基本满意或不满意。") % {
                   "deadline": timezone.localtime(req.expires_at).strftime("%Y-%m-%d %H:%M")})
    record("evaluation.request.create", actor=acting_user, obj=req,
           after={"matter": matter.pk, "round": req.round, "expires_at": req.expires_at,
                  "reporter_user": user.pk if user else None})


def cancel_stale_requests(matter: Matter, transition, event, acting_user) -> None:
    """A matter left its evaluation stage by another way: its pending request stops working."""
    EvaluationRequest.objects.filter(matter=matter, status=RequestStatus.PENDING).exclude(
        stage=matter.stage, stage_entered_at=matter.stage_entered_at,
    ).update(status=RequestStatus.CANCELLED)


# ---------------------------------------------------------------------------------------------
# Ratings


def _clean_rating(county_id: int, outcome: str, aspects: dict[str, str] | None,
                  comment: str) -> tuple[dict[str, str], str]:
    if outcome not in Satisfaction.values:
        raise ActionError(_("请选择总体评价：满意、基本满意或不满意。"))
    allowed = aspects_for(county_id)
    cleaned = {}
    for name, value in (aspects or {}).items():
        if value in (None, ""):
            continue
        if name not in allowed:
            raise ActionError(_("本地的评价不包括“%(a)s”这一项。") % {"a": name})
        if value not in Satisfaction.values:
            raise ActionError(_("“%(a)s”的评价只能是满意、基本满意或不满意。") % {
                "a": str(ASPECTS[name])})
        cleaned[name] = value
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ActionError(_("意见不能超过2000字。"))
    return cleaned, comment


def _reopen(matter: Matter, evaluation: Evaluation, acting_user) -> Matter:
    """不满意: back to handling (the preset's ``dissatisfied`` transition) with a new deadline."""
    wf = workflow_of(matter.workflow)
    if wf.triggered(matter.stage, "dissatisfied") is None:
        return matter
    matter = do_transition(matter, "", acting_user=acting_user, trigger="dissatisfied",
                           comment=evaluation.comment)
    matter.reopen_count += 1
    fields = ["reopen_count"]
    if matter.due_at is not None and matter.stage_deadline is not None:
        matter.due_at = matter.stage_deadline  # the new handling deadline
        fields.append("due_at")
    matter.save(update_fields=fields)
    evaluation.reopened = True
    evaluation.save(update_fields=["reopened"])
    MatterEvent.objects.create(
        county_id=matter.county_id, matter=matter, actor=_user(acting_user),
        kind=EventKind.REOPENED, summary=_("重新办理（第%(n)d次）") % {"n": matter.reopen_count},
        data={"evaluation": evaluation.pk, "kind": evaluation.kind,
              "deadline": matter.stage_deadline.isoformat() if matter.stage_deadline else None},
        is_public=True,
    )
    users = recipients.responsible_users(matter)
    users += [u for u in recipients.queue_staff(matter) if u not in users]
    notify(event="matter_reopened", users=users, url=recipients.matter_url(matter), matter=matter,
           title=_("事项“%(title)s”评价为不满意，已第%(n)d次重新办理。") % {
               "title": matter.title, "n": matter.reopen_count},
           body=evaluation.comment)
    record("evaluation.matter.reopen", actor=acting_user, obj=matter,
           after={"evaluation": evaluation.pk, "reopen_count": matter.reopen_count,
                  "stage": matter.stage, "deadline": matter.stage_deadline})
    return matter


def _event(matter: Matter, evaluation: Evaluation, acting_user) -> None:
    if evaluation.outcome == Outcome.NO_ANSWER:
        summary = _("到期未评价")
    else:
        summary = _("%(kind)s：%(outcome)s") % {"kind": evaluation.get_kind_display(),
                                              "outcome": evaluation.get_outcome_display()}
    MatterEvent.objects.create(
        county_id=matter.county_id, matter=matter, actor=_user(acting_user),
        kind=EventKind.EVALUATION, summary=summary[:200],
        data={"evaluation": evaluation.pk, "kind": evaluation.kind,
              "outcome": evaluation.outcome, "via": evaluation.via},
        is_public=True,
    )


def _reporter_rates(matter: Matter, req: EvaluationRequest, *, outcome: str,
                    aspects: dict[str, str], comment: str, via: str, acting_user) -> Evaluation:
    """With the matter and the request locked: record the reporter's rating and move on."""
    now = timezone.now()
    if req.status == RequestStatus.ANSWERED:
        raise ActionError(_("此事项已经评价过了，感谢您的参与。"))
    if req.status == RequestStatus.EXPIRED or (req.status == RequestStatus.PENDING
                                               and req.is_expired(now)):
        raise ActionError(_("评价期限已过，无法再评价。如有意见，请联系村（社区）或拨打服务电话。"))
    if req.status == RequestStatus.CANCELLED or not in_visit(matter, req):
        raise ActionError(_("此评价链接已失效。"))
    aspects, comment = _clean_rating(matter.county_id, outcome, aspects, comment)
    evaluation = Evaluation.objects.create(
        county_id=matter.county_id, matter=matter, kind=EvaluatorKind.REPORTER, via=via,
        outcome=outcome, comment=comment, request=req, round=req.round,
        by=_user(acting_user), at=now, **aspects,
    )
    req.status = RequestStatus.ANSWERED
    req.answered_at = now
    req.save(update_fields=["status", "answered_at"])
    _event(matter, evaluation, acting_user)
    record("evaluation.evaluation.create", actor=acting_user, obj=evaluation,
           after={"matter": matter.pk, "kind": evaluation.kind, "via": via, "outcome": outcome,
                  "round": req.round, **aspects})
    if outcome == Satisfaction.DISSATISFIED and EvaluatorKind.REPORTER in reopen_on(
            matter.county_id):
        _reopen(matter, evaluation, acting_user)
    elif workflow_of(matter.workflow).triggered(matter.stage, "evaluated") is not None:
        # The reporter has answered: the evaluation is over. (A 不满意 that the locality does
        # not let reopen the matter is recorded as such, and counts as not satisfied.)
        do_transition(matter, "", acting_user=acting_user, trigger="evaluated")
    return evaluation


def _lock(req: EvaluationRequest) -> tuple[Matter, EvaluationRequest]:
    matter = Matter.objects.select_for_update().select_related("workflow").get(pk=req.matter_id)
    return matter, EvaluationRequest.objects.select_for_update().get(pk=req.pk)


@transaction.atomic
def do_submit_evaluation(req: EvaluationRequest, *, outcome: str,
                         aspects: dict[str, str] | None = None, comment: str = "") -> Evaluation:
    """The reporter answers through the link (no login): once, before the deadline."""
    matter, req = _lock(req)
    return _reporter_rates(matter, req, outcome=outcome, aspects=aspects or {}, comment=comment,
                           via=Via.LINK, acting_user=None)


@transaction.atomic
def do_record_evaluation(matter: Matter, *, acting_user, kind: str, outcome: str,
                         aspects: dict[str, str] | None = None, comment: str = "",
                         evaluator_name: str = "", organisation=None) -> Evaluation:
    """党员议评, 单位参评, 部门协评, 上级考评, entered by staff (``matters.evaluate``)."""
    if not has_permission(acting_user, "matters.evaluate", matter.place):
        raise ActionForbidden(_("您没有录入评价的权限。"))
    if kind == EvaluatorKind.REPORTER:
        raise ActionError(_("群众评价请通过评价链接提交，或在电话回访时记为群众评价。"))
    if kind not in EvaluatorKind.values:
        raise ActionError(_("未知的评价主体。"))
    if kind not in evaluator_kinds(matter.county_id):
        raise ActionError(_("本地未启用“%(k)s”。") % {"k": EvaluatorKind(kind).label})
    matter = Matter.objects.select_for_update().select_related("workflow", "place").get(
        pk=matter.pk)
    if matter.merged_into_id:
        raise ActionError(_("事项已并入其他事项，不能评价。"))
    if not matter.feedback_at and matter.stage_kind not in (StageKind.EVALUATION,
                                                            StageKind.CLOSED):
        raise ActionError(_("事项尚未反馈办理结果，暂不能评价。"))
    evaluator_name = (evaluator_name or "").strip()[:60]
    if kind in (EvaluatorKind.PARTY_MEMBER,) and not evaluator_name:
        raise ActionError(_("请填写参加议评的党员姓名。"))
    if kind in (EvaluatorKind.UNIT, EvaluatorKind.DEPARTMENT) and not (
            evaluator_name or organisation):
        raise ActionError(_("请选择或填写参评的单位。"))
    if organisation is not None and organisation.county_id != matter.county_id:
        raise ActionError(_("参评单位不属于本县区。"))
    aspects, comment = _clean_rating(matter.county_id, outcome, aspects, comment)
    evaluation = Evaluation.objects.create(
        county_id=matter.county_id, matter=matter, kind=kind, via=Via.STAFF, outcome=outcome,
        comment=comment, evaluator_name=evaluator_name or (
            str(acting_user.display_name or acting_user.get_username())
            if kind == EvaluatorKind.SUPERIOR else ""),
        organisation=organisation, round=matter.reopen_count + 1, by=_user(acting_user),
        **aspects,
    )
    _event(matter, evaluation, acting_user)
    record("evaluation.evaluation.create", actor=acting_user, obj=evaluation,
           after={"matter": matter.pk, "kind": kind, "via": Via.STAFF, "outcome": outcome,
                  "organisation": organisation.pk if organisation else None, **aspects})
    if (outcome == Satisfaction.DISSATISFIED and kind in reopen_on(matter.county_id)
            and matter.stage_kind == StageKind.EVALUATION):
        _reopen(matter, evaluation, acting_user)
    return evaluation


@transaction.atomic
def do_record_return_visit(matter: Matter, *, acting_user, reached: bool, resolved: str = "",
                           satisfaction: str = "", notes: str = "",
                           at: dt.datetime | None = None,
                           as_evaluation: bool = False) -> ReturnVisit:
    """回访: what the reporter said on the phone; optionally recorded as their evaluation."""
    if not has_permission(acting_user, "matters.evaluate", matter.place):
        raise ActionForbidden(_("您没有记录回访的权限。"))
    matter = Matter.objects.select_for_update().select_related("workflow", "place").get(
        pk=matter.pk)
    notes = (notes or "").strip()
    if not reached:
        resolved, satisfaction = "", ""
        as_evaluation = False
    if resolved and resolved not in Resolved.values:
        raise ActionError(_("请选择问题是否解决：已解决、部分解决或未解决。"))
    if satisfaction and satisfaction not in Satisfaction.values:
        raise ActionError(_("满意度只能是满意、基本满意或不满意。"))
    if len(notes) > MAX_COMMENT:
        raise ActionError(_("回访记录不能超过2000字。"))
    now = timezone.now()
    at = at or now
    if at > now + dt.timedelta(minutes=5):
        raise ActionError(_("回访时间不能晚于现在。"))
    visit = ReturnVisit(county_id=matter.county_id, matter=matter, by=_user(acting_user), at=at,
                        reached=reached, resolved=resolved, satisfaction=satisfaction,
                        notes=notes)
    if as_evaluation:
        if not satisfaction:
            raise ActionError(_("记为群众评价时，须选择反映人的满意度。"))
        req = EvaluationRequest.objects.select_for_update().filter(
            matter=matter, stage=matter.stage, stage_entered_at=matter.stage_entered_at,
        ).first()
        if req is None or matter.stage_kind != StageKind.EVALUATION:
            raise ActionError(_("事项当前不在评价环节，不能记为群众评价。"))
        visit.evaluation = _reporter_rates(matter, req, outcome=satisfaction, aspects={},
                                           comment=notes, via=Via.PHONE, acting_user=acting_user)
    visit.save(force_insert=True)
    summary = _("电话回访：已联系上反映人") if reached else _("电话回访：未联系上反映人")
    MatterEvent.objects.create(
        county_id=matter.county_id, matter=matter, actor=_user(acting_user), at=at,
        kind=EventKind.RETURN_VISIT, summary=summary, comment=notes,
        data={"return_visit": visit.pk, "resolved": resolved, "satisfaction": satisfaction},
    )
    record("evaluation.return_visit.create", actor=acting_user, obj=visit,
           after={"matter": matter.pk, "reached": reached, "resolved": resolved,
                  "satisfaction": satisfaction,
                  "evaluation": visit.evaluation_id})
    return visit


# ---------------------------------------------------------------------------------------------
# Expiry (a periodic step of the deadline scan)


def expire_evaluations(now: dt.datetime | None = None) -> dict[str, int]:
    """Requests past their deadline end as ``no_answer`` (never satisfied) and the matter takes
    its ``no_answer`` transition. Idempotent and safe in several processes at once."""
    now = now or timezone.now()
    counts: Counter[str] = Counter()
    pending = list(EvaluationRequest.objects.filter(
        status=RequestStatus.PENDING, expires_at__lte=now,
    ).order_by("expires_at", "pk").values_list("pk", "matter_id"))
    for pk, matter_id in pending:
        counts[_expire_one(pk, matter_id, now)] += 1
    return dict(counts)


@transaction.atomic
def _expire_one(pk: int, matter_id: int, now: dt.datetime) -> str:
    matter = Matter.objects.select_for_update(skip_locked=True).filter(pk=matter_id).first()
    if matter is None:
        return "skipped"
    req = EvaluationRequest.objects.select_for_update().filter(
        pk=pk, status=RequestStatus.PENDING).first()
    if req is None:
        return "skipped"  # answered or expired meanwhile
    evaluation = Evaluation.objects.create(
        county_id=matter.county_id, matter=matter, kind=EvaluatorKind.REPORTER, via=Via.SYSTEM,
        outcome=Outcome.NO_ANSWER, request=req, round=req.round, at=now,
    )
    req.status = RequestStatus.EXPIRED
    req.save(update_fields=["status"])
    _event(matter, evaluation, None)
    record("evaluation.request.expire", actor=None, obj=req,
           after={"matter": matter.pk, "evaluation": evaluation.pk, "outcome": "no_answer"})
    if in_visit(matter, req) and workflow_of(matter.workflow).triggered(
            matter.stage, "no_answer") is not None:
        do_transition(matter, "", acting_user=None, trigger="no_answer")
    return "expired"
