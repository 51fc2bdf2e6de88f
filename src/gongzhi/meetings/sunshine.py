"""三务三资阳光报告会: the questions residents raise on the spot, and the figures.

At a sunshine report meeting (a meeting of kind ``kinds.SUNSHINE``) the village reports its
三务 items (``Disclosure.meeting``); residents ask questions, each recorded as a
:class:`~gongzhi.meetings.models.SunshineQuestion`. A question is either answered on the spot
(:func:`do_answer_question`) or turned into a matter (:func:`do_turn_question_into_matter`:
raised at the village with channel ``meeting``, or linked to a matter already open), never
both.

The figures (:func:`sunshine_figures`) count, over the sunshine meetings held in a place and a
date range (not cancelled):

- **items disclosed**: published disclosure items reported at those meetings;
- **questions raised**: questions recorded there;
- **answered on the spot**;
- **turned into matters**: questions not answered on the spot that carry a matter;
- **matters closed**: of those, the ones whose matter is closed (whatever the outcome);
- **resolved**: answered on the spot, plus the questions whose matter is closed as solved
  (已解决) or partly solved (部分解决); a matter merged into another counts by the matter it
  was merged into. A matter closed as unsolvable (无法解决，已解释) or still open is not resolved.

So "resolved" is ``SunshineQuestion.is_resolved`` summed; both are defined here and in
``docs/deliberation.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters.models import Ledger, Matter, Outcome
from gongzhi.places.models import Place

from .kinds import SUNSHINE
from .models import Disclosure, Meeting, MeetingStatus, SunshineQuestion

RECORD = "meetings.record"
RESOLVED_OUTCOMES = (Outcome.SOLVED, Outcome.PARTLY)
RECORDABLE = (MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED)


def is_sunshine_meeting(meeting: Meeting) -> bool:
    return meeting.kind.code == SUNSHINE


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


def _require_recorder(acting_user, meeting: Meeting) -> None:
    if not has_permission(acting_user, RECORD, meeting.place):
        raise ActionForbidden(_("您没有记录此次报告会的权限。"))


def _require_held(meeting: Meeting) -> None:
    if not is_sunshine_meeting(meeting):
        raise ActionError(_("只有三务三资阳光报告会记录现场问题。"))
    if meeting.status not in RECORDABLE:
        raise ActionError(_("报告会开始后才能记录现场提出的问题。"))


# ---------------------------------------------------------------------------------------------
# Actions


@transaction.atomic
def do_record_question(meeting: Meeting, *, acting_user, text: str, asked_by: str = "",
                       answer: str = "") -> SunshineQuestion:
    """Record a question raised at the meeting; with ``answer``, it was answered on the spot."""
    _require_recorder(acting_user, meeting)
    _require_held(meeting)
    text, asked_by, answer = (text or "").strip(), (asked_by or "").strip(), (answer or "").strip()
    if not text:
        raise ActionError(_("请填写群众提出的问题。"))
    if len(asked_by) > 60:
        raise ActionError(_("提问人不能超过60个字。"))
    question = SunshineQuestion.objects.create(
        meeting=meeting, asked_by=asked_by, text=text, answered_on_spot=bool(answer),
        answer=answer, recorded_by=_user(acting_user))
    record("meetings.sunshine.question", actor=acting_user, obj=question,
           county_id=meeting.county_id,
           after={"meeting": meeting.pk, "answered_on_spot": bool(answer)})
    return question


def _locked(question: SunshineQuestion) -> SunshineQuestion:
    return SunshineQuestion.objects.select_for_update(of=("self",)).select_related(
        "meeting__kind", "meeting__place").get(pk=question.pk)


@transaction.atomic
def do_answer_question(question: SunshineQuestion, *, acting_user,
                       answer: str) -> SunshineQuestion:
    """Record the answer given on the spot."""
    _require_recorder(acting_user, question.meeting)
    question = _locked(question)
    _require_held(question.meeting)
    answer = (answer or "").strip()
    if not answer:
        raise ActionError(_("请填写当场答复的内容。"))
    if question.matter_id:
        raise ActionError(_("该问题已转为事项办理，不能再登记为当场答复。"))
    if question.answered_on_spot:
        raise ActionError(_("该问题已当场答复。"))
    question.answered_on_spot, question.answer = True, answer
    question.save(update_fields=["answered_on_spot", "answer"])
    record("meetings.sunshine.answer", actor=acting_user, obj=question,
           county_id=question.meeting.county_id, after={"answered_on_spot": True})
    return question


@transaction.atomic
def do_turn_question_into_matter(question: SunshineQuestion, *, acting_user, title: str = "",
                                 ledger: str = Ledger.SUGGESTION, category=None,
                                 matter: Matter | None = None) -> SunshineQuestion:
    """Turn a question into a matter of the village (channel ``meeting``), or link it to
    ``matter``, an open matter of the same village that already carries it."""
    from gongzhi.matters.actions import do_raise_matter

    meeting = question.meeting
    _require_recorder(acting_user, meeting)
    question = _locked(question)
    meeting = question.meeting
    _require_held(meeting)
    if question.answered_on_spot:
        raise ActionError(_("该问题已当场答复，无需转为事项。"))
    if question.matter_id:
        raise ActionError(_("该问题已转为事项。"))
    village = Place.objects.get(pk=meeting.village_id)
    if matter is not None:
        if matter.village_id != village.pk:
            raise ActionError(_("所选事项不属于该村（社区）。"))
        if matter.is_closed or matter.merged_into_id:
            raise ActionError(_("所选事项已办结，请登记为新的事项。"))
    else:
        title = (title or "").strip() or question.text.splitlines()[0][:60]
        text = _("%(meeting)s（%(date)s）现场提出：%(text)s") % {
            "meeting": meeting.title,
            "date": timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d"),
            "text": question.text,
        }
        matter = do_raise_matter(place=village, title=title, text=text, channel="meeting",
                                 ledger=ledger, category=category, acting_user=acting_user,
                                 reporter_name=question.asked_by,
                                 source_ref=f"sunshine-question:{question.pk}")
    question.matter = matter
    question.save(update_fields=["matter"])
    record("meetings.sunshine.to_matter", actor=acting_user, obj=question,
           county_id=meeting.county_id, after={"matter": matter.pk})
    return question


# ---------------------------------------------------------------------------------------------
# Figures


@dataclass(frozen=True)
class SunshineFigures:
    meetings: int
    items_disclosed: int
    questions_raised: int
    answered_on_spot: int
    turned_into_matters: int
    matters_closed: int
    matters_resolved: int
    resolved: int

    @property
    def unresolved(self) -> int:
        return self.questions_raised - self.resolved

    @property
    def resolved_rate(self) -> float | None:
        """Resolved per question raised (None when nothing was asked)."""
        if not self.questions_raised:
            return None
        return self.resolved / self.questions_raised

    def as_dict(self) -> dict:
        return {**asdict(self), "unresolved": self.unresolved,
                "resolved_rate": self.resolved_rate}


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def sunshine_meetings(scope_place: Place, start: dt.date, end: dt.date) -> QuerySet[Meeting]:
    """The sunshine report meetings held at or under ``scope_place`` from ``start`` to ``end``
    (both days included), cancelled ones left out."""
    return (Meeting.objects.filter(scope_place.scope_q(), kind__code=SUNSHINE,
                                   starts_at__gte=_day_start(start),
                                   starts_at__lt=_day_start(end + dt.timedelta(days=1)))
            .exclude(status=MeetingStatus.CANCELLED))


def _matter_resolved_q(prefix: str = "matter__") -> Q:
    own = Q(**{f"{prefix}merged_into__isnull": True, f"{prefix}is_closed": True,
               f"{prefix}outcome__in": RESOLVED_OUTCOMES})
    merged = Q(**{f"{prefix}merged_into__is_closed": True,
                  f"{prefix}merged_into__outcome__in": RESOLVED_OUTCOMES})
    return own | merged


def _matter_closed_q(prefix: str = "matter__") -> Q:
    return (Q(**{f"{prefix}merged_into__isnull": True, f"{prefix}is_closed": True})
            | Q(**{f"{prefix}merged_into__is_closed": True}))


COUNTS = ("questions_raised", "answered_on_spot", "turned_into_matters", "matters_closed",
          "matters_resolved")


def _question_counts() -> dict:
    """The aggregates over questions, named ``n_<figure>`` (a figure may share a field's name)."""
    not_on_spot = Q(answered_on_spot=False)
    return {
        "n_questions_raised": Count("pk"),
        "n_answered_on_spot": Count("pk", filter=Q(answered_on_spot=True)),
        "n_turned_into_matters": Count("pk", filter=not_on_spot & Q(matter__isnull=False)),
        "n_matters_closed": Count("pk", filter=not_on_spot & _matter_closed_q()),
        "n_matters_resolved": Count("pk", filter=not_on_spot & _matter_resolved_q()),
    }


def _figures(meetings: int, items: int, row: dict) -> SunshineFigures:
    counts = {name: row.get(f"n_{name}") or 0 for name in COUNTS}
    return SunshineFigures(meetings=meetings, items_disclosed=items, **counts,
                           resolved=counts["answered_on_spot"] + counts["matters_resolved"])


def figures_of(meetings: QuerySet[Meeting]) -> SunshineFigures:
    """The figures over a set of meetings: three queries, whatever their number."""
    ids = meetings.values("pk")
    row = SunshineQuestion.objects.filter(meeting__in=ids).aggregate(**_question_counts())
    items = Disclosure.objects.filter(meeting__in=ids, published_at__isnull=False).count()
    return _figures(meetings.count(), items, row)


def sunshine_figures(scope_place: Place, start: dt.date, end: dt.date) -> SunshineFigures:
    """The sunshine report figures of a county, town or village over a date range."""
    return figures_of(sunshine_meetings(scope_place, start, end))


def figures_by_meeting(meetings: list[Meeting]) -> dict[int, SunshineFigures]:
    """Per meeting (for the tables): two grouped queries."""
    ids = [m.pk for m in meetings]
    rows = {r["meeting"]: r for r in SunshineQuestion.objects.filter(meeting__in=ids)
            .values("meeting").annotate(**_question_counts())}
    items = dict(Disclosure.objects.filter(meeting__in=ids, published_at__isnull=False)
                 .values("meeting").annotate(n=Count("pk")).values_list("meeting", "n"))
    return {pk: _figures(1, items.get(pk, 0), rows.get(pk, {})) for pk in ids}
