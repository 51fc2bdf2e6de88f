"""Builders for the meeting tests: residents with accounts, members, the month ahead."""

from __future__ import annotations

import calendar
import datetime as dt

from django.utils import timezone

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.accounts.roles import Role
from gongzhi.meetings import actions
from gongzhi.meetings.models import MemberGroup
from gongzhi.testing import PASSWORD


def resident(tree, username: str, household=None):
    """Another resident with an account, at ``household`` (default: the tree's second one)."""
    household = household or tree.household2
    user = do_create_user(username, acting_user=None, password=PASSWORD, display_name=username,
                          county=tree.county)
    do_grant_role(user, Role.RESIDENT, household.place, acting_user=None)
    return user


def villager_reps(tree, n: int, *, with_user=None, village=None) -> list:
    """``n`` 村民代表 (names), the first of them linked to ``with_user`` if given."""
    village = village or tree.village
    members = []
    for i in range(n):
        members.append(actions.do_add_member(
            village, MemberGroup.VILLAGER_REPRESENTATIVE, acting_user=None,
            name=f"代表{i + 1}", user=with_user if i == 0 else None))
    return members


def next_month(today: dt.date | None = None) -> tuple[int, int]:
    today = today or timezone.localdate()
    return (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])
