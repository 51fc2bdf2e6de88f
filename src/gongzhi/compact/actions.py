"""Every write of 村规民约与群众组织.

- The compact: a village registers its current text once (version 1, with the meeting that
  adopted it before the platform); after that the text changes only through an amendment that
  is proposed, put on the agenda of a 村民会议 or 村民代表会议, passed by a counted vote there
  and written into a resolution. The resolution adopts it (:func:`on_decision`, a decision
  hook of the meetings app): a new version is published; the old one stays as it was.
- Associations (一约四会) with members; their meetings are meetings of the meetings app whose
  invitees are the association's members (:func:`association_invitees`).
- Moral reviews (道德评议) of a 道德评议会; the commended results go to a draft 红榜.

Each action is atomic, checks before it changes anything and writes the audit event last.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.core.privacy import mask_name
from gongzhi.meetings import kinds as meeting_kinds
from gongzhi.meetings.actions import withdraw_topic
from gongzhi.meetings.models import Meeting, MeetingKind, MeetingStatus, Member, Topic
from gongzhi.places.models import Household, Person, Place, PlaceKind

from .diff import MAX_ARTICLE, MAX_ARTICLES, clean_articles, diff_articles
from .models import (
    ASSOCIATION_GROUP,
    OPEN_AMENDMENT,
    Amendment,
    AmendmentStatus,
    Association,
    AssociationKind,
    AssociationMember,
    Compact,
    CompactKind,
    CompactVersion,
    MemberRole,
    MoralReview,
    ReviewResult,
    ReviewStatus,
    Verdict,
)

# The meetings that may adopt a compact (村民委员会组织法 第二十七条: the 村民会议, or the
# 村民代表会议 it authorises).
ADOPTING_KINDS = (meeting_kinds.VILLAGERS, meeting_kinds.VILLAGER_REPS)
ASSOCIATION_KIND = "association"


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


def _require(user, permission: str, place: Place, message: str) -> None:
    if user is None:  # the system (a command, a test fixture)
        return
    if not has_permission(user, permission, place):
        raise ActionForbidden(message)


def _village(place: Place) -> Place:
    if place.kind != PlaceKind.VILLAGE:
        raise ActionError(_("村规民约和群众组织须属于一个村（社区）。"))
    return place


def _text(value: str | None, limit: int | None = None) -> str:
    value = (value or "").strip()
    return value[:limit] if limit else value


def _articles(articles: Any) -> list[str]:
    try:
        cleaned = clean_articles(articles)
    except ValueError:
        raise ActionError(_("条款的格式有误：请逐条填写。")) from None
    if not cleaned:
        raise ActionError(_("请至少填写一条条款。"))
    if len(cleaned) > MAX_ARTICLES:
        raise ActionError(_("条款不能超过 %(n)d 条。") % {"n": MAX_ARTICLES})
    if any(len(a) > MAX_ARTICLE for a in cleaned):
        raise ActionError(_("每条条款不能超过 %(n)d 个字。") % {"n": MAX_ARTICLE})
    return cleaned


def current_version(compact: Compact) -> CompactVersion | None:
    return compact.versions.order_by("-number").first()


# ---------------------------------------------------------------------------------------------
# The compact


@transaction.atomic
def do_register_compact(village: Place, *, acting_user, title: str, articles: Any,
                        adopted_on: dt.date, basis: str, kind: str | None = None,
                        preamble: str = "") -> Compact:
    """Register the compact a village already has (version 1), once. ``basis`` says when and
    by which meeting it was adopted; later changes go through amendments only."""
    village = _village(village)
    _require(acting_user, "compact.manage", village, _("您不能管理该村（社区）的村规民约。"))
    if Compact.objects.filter(village=village).exists():
        raise ActionError(_("该村（社区）已登记村规民约，修改须提出修订并经会议表决通过。"))
    kind = kind or (CompactKind.RESIDENTS if village.subtype == "社区" else CompactKind.VILLAGE)
    if kind not in CompactKind.values:
        raise ActionError(_("请选择村规民约或居民公约。"))
    title = _text(title, 120)
    if not title:
        raise ActionError(_("请填写名称。"))
    basis = _text(basis, 200)
    if not basis:
        raise ActionError(_("请写明现行文本何时经何会议通过。"))
    if adopted_on is None or adopted_on > timezone.localdate():
        raise ActionError(_("请填写通过日期，且不能晚于今天。"))
    cleaned = _articles(articles)
    compact = Compact(kind=kind, title=title, created_by=_user(acting_user))
    compact.set_place(village)
    compact.save()
    version = CompactVersion(compact=compact, county_id=village.county_id, number=1,
                             title=title, preamble=_text(preamble), articles=cleaned,
                             adopted_on=adopted_on, basis=basis,
                             published_by=_user(acting_user))
    version.save()
    record("compact.compact.register", actor=acting_user, obj=compact,
           after={"village": village.pk, "kind": kind, "version": version.pk,
                  "articles": len(cleaned), "basis": basis})
    return compact


@transaction.atomic
def do_propose_amendment(compact: Compact, *, acting_user, reason: str, articles: Any,
                         title: str = "", preamble: str | None = None) -> Amendment:
    """Propose a new text: it becomes a topic (议题) of the village, to be put on the agenda
    of a 村民会议 or 村民代表会议. One amendment of a compact is open at a time."""
    from gongzhi.meetings.actions import do_propose_topic

    compact = Compact.objects.select_for_update(of=("self",)).select_related("village").get(
        pk=compact.pk)
    village = compact.village
    _require(acting_user, "compact.manage", village, _("您不能为该村（社区）提出村规民约修订。"))
    if Amendment.objects.filter(compact=compact, status__in=OPEN_AMENDMENT).exists():
        raise ActionError(_("已有一项修订尚未表决，请待其表决或撤回后再提出。"))
    base = current_version(compact)
    reason = _text(reason)
    if not reason:
        raise ActionError(_("请说明修订理由。"))
    cleaned = _articles(articles)
    preamble = base.preamble if preamble is None else _text(preamble)
    changes = diff_articles(base.articles, cleaned)
    if not changes and preamble == base.preamble:
        raise ActionError(_("修订后的文本与现行文本相同。"))
    title = _text(title, 120) or (_("修订《%(title)s》") % {"title": compact.title})[:120]
    summary = "\n".join(_change_line(c) for c in changes)
    topic = do_propose_topic(village, acting_user=acting_user, title=title,
                             description=_("修订理由：%(reason)s\n\n%(changes)s") % {
                                 "reason": reason, "changes": summary})
    amendment = Amendment(compact=compact, base_version=base, title=title, reason=reason,
                          preamble=preamble, articles=cleaned, changes=changes, topic=topic,
                          proposed_by=_user(acting_user))
    amendment.set_place(village)
    amendment.save()
    record("compact.amendment.propose", actor=acting_user, obj=amendment,
           after={"compact": compact.pk, "base_version": base.number, "topic": topic.pk,
                  "changes": changes, "reason": reason})
    return amendment


def _change_line(change: dict[str, Any]) -> str:
    n = change["number"]
    if change["op"] == "add":
        return _("新增第%(n)d条：%(after)s") % {"n": n, "after": change["after"]}
    if change["op"] == "remove":
        return _("删除第%(n)d条：%(before)s") % {"n": n, "before": change["before"]}
    return _("修改第%(n)d条为：%(after)s") % {"n": n, "after": change["after"]}


def _lock_amendment(amendment: Amendment) -> Amendment:
    return Amendment.objects.select_for_update(of=("self",)).select_related(
        "compact", "village", "topic").get(pk=amendment.pk)


@transaction.atomic
def do_schedule_amendment(amendment: Amendment, meeting: Meeting, *, acting_user,
                          urgent: bool = False, reason: str = "") -> Amendment:
    """Put the amendment on the agenda of a 村民会议 or 村民代表会议 of its village."""
    from gongzhi.meetings.actions import do_put_on_agenda

    amendment = _lock_amendment(amendment)
    _require(acting_user, "compact.manage", amendment.village,
             _("您不能安排该村（社区）的村规民约修订。"))
    if amendment.status != AmendmentStatus.PROPOSED:
        raise ActionError(_("该修订已表决或已撤回。"))
    if meeting.kind.code not in ADOPTING_KINDS:
        raise ActionError(_("村规民约须由村民会议或村民代表会议表决，请选择这类会议。"))
    do_put_on_agenda(amendment.topic, meeting, acting_user=acting_user, urgent=urgent,
                     reason=reason)
    record("compact.amendment.schedule", actor=acting_user, obj=amendment,
           after={"meeting": meeting.pk})
    return amendment


@transaction.atomic
def do_withdraw_amendment(amendment: Amendment, *, acting_user, reason: str) -> Amendment:
    """Withdraw an amendment not yet voted on (its topic is withdrawn too)."""
    amendment = _lock_amendment(amendment)
    _require(acting_user, "compact.manage", amendment.village,
             _("您不能撤回该村（社区）的村规民约修订。"))
    if amendment.status != AmendmentStatus.PROPOSED:
        raise ActionError(_("只有尚未表决的修订可以撤回。"))
    reason = _text(reason)
    if not reason:
        raise ActionError(_("请说明撤回的原因。"))
    topic = Topic.objects.select_for_update(of=("self",)).select_related("meeting").get(
        pk=amendment.topic_id)
    if topic.meeting_id and topic.meeting.status == MeetingStatus.IN_PROGRESS:
        raise ActionError(_("会议正在进行，不能撤回已列入议程的修订。"))
    withdraw_topic(topic, acting_user=acting_user, reason=reason)
    amendment.status = AmendmentStatus.WITHDRAWN
    amendment.decided_at = timezone.now()
    amendment.save(update_fields=["status", "decided_at"])
    record("compact.amendment.withdraw", actor=acting_user, obj=amendment,
           before={"status": AmendmentStatus.PROPOSED},
           after={"status": amendment.status, "reason": reason})
    return amendment


def on_decision(event: str, topic: Topic, *, meeting: Meeting, acting_user, vote=None,
                resolution=None) -> None:
    """The meetings app's decision hook: a vote on an amendment's topic decides it; its
    resolution adopts it. A consensus, or a vote of the wrong kind of meeting, is refused."""
    amendment = (Amendment.objects.select_for_update(of=("self",))
                 .filter(topic_id=topic.pk).first())
    if amendment is None:
        return
    if event == "consensus":
        raise ActionError(_("村规民约的修订须经会议表决，不能以协商一致代替。"))
    if event == "vote":
        if amendment.status != AmendmentStatus.PROPOSED:
            raise ActionError(_("该修订已表决或已撤回。"))
        if meeting.kind.code not in ADOPTING_KINDS:
            raise ActionError(_("村规民约须由村民会议或村民代表会议表决。"))
        before = amendment.status
        amendment.status = AmendmentStatus.PASSED if vote.passed else AmendmentStatus.REJECTED
        amendment.decided_at = timezone.now()
        amendment.save(update_fields=["status", "decided_at"])
        record("compact.amendment.vote", actor=acting_user, obj=amendment,
               before={"status": before},
               after={"status": amendment.status, "meeting": meeting.pk,
                      "for": vote.votes_for, "against": vote.votes_against,
                      "abstain": vote.abstentions, "present": vote.present})
        return
    if event == "resolution":
        do_adopt_amendment(amendment, resolution=resolution, acting_user=acting_user)


@transaction.atomic
def do_adopt_amendment(amendment: Amendment, *, resolution, acting_user) -> CompactVersion:
    """Publish the amended text as the next version, adopted by ``resolution``: the
    resolution of the amendment's own topic, on a counted vote that passed at a 村民会议 or
    村民代表会议. Anything else is refused; the versions before stay as they were."""
    from gongzhi.meetings.models import Vote

    amendment = _lock_amendment(amendment)
    if resolution is None or resolution.topic_id != amendment.topic_id:
        raise ActionError(_("只有该修订议题的会议决议才能通过修订。"))
    vote = Vote.objects.filter(topic_id=amendment.topic_id).first()
    if vote is None or not vote.passed or vote.consensus:
        raise ActionError(_("修订未经会议表决通过，不能发布新版本。"))
    meeting = Meeting.objects.select_related("kind").get(pk=resolution.topic.meeting_id)
    if meeting.kind.code not in ADOPTING_KINDS:
        raise ActionError(_("村规民约须由村民会议或村民代表会议表决。"))
    if amendment.status != AmendmentStatus.PASSED:
        raise ActionError(_("该修订不在待发布状态。"))
    compact = Compact.objects.select_for_update().get(pk=amendment.compact_id)
    latest = current_version(compact)
    if latest.pk != amendment.base_version_id:
        raise ActionError(_("修订所依据的版本已不是现行版本，请重新提出修订。"))
    version = CompactVersion(
        compact=compact, county_id=compact.county_id, number=latest.number + 1,
        title=compact.title, preamble=amendment.preamble, articles=amendment.articles,
        adopted_on=timezone.localtime(meeting.starts_at).date(),
        basis=(_("%(meeting)s表决通过") % {"meeting": meeting.title})[:200],
        resolution=resolution, amendment=amendment, published_by=_user(acting_user))
    version.save()
    amendment.status = AmendmentStatus.ADOPTED
    amendment.save(update_fields=["status"])
    record("compact.version.publish", actor=acting_user, obj=amendment,
           after={"compact": compact.pk, "version": version.number, "resolution": resolution.pk,
                  "meeting": meeting.pk, "for": vote.votes_for, "present": vote.present})
    return version


# ---------------------------------------------------------------------------------------------
# Associations (四会) and their meetings


@transaction.atomic
def do_create_association(village: Place, *, acting_user, kind: str, name: str = "",
                          duties: str = "", founded_on: dt.date | None = None) -> Association:
    village = _village(village)
    _require(acting_user, "compact.manage", village, _("您不能管理该村（社区）的群众组织。"))
    if kind not in AssociationKind.values:
        raise ActionError(_("请选择群众组织的类别。"))
    name = _text(name, 60) or str(AssociationKind(kind).label)
    if Association.objects.filter(village=village, name=name).exists():
        raise ActionError(_("该村（社区）已有“%(name)s”。") % {"name": name})
    association = Association(kind=kind, name=name, duties=_text(duties), founded_on=founded_on)
    association.set_place(village)
    association.save()
    record("compact.association.create", actor=acting_user, obj=association,
           after={"village": village.pk, "kind": kind, "name": name})
    return association


@transaction.atomic
def do_add_association_member(association: Association, person: Person, *, acting_user,
                              role: str = MemberRole.MEMBER) -> AssociationMember:
    """Add a registered person; they stand in the meetings app as a member invited to the
    association's meetings only."""
    association = Association.objects.select_for_update(of=("self",)).select_related("village").get(
        pk=association.pk)
    village = association.village
    _require(acting_user, "compact.manage", village, _("您不能管理该村（社区）的群众组织。"))
    if not association.is_active:
        raise ActionError(_("该群众组织已停止活动。"))
    if role not in MemberRole.values:
        raise ActionError(_("请选择职务。"))
    if person.county_id != village.county_id or not person.is_active:
        raise ActionError(_("该人员不在本县（区）的在册名单中。"))
    if association.members.filter(person=person, is_active=True).exists():
        raise ActionError(_("%(name)s已是该组织的成员。") % {"name": person.name})
    if role == MemberRole.PRESIDENT and association.members.filter(
            role=MemberRole.PRESIDENT, is_active=True).exists():
        raise ActionError(_("该组织已有会长，请先调整原会长的职务。"))
    from gongzhi.accounts.models import User

    member = Member(group=ASSOCIATION_GROUP, person=person, name=person.name,
                    user=User.objects.filter(person=person, is_active=True).first())
    member.set_place(village)
    member.save()
    row = AssociationMember.objects.create(association=association, person=person, role=role,
                                           meeting_member=member)
    record("compact.association.member_add", actor=acting_user, obj=association,
           after={"person": person.pk, "role": role, "member": row.pk})
    return row


