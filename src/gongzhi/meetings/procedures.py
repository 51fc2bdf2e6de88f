"""四议两公开: the four-step decision on a major village matter, and its two disclosures.

A :class:`~gongzhi.meetings.models.FourStepProcedure` walks, strictly in this order:

1. 党支部提议 — a topic of a 党支部会议 (kind ``party_branch``) with a passed vote;
2. 两委会议商议 — a topic of a 两委会议 (``two_committees``), passed by vote or consensus;
3. 党员大会审议 — a topic of a 党员大会 (``party_members``): at least two thirds of the party
   members present and more than half of those present voting for (a counted vote; a
   consensus does not do);
4. 村民代表会议或村民会议决议 — a topic of a 村民代表会议 (``villager_reps``, two thirds of the
   representatives present) or a 村民会议 (``villagers``, more than half present), more than
   half of those present voting for;
5. 决议公开 — the resolution published at once as a major 村务 disclosure;
6. 实施结果公开 — the implementation result published, once the resolution's matter is closed
   (its outcome is the result), or, when no matter carries the work, with a stated result.

Each meeting step points at a topic of the procedure's village whose meeting reached its quorum
and whose vote passed; its meeting must not be earlier than the one of the step before. The
statutory quorum and majority are checked on top of the kind's own rules, so a locality that
relaxed a kind cannot relax the law. Anything else — a step skipped or taken out of order, a
meeting of the wrong kind, a failed vote, no quorum — is refused with a sentence that names the
step required.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters.models import Matter
from gongzhi.places.models import Place, PlaceKind

from . import kinds
from .disclosure import do_publish_disclosure
from .models import (
    Disclosure,
    DisclosureDomain,
    FourStepProcedure,
    FourStepRecord,
    FourStepStep,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Topic,
    Vote,
)

PERMISSION = "meetings.disclose"
S = FourStepStep
STEPS = [S.PROPOSAL, S.CONSULTATION, S.REVIEW, S.DECISION, S.RESOLUTION_PUBLISHED,
         S.RESULT_PUBLISHED]
MEETING_STEPS = STEPS[:4]


@dataclass(frozen=True)
class StepRule:
    kinds: tuple[str, ...]
    consensus: bool  # whether a recorded consensus may stand for the vote
    # Statutory attendance by kind code (on top of the kind's own quorum), and whether more
    # than half of those present must vote for.
    quorum: dict[str, dict]
    majority_present: bool


RULES = {
    S.PROPOSAL: StepRule((kinds.PARTY_BRANCH,), False, {}, False),
    S.CONSULTATION: StepRule((kinds.TWO_COMMITTEES,), True, {}, False),
    S.REVIEW: StepRule((kinds.PARTY_MEMBERS,), False,
                       {kinds.PARTY_MEMBERS: kinds.TWO_THIRDS}, True),
    S.DECISION: StepRule((kinds.VILLAGER_REPS, kinds.VILLAGERS), False,
                         {kinds.VILLAGER_REPS: kinds.TWO_THIRDS,
                          kinds.VILLAGERS: kinds.MORE_THAN_HALF}, True),
}


def step_label(step: str) -> str:
    return str(FourStepStep(step).label)


def next_step(step: str) -> str | None:
    i = STEPS.index(step)
    return STEPS[i + 1] if i + 1 < len(STEPS) else None


def kind_names(county_id: int, codes: tuple[str, ...]) -> str:
    names = dict(MeetingKind.objects.filter(county_id=county_id, code__in=codes)
                 .values_list("code", "name"))
    builtin = {k["code"]: k["name"] for k in kinds.BUILTIN_KINDS}
    return _("或").join(names.get(c) or builtin.get(c, c) for c in codes)


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


def _require(acting_user, procedure_or_place) -> None:
    place = getattr(procedure_or_place, "place", procedure_or_place)
    if not has_permission(acting_user, PERMISSION, place):
        raise ActionForbidden(_("您没有办理该村（社区）四议两公开的权限。"))


# ---------------------------------------------------------------------------------------------
# Actions


@transaction.atomic
def do_start_fourstep(place: Place, *, acting_user, title: str, description: str = "",
                      matter: Matter | None = None) -> FourStepProcedure:
    """Open a 四议两公开 procedure for a major matter of a village."""
    if place.kind != PlaceKind.VILLAGE:
        raise ActionError(_("四议两公开须在村（社区）办理。"))
    _require(acting_user, place)
    title = (title or "").strip()
    if not title:
        raise ActionError(_("请填写重大事项的名称。"))
    if len(title) > 120:
        raise ActionError(_("重大事项名称不能超过120个字。"))
    if matter is not None and matter.village_id != place.pk:
        raise ActionError(_("所选事项不属于该村（社区）。"))
    procedure = FourStepProcedure(title=title, description=(description or "").strip(),
                                  matter=matter, created_by=_user(acting_user))
    procedure.set_place(place)
    procedure.save()
    record("meetings.fourstep.start", actor=acting_user, obj=procedure,
           after={"title": title, "matter": matter.pk if matter else None})
    return procedure


def _locked(procedure: FourStepProcedure) -> FourStepProcedure:
    return FourStepProcedure.objects.select_for_update().get(pk=procedure.pk)


def check_order(procedure: FourStepProcedure, step: str) -> None:
    """Refuse a step that is not the procedure's next one, naming the step required."""
    if step not in STEPS:
        raise ActionError(_("未知的四议两公开步骤。"))
    if procedure.is_complete:
        raise ActionError(_("该事项的四议两公开已全部完成。"))
    current = procedure.current_step
    if step == current:
        return
    if STEPS.index(step) < STEPS.index(current):
        raise ActionError(_("“%(step)s”已经完成，不能重复办理。") % {"step": step_label(step)})
    raise ActionError(_("请先完成“%(required)s”，再办理“%(step)s”。")
                      % {"required": step_label(current), "step": step_label(step)})


