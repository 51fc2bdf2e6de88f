"""A March and April of matters on the default preset, walked through the actions at fixed
times; ``test_figures.py`` counts every figure by hand.

Default preset limits: intake 1 working day, handling 10, feedback 2, evaluation 7 (a limit
of N working days ends at 17:30 on the N-th working day after the day the stage began).
March 2025 has no holidays; 4–6 April 2025 is 清明.

- A (grid; claim, walk-in): raised 3 Mar, accepted at once, assigned to the village cadre,
  done 5 Mar, 满意 6 Mar (closed). Summons: the department checks in on time. Return visit:
  solved.
- B (grid2; complaint, WeChat): raised 3 Mar, accepted 5 Mar (late: due 4 Mar 17:30),
  不满意 11 Mar → handled again, due 25 Mar, result 26 Mar (late), 基本满意 27 Mar (closed).
  Summons: the department checks in late. Return visits: unsolved 12 Mar, partly 28 Mar.
- C (grid; suggestion, WeChat): raised 20 Mar, accepted, fed back 31 Mar; nobody rates it:
  no answer, closed 11 Apr. Return visit 31 Mar: unsolved.
- D (grid; claim, walk-in): raised 10 Mar, accepted, escalated to the town 11 Mar (before its
  deadline), the town assigns it to the department, done 12 Mar, 满意 13 Mar. Return visit:
  not reached.
- E (grid; claim): raised 12 Mar, merged into D.
- F (other village; suggestion): raised 14 Mar, declined (不予受理) the same day.
- G (grid; claim, 12345): raised 25 Mar, accepted 26 Mar; still being handled (due 10 Apr).
  Summons: the department never checks in (due 27 Mar); the water bureau, summoned 31 Mar
  23:00, is due 1 Apr 23:00.
- H (the town itself; claim, 上级交办): raised 18 Mar by the town, never accepted.
- I (grid; claim): raised 14 Apr; waiting to be accepted (due 15 Apr 17:30).
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock
from zoneinfo import ZoneInfo

from gongzhi.evaluation.actions import (
    do_record_return_visit,
    do_submit_evaluation,
    expire_evaluations,
)
from gongzhi.evaluation.models import EvaluationRequest
from gongzhi.handling.actions import do_assign, do_check_in, do_escalate, do_summon
from gongzhi.matters import workflow
from gongzhi.matters.actions import do_merge_matters, do_raise_matter, matter_settings
from gongzhi.matters.models import Category, Matter
from gongzhi.places.actions import do_create_organisation

TZ = ZoneInfo("Asia/Shanghai")


def T(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2025) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


MARCH = (T(3, 1, 0), T(4, 1, 0))
APRIL = (T(4, 1, 0), T(5, 1, 0))
NOW = T(4, 15, 12)


@contextmanager
def at(when: dt.datetime):
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


def fresh(matter: Matter) -> Matter:
    return Matter.objects.get(pk=matter.pk)


@dataclass
class Walker:
    tree: object

    def user(self, role):
        return self.tree.user(role)

    def raise_(self, when, *, place=None, ledger="claim", channel="walk_in", title="路灯不亮",
               by="village_cadre", **kw) -> Matter:
        category = Category.objects.get(county=self.tree.county, code="infrastructure")
        with at(when):
            return do_raise_matter(place=place or self.tree.grid, title=title, text=title + "。",
                                   channel=channel, ledger=ledger, category=category,
                                   reporter_name="王小明", acting_user=self.user(by), **kw)

    def step(self, matter, key, when, *, by="village_secretary", **kw) -> Matter:
        with at(when):
            return workflow.do_transition(matter, key, acting_user=self.user(by), **kw)

    def result(self, matter, when, *, by="village_secretary") -> Matter:
        return self.step(matter, "report_result", when, by=by,
                         fields={"outcome": "solved", "outcome_text": "已处理。"})

    def feedback(self, matter, when, *, by="village_secretary") -> Matter:
        return self.step(matter, "give_feedback", when, by=by, comment="已告知反映人。")

    def rate(self, matter, when, outcome) -> Matter:
        req = EvaluationRequest.objects.get(matter=matter, status="pending")
        with at(when):
            do_submit_evaluation(req, outcome=outcome)
        return fresh(matter)

    def call(self, matter, when, *, reached=True, resolved=""):
        with at(when):
            return do_record_return_visit(matter, acting_user=self.user("village_secretary"),
                                          reached=reached, resolved=resolved, at=when)

    def summon(self, matter, when, org):
        with at(when):
            return do_summon(matter, [org], acting_user=self.user("village_secretary"),
                             reason="需要部门到场。")[0]

    def check_in(self, summons, when):
        with at(when):
            return do_check_in(summons, acting_user=self.user("department_liaison"))


def build(tree) -> dict[str, object]:
    """The matters listed above, and the water bureau."""
    matter_settings(tree.county)
    w = Walker(tree)
    water = do_create_organisation(tree.county, acting_user=None, kind="department",
                                   name="县水务局", category="水务")
    m: dict[str, object] = {"water": water}

    # A: on time everywhere, 满意.
    a = w.raise_(T(3, 3, 9))
    a = w.step(a, "accept", T(3, 3, 10))
    with at(T(3, 3, 10, 15)):
        do_assign(a, acting_user=w.user("village_secretary"), mode="self",
                  responsible_user=w.user("village_cadre"))
    s1 = w.summon(a, T(3, 3, 10, 30), tree.department)
    w.check_in(s1, T(3, 3, 11))
    a = w.feedback(w.result(a, T(3, 5, 10)), T(3, 5, 11))
    a = w.rate(a, T(3, 6, 9), "satisfied")
    w.call(a, T(3, 7, 9), resolved="yes")
    m["A"] = a

    # B: a complaint, accepted late, reopened, late again, 基本满意.
    b = w.raise_(T(3, 3, 9, 30), place=tree.grid2, ledger="complaint", channel="wechat",
                 title="举报垃圾乱倒", accused_organisation=water)
    b = w.step(b, "accept", T(3, 5, 9))
    s2 = w.summon(b, T(3, 5, 10), tree.department)
    w.check_in(s2, T(3, 7, 9))
    b = w.feedback(w.result(b, T(3, 10, 10)), T(3, 10, 11))
    b = w.rate(b, T(3, 11, 9), "dissatisfied")  # back to handling, due 25 Mar 17:30
    w.call(b, T(3, 12, 9), resolved="no")
    b = w.feedback(w.result(b, T(3, 26, 10)), T(3, 26, 11))
    b = w.rate(b, T(3, 27, 9), "basic")
    w.call(b, T(3, 28, 9), resolved="partly")
    m["B"] = b

    # C: crosses into April; no answer.
    c = w.raise_(T(3, 20, 9), ledger="suggestion", channel="wechat", title="建议修健身广场")
    c = w.step(c, "accept", T(3, 20, 10))
    c = w.feedback(w.result(c, T(3, 31, 9)), T(3, 31, 10))
    w.call(c, T(3, 31, 15), resolved="no")
    with at(T(4, 11, 9)):
        expire_evaluations(T(4, 11, 9))
    m["C"] = fresh(c)

    # D: escalated to the town, which hands it to the department; E merged into it.
    d = w.raise_(T(3, 10, 9), title="主干道路面塌陷")
    d = w.step(d, "accept", T(3, 10, 10))
    with at(T(3, 11, 9)):
        do_escalate(d, acting_user=w.user("village_secretary"), reason="需要镇里协调。")
    with at(T(3, 11, 10)):
        do_assign(d, acting_user=w.user("town_secretary"), mode="proxy",
                  responsible_org=tree.department)
    e = w.raise_(T(3, 12, 9), title="路面塌陷（重复）")
    with at(T(3, 12, 10)):
        do_merge_matters(e, d, acting_user=w.user("village_secretary"))
    d = w.feedback(w.result(d, T(3, 12, 15), by="town_secretary"), T(3, 12, 16),
                   by="town_secretary")
    d = w.rate(d, T(3, 13, 9), "satisfied")
    w.call(d, T(3, 14, 9), reached=False)
    m["D"], m["E"] = d, fresh(e)

    # F: declined at once, in the other town.
    f = w.raise_(T(3, 14, 9), place=tree.other_grid, ledger="suggestion", by="county_office")
    m["F"] = w.step(f, "decline", T(3, 14, 10), by="county_office", comment="不属于受理范围。")

    # G: still being handled; one unit never checks in, one is not yet due at the month's end.
    g = w.raise_(T(3, 25, 9), channel="hotline12345", title="自来水浑浊")
    g = w.step(g, "accept", T(3, 26, 10))
    m["s_missing"] = w.summon(g, T(3, 26, 11), tree.department)
    m["s_waiting"] = w.summon(g, T(3, 31, 23), water)
    m["G"] = fresh(g)

    # H: raised by the town, never accepted.
    m["H"] = w.raise_(T(3, 18, 9), place=tree.town, channel="superior", by="town_staff",
                      title="上级交办：排查危房")

    # I: April, waiting to be accepted.
    m["I"] = w.raise_(T(4, 14, 9), title="井盖丢失")
    return m
