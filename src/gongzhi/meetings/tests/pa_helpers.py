"""Builders for the tests of 四议两公开, 三务公开 and the sunshine report meetings.

Meetings are held through the meeting actions (create, agenda, open, sign-in, vote), matters
walked through the workflow engine, so the tests exercise the paths users take.
"""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from gongzhi.matters import workflow
from gongzhi.matters.models import Matter
from gongzhi.meetings import actions
from gongzhi.meetings.kinds import ensure_kinds
from gongzhi.meetings.models import MemberGroup as G
from gongzhi.meetings.models import Topic, Vote

_names = itertools.count(1)


def secretary(tree):
    return tree.user("village_secretary")


def add_members(tree, group: str, n: int, village=None) -> None:
    village = village or tree.village
    for _i in range(n):
        actions.do_add_member(village, group, acting_user=None, name=f"成员{next(_names)}")


def standard_members(tree) -> None:
    """3 党支部委员, 2 村委会成员, 6 党员, 5 村民代表: a 党支部会议 invites 3, a 两委会议 5,
    a 党员大会 6, a 村民代表会议 7."""
    add_members(tree, G.BRANCH_COMMITTEE, 3)
    add_members(tree, G.COMMITTEE, 2)
    add_members(tree, G.PARTY_MEMBER, 6)
    add_members(tree, G.VILLAGER_REPRESENTATIVE, 5)


def held_meeting(tree, code: str, *, days: int, present: int, title: str = "",
                 village=None):
    """A meeting of kind ``code`` in ``days`` days, opened, with ``present`` signed in."""
    village = village or tree.village
    kinds = ensure_kinds(tree.county)
    sec = secretary(tree)
    meeting = actions.do_create_meeting(
        village, kinds[code], acting_user=sec, title=title or kinds[code].name,
        starts_at=timezone.now() + dt.timedelta(days=days))
    actions.do_open_meeting(meeting, acting_user=sec)
    for inv in list(meeting.invitations.order_by("pk"))[:present]:
        actions.do_sign_in(inv, acting_user=sec)
    meeting.refresh_from_db()
    return meeting


def voted_topic(tree, code: str, *, days: int, present: int, votes_for: int,
                votes_against: int = 0, title: str = "修建村文化广场") -> Topic:
    """A topic put to the vote at a meeting of kind ``code``."""
    sec = secretary(tree)
    village = tree.village
    kinds = ensure_kinds(tree.county)
    meeting = actions.do_create_meeting(
        village, kinds[code], acting_user=sec, title=kinds[code].name,
        starts_at=timezone.now() + dt.timedelta(days=days))
    topic = actions.do_propose_topic(village, acting_user=sec, title=title)
    actions.do_put_on_agenda(topic, meeting, acting_user=sec)
    actions.do_open_meeting(meeting, acting_user=sec)
    for inv in list(meeting.invitations.order_by("pk"))[:present]:
        actions.do_sign_in(inv, acting_user=sec)
    actions.do_record_vote(topic, acting_user=sec, votes_for=votes_for,
                           votes_against=votes_against)
    topic.refresh_from_db()
    assert Vote.objects.filter(topic=topic).exists()
    return topic


def close_matter(tree, matter: Matter, outcome: str = "solved") -> Matter:
    """Walk a matter of the default workflow to closed with ``outcome``."""
    sec = secretary(tree)
    matter = workflow.do_transition(matter, "accept", acting_user=sec)
    fields = {"outcome": outcome, "outcome_text": "已按决议完成"}
    if outcome == "unsolvable":
        fields["explanation"] = "超出村级职权，已向群众解释"
    matter = workflow.do_transition(matter, "report_result", acting_user=sec, fields=fields)
    matter = workflow.do_transition(matter, "give_feedback", acting_user=sec, comment="已反馈")
    matter = workflow.do_transition(matter, "", acting_user=None, trigger="evaluated")
    assert matter.is_closed
    return matter