def _previous_meeting(procedure: FourStepProcedure, step: str) -> Meeting | None:
    i = MEETING_STEPS.index(step)
    if i == 0:
        return None
    rec = (FourStepRecord.objects.filter(procedure=procedure, step=MEETING_STEPS[i - 1])
           .select_related("topic__meeting").first())
    return rec.topic.meeting if rec and rec.topic_id else None


def check_topic(procedure: FourStepProcedure, step: str, topic: Topic) -> Vote:
    """The topic may stand for ``step``: right kind, same village, quorum, passed vote."""
    label = step_label(step)
    rule = RULES[step]
    meeting = topic.meeting
    if meeting is None:
        raise ActionError(_("所选议题尚未上会，不能作为“%(step)s”的依据。") % {"step": label})
    if topic.village_id != procedure.village_id or meeting.village_id != procedure.village_id:
        raise ActionError(_("所选议题不属于本村（社区）。"))
    kind = meeting.kind
    if kind.code not in rule.kinds:
        raise ActionError(
            _("“%(step)s”须由%(required)s作出，所选议题是%(kind)s的议题。")
            % {"step": label, "required": kind_names(procedure.county_id, rule.kinds),
               "kind": kind.name})
    if meeting.status == MeetingStatus.CANCELLED:
        raise ActionError(_("所选议题的会议已取消。"))
    if not meeting.quorum_met:
        raise ActionError(_("%(kind)s未达到法定人数，不能作为“%(step)s”的依据。")
                          % {"kind": kind.name, "step": label})
    vote = Vote.objects.filter(topic=topic).first()
    if vote is None:
        raise ActionError(_("所选议题尚未表决，不能作为“%(step)s”的依据。") % {"step": label})
    if not vote.passed:
        raise ActionError(_("所选议题的表决未通过，不能作为“%(step)s”的依据。")
                          % {"step": label})
    if vote.consensus and not rule.consensus:
        raise ActionError(_("“%(step)s”须经表决，协商一致不能代替表决。") % {"step": label})
    statutory = rule.quorum.get(kind.code)
    if statutory and not kinds.quorum_reached(statutory, meeting.invited_count, vote.present):
        raise ActionError(_("%(kind)s到会人数不足%(rule)s，不能作为“%(step)s”的依据。")
                          % {"kind": kind.name, "rule": kinds.quorum_label(statutory),
                             "step": label})
    if rule.majority_present and not kinds.vote_passes("majority_present", vote.votes_for,
                                                       vote.present, meeting.invited_count):
        raise ActionError(_("赞成票未超过到会人数的一半，不能作为“%(step)s”的依据。")
                          % {"step": label})
    previous = _previous_meeting(procedure, step)
    if previous is not None and meeting.starts_at < previous.starts_at:
        i = MEETING_STEPS.index(step)
        raise ActionError(_("“%(step)s”的会议须在“%(previous)s”的会议之后召开。")
                          % {"step": label, "previous": step_label(MEETING_STEPS[i - 1])})
    if FourStepRecord.objects.filter(topic=topic).exists():
        raise ActionError(_("所选议题已作为四议两公开的一个步骤，不能重复使用。"))
    return vote