@transaction.atomic
def do_remove_association_member(row: AssociationMember, *, acting_user) -> AssociationMember:
    row = AssociationMember.objects.select_for_update(of=("self",)).select_related(
        "association__village", "meeting_member").get(pk=row.pk)
    _require(acting_user, "compact.manage", row.association.village,
             _("您不能管理该村（社区）的群众组织。"))
    if not row.is_active:
        raise ActionError(_("该成员已退出。"))
    row.is_active = False
    row.left_on = timezone.localdate()
    row.save(update_fields=["is_active", "left_on"])
    Member.objects.filter(pk=row.meeting_member_id).update(is_active=False)
    record("compact.association.member_remove", actor=acting_user, obj=row.association,
           before={"person": row.person_id, "active": True}, after={"active": False})
    return row


def association_kind(county_id: int) -> MeetingKind:
    """The county's meeting kind for associations' own meetings (created on first use):
    more than half of the members present, decisions by a majority of those present."""
    kind, _created = MeetingKind.objects.get_or_create(
        county_id=county_id, code=ASSOCIATION_KIND,
        defaults={"name": "群众组织会议", "invitee_groups": [],
                  "quorum": meeting_kinds.MORE_THAN_HALF, "decision": "majority_present",
                  "allows_consensus": True, "freeze_days": 0})
    return kind


