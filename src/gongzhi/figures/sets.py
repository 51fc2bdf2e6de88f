"""The definitions: every figure gongzhi quotes, each counted by one query below.

``docs/figures.md`` says the same in words, figure by figure; keep the two identical in
meaning. Common rules:

- **Place.** A row belongs to the place its matter is about (``Matter.place`` and its ancestor
  columns), so a village's figures roll up into its town and county by ``GROUP BY``. A matter
  escalated from the village to the town stays the village's matter: it is counted once, under
  its village, whatever level handles it.
- **Merged duplicates** (``merged_into`` set) are not separate matters: they are left out
  everywhere; the matter they joined is counted.
- **Complaints** (投诉举报) are counted like every other ledger.
- **Periods** are half-open, ``[start, end)``. Figures about matters follow the *cohort*
  received in the period and say what became of it by ``end``.
- **Department** is the matter's responsible unit (``responsible_org``) and **cadre** its
  responsible person (``responsible_user``), as they stand now (after an escalation, whoever
  handles it at the level above). For summonses, the department is the summoned unit and the
  cadre the one who blew the whistle.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from gongzhi.evaluation.models import (
    Evaluation,
    EvaluationRequest,
    EvaluatorKind,
    Outcome,
    Resolved,
    ReturnVisit,
)
from gongzhi.handling.models import Summons, SummonsStatus
from gongzhi.matters.models import Matter

from .clock import PASSIVE_KINDS
from .registry import ALL, FigureSet, Query, Ratio, register_figure_set, register_ratio
from .workdays import workday_ordinals


def grouped(qs: QuerySet, group_field: str | None, **aggregates) -> dict[Any, dict[str, int]]:
    """One ``GROUP BY`` (or one aggregate when ungrouped): {group value: {name: count}}."""
    qs = qs.order_by()
    named = {f"n_{name}": agg for name, agg in aggregates.items()}  # never clash with fields
    if group_field is None:
        row = qs.aggregate(**named)
        return {ALL: {name: row[f"n_{name}"] or 0 for name in aggregates}}
    return {
        row[group_field]: {name: row[f"n_{name}"] or 0 for name in aggregates}
        for row in qs.values(group_field).annotate(**named)
    }


def received_matters(q: Query, fs: FigureSet) -> QuerySet[Matter]:
    """The cohort: matters under the place whose ``created_at`` is in [start, end), merged
    duplicates left out."""
    return Matter.objects.filter(q.scope.scope_q(), q.filter_q(fs), merged_into__isnull=True,
                                 created_at__gte=q.start, created_at__lt=q.end)


# ---------------------------------------------------------------------------------------------
# Matters received, and what became of them


def matters(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    """Matters received in the period and what became of them by its end.

    - ``received`` (收到事项数): the cohort — matters whose ``created_at`` is in
      [start, end), every channel and ledger, merged duplicates left out.
    - ``closed`` (办结数): of the cohort, those that reached a stage of kind *closed* before
      ``end`` (``is_closed`` and ``closed_at < end``), whatever the outcome: 不予受理 and
      "unsolvable, explained" close too. Closed is not solved (see 解决率, 满意率).
    - ``closed_on_time`` (按期办结数): of ``closed``, those with no *late* visit to a stage of
      kind handling (``MatterClock.late_handling_visits = 0``). A visit is late when it ended
      after the deadline then in force, or a deadline in force passed and was replaced while
      it ran; an extension given before the deadline passed counts. Every handling round
      counts: a matter late in its second round after 不满意 is not on time. A matter closed
      without handling (不予受理) is on time. A matter whose clock did not follow it from the
      start (``MatterClock.from_start`` false) is not counted: its earlier visits are unknown.
    - ``responded_in_time`` (按时响应数): of the cohort, those that left their first stage
      (``accepted_at < end``, which 不予受理 also sets) and whose first-stage visit was not
      late (``MatterClock.response_late`` false). A first stage without a time limit is never
      late.
    - ``reached_evaluation`` (进入评价数): of the cohort, those invited to be rated (an
      ``EvaluationRequest``, made on entering a stage of kind evaluation) before ``end``.
    - ``reopened`` (重办数): of ``reached_evaluation``, those that a rating given before
      ``end`` sent back to be handled again (``Evaluation.reopened``), counted once however
      often.

    Rates: 办结率 = closed ÷ received; 按期办结率 = closed_on_time ÷ closed;
    响应率 = responded_in_time ÷ received; 重办率 = reopened ÷ reached_evaluation.
    """
    end = q.end
    closed = Q(is_closed=True, closed_at__lt=end)
    invited = Exists(EvaluationRequest.objects.filter(matter=OuterRef("pk"), created_at__lt=end))
    reopened = Exists(Evaluation.objects.filter(matter=OuterRef("pk"), reopened=True,
                                                at__lt=end))
    return grouped(
        received_matters(q, fs), q.group_field(fs),
        received=Count("pk"),
        closed=Count("pk", filter=closed),
        closed_on_time=Count("pk", filter=closed & Q(clock__from_start=True,
                                                         clock__late_handling_visits=0)),
        responded_in_time=Count("pk", filter=Q(accepted_at__lt=end,
                                               clock__response_late=False)),
        reached_evaluation=Count("pk", filter=Q(invited)),
        reopened=Count("pk", filter=Q(invited) & Q(reopened)),
    )


def handling_time(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    """Working days from acceptance to closing, over the matters of the cohort handled and
    closed by the period's end.

    - ``handled`` (办结且有办理结果数): of the cohort, closed before ``end`` with an outcome
      (solved, partly solved, or unsolvable and explained) — 不予受理, which has none, is left
      out, as are matters never accepted.
    - ``handling_days``: the sum over them of the working days from ``accepted_at`` to
      ``closed_at`` in local time, as :func:`gongzhi.core.calendar.working_days_between`
      counts them: working days after the day of acceptance up to and including the day of
      closing (accepted and closed the same day: 0). The time waiting for the resident's
      rating is included: it is the time until the matter was done with.

    平均办理用时 = handling_days ÷ handled, in working days.

    One query (rows grouped by day of acceptance and of closing), then one ordinal per date of
    the period from the official calendar.
    """
    tz = timezone.get_current_timezone()
    group = q.group_field(fs)
    rows = (received_matters(q, fs)
            .filter(is_closed=True, closed_at__lt=q.end, accepted_at__isnull=False)
            .exclude(outcome="")
            .annotate(accepted_day=TruncDate("accepted_at", tzinfo=tz),
                      closed_day=TruncDate("closed_at", tzinfo=tz))
            .order_by()
            .values(*([group] if group else []), "accepted_day", "closed_day")
            .annotate(n=Count("pk")))
    rows = list(rows)
    out: dict[Any, dict[str, int]] = {} if group else {ALL: {"handled": 0, "handling_days": 0}}
    if not rows:
        return out
    ordinals = workday_ordinals(min(r["accepted_day"] for r in rows),
                                max(r["closed_day"] for r in rows))
    for r in rows:
        counts = out.setdefault(r[group] if group else ALL, {"handled": 0, "handling_days": 0})
        days = max(0, ordinals[r["closed_day"]] - ordinals[r["accepted_day"]])
        counts["handled"] += r["n"]
        counts["handling_days"] += days * r["n"]
    return out


# ---------------------------------------------------------------------------------------------
# What residents said


def satisfaction(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    """The reporters' ratings (群众评价) given in the period: the last one per matter.

    Counted: ``Evaluation`` rows of kind *reporter* — through the link, recorded from a return
    visit, or ``no_answer`` recorded when the time to answer ran out — with ``at`` in
    [start, end), on matters under the place (merged duplicates left out). When a matter was
    rated more than once in the period (不满意, handled again, rated again), only its **last**
    rating in the period counts, so each matter has one voice per period: 不满意 then 满意 in
    the same month counts as 满意; 不满意 in March and 满意 in April counts once in each month.
    The other evaluators (党员议评, 单位参评, 部门协评, 上级考评) are not counted here.

    - ``satisfied`` (满意), ``basic`` (基本满意), ``dissatisfied`` (不满意),
      ``no_answer`` (未评价: the time ran out; never counted as satisfied);
    - ``answered`` = satisfied + basic + dissatisfied.

    满意率 = (satisfied + basic) ÷ answered, with ``no_answer`` shown beside it.
    """
    later = Evaluation.objects.filter(
        matter=OuterRef("matter"), kind=EvaluatorKind.REPORTER, at__lt=q.end,
    ).filter(Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk")))
    rows = Evaluation.objects.filter(
        q.scope.scope_q("matter__"), q.filter_q(fs), kind=EvaluatorKind.REPORTER,
        matter__merged_into__isnull=True, at__gte=q.start, at__lt=q.end,
    ).filter(~Exists(later))
    answered = [Outcome.SATISFIED, Outcome.BASIC, Outcome.DISSATISFIED]
    return grouped(
        rows, q.group_field(fs),
        satisfied=Count("pk", filter=Q(outcome=Outcome.SATISFIED)),
        basic=Count("pk", filter=Q(outcome=Outcome.BASIC)),
        dissatisfied=Count("pk", filter=Q(outcome=Outcome.DISSATISFIED)),
        no_answer=Count("pk", filter=Q(outcome=Outcome.NO_ANSWER)),
        answered=Count("pk", filter=Q(outcome__in=answered)),
    )


def resolution(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    """Return visits (回访) in the period that reached the reporter and asked whether the
    problem was solved: the last such visit per matter.

    Counted: ``ReturnVisit`` rows with ``at`` in [start, end), ``reached`` true and
    ``resolved`` given, on matters under the place (merged duplicates left out); a matter
    called several times in the period counts by its last answer. Calls that did not reach
    the reporter, or did not ask, are not counted.

    - ``solved`` (已解决), ``partly_solved`` (部分解决), ``unsolved`` (未解决);
    - ``reached`` = solved + partly_solved + unsolved.

    解决率 = (solved + partly_solved) ÷ reached.
    """
    answered = Q(reached=True, resolved__in=Resolved.values)
    later = ReturnVisit.objects.filter(answered, matter=OuterRef("matter"), at__lt=q.end).filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk")))
    rows = ReturnVisit.objects.filter(
        answered, q.scope.scope_q("matter__"), q.filter_q(fs),
        matter__merged_into__isnull=True, at__gte=q.start, at__lt=q.end,
    ).filter(~Exists(later))
    return grouped(
        rows, q.group_field(fs),
        reached=Count("pk"),
        solved=Count("pk", filter=Q(resolved=Resolved.YES)),
        partly_solved=Count("pk", filter=Q(resolved=Resolved.PARTLY)),
        unsolved=Count("pk", filter=Q(resolved=Resolved.NO)),
    )


# ---------------------------------------------------------------------------------------------
# 吹哨报到


def summonses(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    """Summonses (吹哨) made in the period and how the summoned units checked in (报到).

    Counted: ``Summons`` rows with ``summoned_at`` in [start, end) on matters under the place,
    except those withdrawn (撤回). Each summoned unit is one summons.

    - ``summoned`` (吹哨次数);
    - ``checked_in`` (报到数): checked in before ``end``;
    - ``checked_in_on_time`` (按时报到数): checked in before ``end`` and no later than its
      check-in deadline (``checked_in_at <= check_in_due``);
    - ``checked_in_late`` (迟到报到数): checked in before ``end``, after its deadline;
    - ``missing`` (超时未报到数): not checked in by ``end`` although the deadline has passed
      (before ``end``, or before now when the period has not ended);
    - summoned − checked_in − missing are still within their time to check in.

    报到率 = checked_in ÷ summoned; 及时报到率 = checked_in_on_time ÷ summoned.
    """
    end = q.end
    checked = Q(checked_in_at__lt=end)
    not_yet = Q(checked_in_at__isnull=True) | Q(checked_in_at__gte=end)
    rows = Summons.objects.filter(
        q.scope.scope_q("matter__"), q.filter_q(fs), summoned_at__gte=q.start,
        summoned_at__lt=end,
    ).exclude(status=SummonsStatus.CANCELLED)
    return grouped(
        rows, q.group_field(fs),
        summoned=Count("pk"),
        checked_in=Count("pk", filter=checked),
        checked_in_on_time=Count("pk", filter=checked & Q(checked_in_at__lte=F("check_in_due"))),
        checked_in_late=Count("pk", filter=checked & Q(checked_in_at__gt=F("check_in_due"))),
        missing=Count("pk", filter=not_yet & Q(check_in_due__lt=min(end, q.now))),
    )


# ---------------------------------------------------------------------------------------------
# A snapshot: what is late now


def overdue(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    """Open matters, and those past their stage deadline, at the moment ``now`` (not a
    period: ``start`` and ``end`` play no part, and there is no breakdown by period; the
    history of overdue stages lives in the supervision bulletins).

    - ``open`` (在办数): matters under the place not closed and not merged, now;
    - ``overdue`` (超期数): of those, the ones whose current stage deadline has passed
      (``stage_deadline < now``), except in stages that wait on the resident or on
      publication (evaluation, disclosure), as the deadline scan counts them.
    """
    rows = Matter.objects.filter(q.scope.scope_q(), q.filter_q(fs), is_closed=False,
                                 merged_into__isnull=True)
    late = Q(stage_deadline__lt=q.now) & ~Q(stage_kind__in=PASSIVE_KINDS)
    return grouped(rows, q.group_field(fs), open=Count("pk"), overdue=Count("pk", filter=late))


# ---------------------------------------------------------------------------------------------

SETS = (
    FigureSet("matters", "事项办理", ("received", "closed", "closed_on_time",
                                   "responded_in_time", "reached_evaluation", "reopened"),
              matters),
    FigureSet("handling_time", "办理用时", ("handled", "handling_days"), handling_time),
    FigureSet("satisfaction", "群众满意度", ("satisfied", "basic", "dissatisfied", "no_answer",
                                        "answered"), satisfaction, matter_prefix="matter__"),
    FigureSet("resolution", "回访解决情况", ("reached", "solved", "partly_solved", "unsolved"),
              resolution, matter_prefix="matter__"),
    FigureSet("summons", "吹哨报到", ("summoned", "checked_in", "checked_in_on_time",
                                   "checked_in_late", "missing"), summonses,
              matter_prefix="matter__",
              dimensions={"department": "organisation_id", "cadre": "summoned_by_id"}),
    FigureSet("overdue", "超期事项", ("open", "overdue"), overdue, periodic=False),
)

RATIOS = (
    Ratio("completion_rate", "办结率", ("closed",), ("received",)),
    Ratio("on_time_rate", "按期办结率", ("closed_on_time",), ("closed",)),
    Ratio("response_rate", "响应率", ("responded_in_time",), ("received",)),
    Ratio("reopen_rate", "重办率", ("reopened",), ("reached_evaluation",),
          higher_is_better=False),
    Ratio("avg_handling_days", "平均办理用时", ("handling_days",), ("handled",),
          higher_is_better=False, unit="working_days"),
    Ratio("satisfaction_rate", "满意率", ("satisfied", "basic"), ("answered",)),
    Ratio("resolution_rate", "解决率", ("solved", "partly_solved"), ("reached",)),
    Ratio("check_in_rate", "报到率", ("checked_in",), ("summoned",)),
    Ratio("on_time_check_in_rate", "及时报到率", ("checked_in_on_time",), ("summoned",)),
)


def register_builtin() -> None:
    for figure_set in SETS:
        register_figure_set(figure_set)
    for ratio in RATIOS:
        register_ratio(ratio)