@transaction.atomic
def do_record_fourstep_step(procedure: FourStepProcedure, step: str, topic: Topic, *,
                            acting_user) -> FourStepRecord:
    """Complete one of the four meeting steps with the topic (and its passed vote)."""
    _require(acting_user, procedure)
    procedure = _locked(procedure)
    check_order(procedure, step)
    if step not in MEETING_STEPS:
        raise ActionError(_("“%(step)s”是公开步骤，请发布公开内容。") % {"step": step_label(step)})
    topic = Topic.objects.select_related("meeting__kind").get(pk=topic.pk)
    vote = check_topic(procedure, step, topic)
    rec = FourStepRecord.objects.create(procedure=procedure, step=step, topic=topic,
                                        passed=True, by=_user(acting_user))
    procedure.current_step = next_step(step)
    procedure.save(update_fields=["current_step"])
    record("meetings.fourstep.step", actor=acting_user, obj=procedure,
           after={"step": step, "topic": topic.pk, "meeting": topic.meeting_id,
                  "votes": [vote.votes_for, vote.votes_against, vote.abstentions],
                  "present": vote.present})
    return rec


def decision_topic(procedure: FourStepProcedure) -> Topic | None:
    rec = (FourStepRecord.objects.filter(procedure=procedure, step=S.DECISION)
           .select_related("topic__meeting__kind").first())
    return rec.topic if rec else None


def resolution_matter(procedure: FourStepProcedure) -> Matter | None:
    """The matter that carries out the decision: the resolution's, else the procedure's."""
    topic = decision_topic(procedure)
    resolution = getattr(topic, "resolution", None) if topic else None
    if resolution is not None and resolution.matter_id:
        return Matter.objects.get(pk=resolution.matter_id)
    return procedure.matter