def association_of(meeting: Meeting) -> Association | None:
    key = meeting.association or ""
    if not key.startswith("association:"):
        return None
    try:
        pk = int(key.split(":", 1)[1])
    except ValueError:
        return None
    return Association.objects.filter(pk=pk, village_id=meeting.village_id).first()


def association_invitees(meeting: Meeting) -> list[Member] | None:
    """The meetings app's invitee source: an association's meeting invites its members."""
    association = association_of(meeting)
    if association is None:
        return None
    return list(Member.objects.filter(
        association_member__association=association, association_member__is_active=True,
        is_active=True).select_related("user").order_by("pk"))


@transaction.atomic
def do_call_association_meeting(association: Association, *, acting_user, starts_at,
                                title: str = "", location: str = "") -> Meeting:
    """A meeting of the association (a meeting of the meetings app: sign-in, quorum, topics,
    votes and minutes as any other), inviting its members."""
    from gongzhi.meetings.actions import do_create_meeting

    association = Association.objects.select_related("village").get(pk=association.pk)
    _require(acting_user, "compact.manage", association.village,
             _("您不能管理该村（社区）的群众组织。"))
    if not association.members.filter(is_active=True).exists():
        raise ActionError(_("该组织还没有成员，不能召开会议。"))
    title = _text(title, 120) or (_("%(name)s会议") % {"name": association.name})[:120]
    meeting = do_create_meeting(association.village, association_kind(association.county_id),
                                acting_user=acting_user, title=title, starts_at=starts_at,
                                location=location, association=association.meeting_key)
    record("compact.association.meeting", actor=acting_user, obj=association,
           after={"meeting": meeting.pk})
    return meeting