def resolution_text(procedure: FourStepProcedure) -> str:
    """The text published by 决议公开: the four steps, the decision's vote, the resolution."""
    lines = []
    for rec in (FourStepRecord.objects.filter(procedure=procedure, step__in=MEETING_STEPS)
                .select_related("topic__meeting__kind", "topic__vote")
                .order_by("at", "pk")):
        meeting, vote = rec.topic.meeting, getattr(rec.topic, "vote", None)
        values = {"step": step_label(rec.step), "kind": meeting.kind.name,
                  "date": timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d")}
        if vote is not None and vote.consensus:
            lines.append(_("%(step)s：%(date)s %(kind)s协商一致通过。") % values)
        elif vote is not None:
            values.update(invited=meeting.invited_count, present=vote.present,
                          yes=vote.votes_for, no=vote.votes_against, abstain=vote.abstentions)
            lines.append(_("%(step)s：%(date)s %(kind)s，应到%(invited)d人，实到%(present)d人，"
                           "赞成%(yes)d票，反对%(no)d票，弃权%(abstain)d票，通过。") % values)
    topic = decision_topic(procedure)
    resolution = getattr(topic, "resolution", None) if topic else None
    if resolution is not None:
        lines.append(_("决议内容：%(text)s") % {"text": resolution.text})
    elif topic is not None:
        lines.append(_("决议事项：%(title)s") % {"title": topic.title})
    return "\n".join(lines)


@transaction.atomic
def do_publish_fourstep_resolution(procedure: FourStepProcedure, *, acting_user,
                                   content: str = "") -> FourStepRecord:
    """决议公开: publish the resolution at once (a major 村务 item); ``content`` adds to the
    text composed from the four steps."""
    _require(acting_user, procedure)
    procedure = _locked(procedure)
    check_order(procedure, S.RESOLUTION_PUBLISHED)
    text = resolution_text(procedure)
    extra = (content or "").strip()
    item = do_publish_disclosure(
        procedure.place, acting_user=acting_user, domain=DisclosureDomain.VILLAGE,
        title=(_("四议两公开决议公开：%(title)s") % {"title": procedure.title})[:120],
        content="\n".join(t for t in (text, extra) if t), is_major=True)
    return _publish_step(procedure, S.RESOLUTION_PUBLISHED, item, acting_user)


@transaction.atomic
def do_publish_fourstep_result(procedure: FourStepProcedure, *, acting_user,
                               content: str = "") -> FourStepRecord:
    """实施结果公开: once the resolution's matter is closed (its outcome is the result, to which
    ``content`` adds), or, when no matter carries the work, with the result in ``content``."""
    _require(acting_user, procedure)
    procedure = _locked(procedure)
    check_order(procedure, S.RESULT_PUBLISHED)
    stated = (content or "").strip()
    matter = resolution_matter(procedure)
    if matter is not None:
        if matter.merged_into_id:
            matter = Matter.objects.get(pk=matter.merged_into_id)
        if not matter.is_closed:
            raise ActionError(_("决议事项“%(title)s”尚未办结，办结后才能公开实施结果。")
                              % {"title": matter.title})
        outcome = matter.get_outcome_display() if matter.outcome else _("已办结")
        parts = [_("实施结果：%(outcome)s。") % {"outcome": outcome}]
        if matter.outcome_text:
            parts.append(matter.outcome_text)
        if stated:
            parts.append(stated)
        text = "\n".join(parts)
    elif stated:
        text = _("实施结果：%(text)s") % {"text": stated}
    else:
        raise ActionError(_("请填写实施结果。"))
    item = do_publish_disclosure(
        procedure.place, acting_user=acting_user, domain=DisclosureDomain.VILLAGE,
        title=(_("四议两公开实施结果公开：%(title)s") % {"title": procedure.title})[:120],
        content=text, is_major=True)
    return _publish_step(procedure, S.RESULT_PUBLISHED, item, acting_user)


def _publish_step(procedure: FourStepProcedure, step: str, item: Disclosure,
                  acting_user) -> FourStepRecord:
    rec = FourStepRecord.objects.create(procedure=procedure, step=step, disclosure=item,
                                        passed=True, by=_user(acting_user))
    following = next_step(step)
    fields = ["current_step"]
    if following is None:
        procedure.is_complete = True
        fields.append("is_complete")
    else:
        procedure.current_step = following
    procedure.save(update_fields=fields)
    record("meetings.fourstep.publish", actor=acting_user, obj=procedure,
           after={"step": step, "disclosure": item.pk, "complete": procedure.is_complete})
    return rec


# ---------------------------------------------------------------------------------------------
# Queries


@dataclass
class StepView:
    step: str
    label: str
    state: str  # done, current, pending
    record: FourStepRecord | None
    county_id: int

    @property
    def required(self) -> str:
        """What completes the step, as a sentence."""
        return requirement(self.county_id, self.step)

    @property
    def topic(self):
        return self.record.topic if self.record else None

    @property
    def meeting(self):
        return self.record.topic.meeting if self.record and self.record.topic_id else None

    @property
    def vote(self):
        return getattr(self.record.topic, "vote", None) if self.record and self.record.topic_id \
            else None

    @property
    def disclosure(self):
        return self.record.disclosure if self.record else None


def requirement(county_id: int, step: str) -> str:
    if step == S.RESOLUTION_PUBLISHED:
        return _("立即在公开栏公开决议。")
    if step == S.RESULT_PUBLISHED:
        return _("决议事项办结后公开实施结果。")
    rule = RULES[step]
    return _("%(kinds)s上表决通过的议题。") % {"kinds": kind_names(county_id, rule.kinds)}


RECORD_RELATIONS = ("topic__meeting__kind", "topic__vote", "disclosure")


def with_records(qs):
    """Procedures with their steps' records, meetings, votes and disclosures in two queries."""
    return qs.prefetch_related(Prefetch(
        "records", queryset=FourStepRecord.objects.select_related(*RECORD_RELATIONS)))


def procedure_steps(procedure: FourStepProcedure) -> list[StepView]:
    if "records" in getattr(procedure, "_prefetched_objects_cache", {}):
        rows = procedure.records.all()
    else:
        rows = FourStepRecord.objects.filter(procedure=procedure).select_related(
            *RECORD_RELATIONS)
    records = {r.step: r for r in rows}
    out = []
    for step in STEPS:
        if step in records:
            state = "done"
        elif not procedure.is_complete and step == procedure.current_step:
            state = "current"
        else:
            state = "pending"
        out.append(StepView(step, step_label(step), state, records.get(step),
                            procedure.county_id))
    return out


def candidate_topics(procedure: FourStepProcedure, user=None):
    """Topics that could complete the current meeting step: of the right kind at the village,
    voted and passed, not yet used."""
    step = procedure.current_step
    if procedure.is_complete or step not in MEETING_STEPS:
        return Topic.objects.none()
    qs = Topic.objects.restrict(user, "view") if user is not None else Topic.objects.all()
    used = FourStepRecord.objects.filter(topic__isnull=False).values("topic_id")
    return (qs.filter(village_id=procedure.village_id, meeting__kind__code__in=RULES[step].kinds,
                      vote__passed=True)
            .exclude(pk__in=used).select_related("meeting__kind", "vote")
            .order_by("-meeting__starts_at", "pk"))