# ---------------------------------------------------------------------------------------------
# 道德评议


def _lock_review(review: MoralReview) -> MoralReview:
    return MoralReview.objects.select_for_update(of=("self",)).select_related(
        "village", "association").get(pk=review.pk)


@transaction.atomic
def do_open_review(association: Association, *, acting_user, title: str, held_on: dt.date,
                   meeting: Meeting | None = None) -> MoralReview:
    village = association.village
    _require(acting_user, "compact.review", village, _("您不能记录该村（社区）的道德评议。"))
    if association.kind != AssociationKind.MORAL_REVIEW:
        raise ActionError(_("道德评议由道德评议会进行。"))
    title = _text(title, 120)
    if not title:
        raise ActionError(_("请填写评议名称。"))
    if held_on is None or held_on > timezone.localdate():
        raise ActionError(_("请填写评议日期，且不能晚于今天。"))
    if meeting is not None and association_of(meeting) != association:
        raise ActionError(_("所选会议不是该道德评议会的会议。"))
    review = MoralReview(association=association, title=title, held_on=held_on,
                         meeting=meeting, created_by=_user(acting_user))
    review.set_place(village)
    review.save()
    record("compact.review.open", actor=acting_user, obj=review,
           after={"association": association.pk, "title": title, "held_on": held_on})
    return review


@transaction.atomic
def do_add_review_result(review: MoralReview, *, acting_user, verdict: str, reason: str,
                         household: Household | None = None, person: Person | None = None,
                         honour: str = "") -> ReviewResult:
    review = _lock_review(review)
    _require(acting_user, "compact.review", review.village,
             _("您不能记录该村（社区）的道德评议。"))
    if review.status != ReviewStatus.OPEN:
        raise ActionError(_("该轮评议已评定，不能再增加结果。"))
    if verdict not in Verdict.values:
        raise ActionError(_("请选择评议结果：表扬或批评教育。"))
    if (household is None) == (person is None):
        raise ActionError(_("请选择被评议的一户或一人。"))
    if household is not None and household.place.village_id != review.village_id:
        raise ActionError(_("被评议的户不在本村（社区）。"))
    if person is not None and (person.village_id != review.village_id or not person.is_active):
        raise ActionError(_("被评议的人不是本村（社区）的在册人员。"))
    reason = _text(reason)
    if not reason or len(reason) > 300:
        raise ActionError(_("请填写评议事由（不超过300个字）。"))
    result = ReviewResult.objects.create(review=review, household=household, person=person,
                                         verdict=verdict, honour=_text(honour, 40),
                                         reason=reason)
    record("compact.review.result", actor=acting_user, obj=review,
           after={"result": result.pk, "verdict": verdict,
                  "household": household.pk if household else None,
                  "person": person.pk if person else None})
    return result


@transaction.atomic
def do_conclude_review(review: MoralReview, *, acting_user) -> MoralReview:
    review = _lock_review(review)
    _require(acting_user, "compact.review", review.village,
             _("您不能记录该村（社区）的道德评议。"))
    if review.status != ReviewStatus.OPEN:
        raise ActionError(_("该轮评议已评定。"))
    if not review.results.exists():
        raise ActionError(_("还没有任何评议结果。"))
    review.status = ReviewStatus.CONCLUDED
    review.concluded_at = timezone.now()
    review.save(update_fields=["status", "concluded_at"])
    record("compact.review.conclude", actor=acting_user, obj=review,
           after={"status": review.status, "results": review.results.count()})
    return review


def public_label(result: ReviewResult, labels: dict[int, str]) -> str:
    if result.household_id:
        return labels.get(result.household_id, "")
    return mask_name(result.person.name)


@transaction.atomic
def do_propose_review_honour_list(review: MoralReview, *, acting_user):
    """Draft a 红榜 on the village board from the commended results of a concluded review
    (approved and published there, four eyes). Criticisms are never published this way."""
    from gongzhi.board.actions import do_create_honour_list
    from gongzhi.points.labels import household_labels
    from gongzhi.points.rules import policy_for

    review = _lock_review(review)
    _require(acting_user, "compact.review", review.village,
             _("您不能记录该村（社区）的道德评议。"))
    if review.status != ReviewStatus.CONCLUDED:
        raise ActionError(_("评议评定后才能提名红榜。"))
    if review.honour_list_id:
        raise ActionError(_("已根据该轮评议提名过红榜。"))
    results = list(review.results.filter(verdict=Verdict.COMMEND).select_related("person")
                   .order_by("pk"))
    if not results:
        raise ActionError(_("该轮评议没有表扬的对象，无法提名红榜。"))
    labels = household_labels([r.household_id for r in results if r.household_id],
                              policy_for(review.village))
    entries = []
    for r in results:
        reason = f"{r.honour}：{r.reason}" if r.honour else r.reason
        entries.append({"kind": "household" if r.household_id else "person",
                        "name": public_label(r, labels), "reason": reason[:300]})
    hl = do_create_honour_list(
        place=review.village, kind="red", title=(_("%(name)s评议红榜") % {
            "name": review.title})[:120],
        period_label=(_("%(y)d年%(m)d月") % {"y": review.held_on.year,
                                            "m": review.held_on.month})[:40],
        period_start=review.held_on, period_end=review.held_on,
        intro=_("经%(association)s评议表扬。") % {"association": review.association.name},
        entries=entries, acting_user=acting_user)
    review.honour_list = hl
    review.save(update_fields=["honour_list"])
    record("compact.review.honour", actor=acting_user, obj=review, after={"honour_list": hl.pk})
    return hl
