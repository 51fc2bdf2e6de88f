"""Six months of work in the demo county (示范县), walked through the real actions.

:func:`build_activity` gives the demo villages matters in every stage (accepted, handled by a
cadre, a summoned department or the town after escalation, fed back, rated, some reopened after
a 不满意, some still open and a few overdue), meetings with topics, votes and resolutions, points
deeds approved and spent in the village's points shop, household visits and a volunteer
activity with sign-ups.

Nothing is written directly: every row comes from an action, run at a moment of the past with
``django.utils.timezone.now`` patched to that moment (as the figures' scenario does), so
timestamps, deadlines, the matters' clocks and the audit trail agree. The steps of all the
stories are run in the order of their moments. The content is fixed by the seed; its dates
count back from the moment it is built. At the end the figures' rollups of the county are
rebuilt and the deadline scan runs once, so dashboards and supervision agree with the matters.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
from collections import Counter
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from unittest import mock

from django.db import transaction
from django.utils import timezone

from gongzhi.accounts.models import RoleGrant, User
from gongzhi.accounts.roles import Role
from gongzhi.core.errors import ActionError, ActionForbidden

from .models import Household, Organisation, OrganisationKind, Person, Place, PlaceKind

ACTIVITY_DAYS = 180  # the stories start up to this many days before now
MATTERS = 160
VILLAGES = 6  # the demo village (高城寨村) first, then its town's villages, then others
DEMO_SHARE = 0.4  # the share of the matters raised in the demo village

Story = Generator[dt.datetime, None, None]

# Titles by category code: (title, text).
TITLES: dict[str, tuple[tuple[str, str], ...]] = {
    "neighbour": (("邻居违建挡住采光", "邻居在院墙边加盖彩钢房，挡住了我家窗户的采光，协商未果。"),
                  ("宅基地界线有争议", "两户对宅基地分界有争议，希望村里组织丈量调解。"),
                  ("邻居家狗夜里乱叫", "邻居家的狗夜里叫个不停，老人休息不好，希望劝导。")),
    "farmland": (("灌溉渠堵塞", "二组灌溉渠被杂草和垃圾堵住，下游的地浇不上水。"),
                 ("耕地被占堆放建材", "有人在耕地上堆放建材，影响春播。"),
                 ("土地流转租金未兑现", "去年流转的土地租金还没有发放，希望村里过问。")),
    "environment": (("垃圾清运不及时", "村口垃圾点已经三天没有清运，气味很大。"),
                    ("河道有人倾倒垃圾", "河道边有人倾倒建筑垃圾和生活垃圾。"),
                    ("旱厕改造后不能用", "改厕后抽水设备坏了，希望尽快维修。")),
    "industry": (("希望组织种植技术培训", "想学习苹果矮化密植技术，希望请农技站来讲课。"),
                 ("合作社分红不清楚", "合作社去年的分红账目不清楚，希望公开。")),
    "culture": (("广场舞音响太吵", "晚上广场舞音响声音太大，影响周边住户休息。"),
                ("建议修建文化活动室", "村里年轻人和老人都缺少活动场所，建议修建文化活动室。")),
    "weddings": (("婚事彩礼过高", "建议红白理事会制定彩礼标准，刹住攀比之风。"),
                 ("丧事大操大办", "有户办丧事请戏班连唱三天，希望按村规民约劝导。")),
    "health": (("希望增加老人体检", "村里老人多，希望卫生室每年多组织一次免费体检。"),
               ("卫生室缺少常用药", "村卫生室常用的降压药经常缺货。")),
    "property": (("楼道灯不亮", "3号楼二单元楼道灯坏了一个多月，晚上上下楼不安全。"),
                 ("电梯经常停运", "小区电梯经常停运，物业维修不及时。")),
    "infrastructure": (("路灯不亮", "村东头的路灯坏了好几盏，晚上出行不便。"),
                       ("村道路面塌陷", "进村主干道有一段路面塌陷，车辆通行危险。"),
                       ("自来水水压低", "高处几户自来水水压太低，白天经常没水。"),
                       ("桥栏杆损坏", "村口小桥的栏杆断了，孩子上学经过很危险。")),
    "social_security": (("低保资格复核", "家里老人生病花费大，想申请低保，请帮忙复核。"),
                        ("养老金没有按时到账", "这个月的养老金还没有到账，请帮忙查询。"),
                        ("残疾人补贴申请", "孩子评了残疾等级，想申请两项补贴，不知道怎么办。")),
    "other": (("建议设置快递代收点", "村里快递没有固定代收点，希望设一个。"),
              ("公交班次太少", "进城的公交一天只有两班，希望增加班次。")),
}
LEDGERS = (("suggestion", 0.3), ("claim", 0.5), ("complaint", 0.2))
CHANNELS = (("walk_in", 0.3), ("visit", 0.2), ("wechat", 0.15), ("secretary_phone", 0.12),
            ("reception", 0.08), ("hotline12345", 0.1), ("minqing110", 0.05))
OUTCOMES = (("satisfied", 0.68), ("basic", 0.2), ("dissatisfied", 0.07), ("silent", 0.05))
RESULTS = ("已到现场查看并处理，问题已解决。", "已协调相关单位处理完毕。",
           "已按政策答复并办理。", "已组织双方调解，达成一致意见。")
MEETING_TOPICS = (
    ("村道路灯维修和电费分摊", "路灯由村集体统一维修，电费从集体收入中列支。"),
    ("人居环境整治评比办法", "每季度评比一次“清洁庭院”，结果在公开栏公示并记入积分。"),
    ("灌溉渠清淤安排", "组织各组劳力分段清淤，三月底前完成。"),
    ("村规民约修订", "修订后的村规民约提交村民代表会议讨论。"),
    ("集体果园承包方案", "集体果园公开招标承包，承包期五年。"),
    ("困难户冬季救助", "为五户困难户送去过冬煤炭和米面油。"),
)
VISIT_NOTES = ("家中一切正常，宣传了医保缴费政策。", "老人身体不错，叮嘱注意用电安全。",
               "了解了孩子上学情况，没有困难。", "反映院墙有裂缝，已记下跟进。",
               "宣传了防诈骗知识。", "")
GOODS = (("洗衣粉", 5), ("酱油", 8), ("食用油", 20))


def _aware(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@contextmanager
def at(when: dt.datetime) -> Iterator[None]:
    """Run the actions inside as at ``when``."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


@contextmanager
def rollups_paused() -> Iterator[None]:
    """Without the figures' rollup receivers (each save of a matter, a rating or a return visit
    recounts that matter): the caller rebuilds the county's rollups afterwards. The matters'
    clocks are kept as usual."""
    from django.db.models.signals import post_save, pre_save

    from gongzhi.evaluation.models import Evaluation, EvaluationRequest, ReturnVisit
    from gongzhi.figures import rollups
    from gongzhi.matters.models import Matter

    receivers = [(pre_save, rollups.on_matter_pre_save, Matter, "figures.rollups.matter_pre"),
                 (post_save, rollups.on_matter_post_save, Matter, "figures.rollups.matter_post")]
    for model in (EvaluationRequest, Evaluation, ReturnVisit):
        receivers += [
            (pre_save, rollups.on_voice_pre_save, model, f"figures.rollups.{model.__name__}_pre"),
            (post_save, rollups.on_voice_post_save, model,
             f"figures.rollups.{model.__name__}_post")]
    disconnected = [r for r in receivers if r[0].disconnect(sender=r[2], dispatch_uid=r[3])]
    try:
        yield
    finally:
        for signal, receiver, sender, uid in disconnected:
            signal.connect(receiver, sender=sender, dispatch_uid=uid)


@dataclass
class _Staff:
    """The accounts that work in one village."""

    village: Place
    secretary: User
    cadre: User
    town_secretary: User
    grids: list[tuple[Place, User]]
    people: dict[int, list[Person]] = field(default_factory=dict)  # adults by grid


class _Activity:
    def __init__(self, county: Place, *, seed: int, now: dt.datetime, matters: int):
        self.county = county
        self.rng = random.Random(f"activity-{seed}")
        # Everything happens before today's midnight: two runs on one day give the same content.
        self.now = _aware(timezone.localdate(now), 0)
        self.start = self.now - dt.timedelta(days=ACTIVITY_DAYS)
        self.matters = matters
        self.counts: Counter[str] = Counter()
        self._heap: list[tuple[dt.datetime, int, Story]] = []
        self._seq = itertools.count()

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def pick(rng: random.Random, pairs):
        values, weights = zip(*pairs, strict=True)
        return rng.choices(values, weights)[0]

    @staticmethod
    def later(when: dt.datetime, hours: float) -> dt.datetime:
        """``hours`` after ``when``, moved into office hours (08:00–18:00)."""
        moment = timezone.localtime(when + dt.timedelta(hours=hours))
        if moment.hour < 8:
            moment = moment.replace(hour=8)
        elif moment.hour >= 18:
            moment = (moment + dt.timedelta(days=1)).replace(hour=8)
        return moment

    def add(self, story: Story) -> None:
        try:
            first = next(story)
        except StopIteration:
            return
        heapq.heappush(self._heap, (first, next(self._seq), story))

    def run(self) -> None:
        """Run every story's steps in the order of their moments, up to now."""
        while self._heap:
            when, _n, story = heapq.heappop(self._heap)
            if when > self.now:
                continue  # the rest of this story lies in the future
            with at(when):
                try:
                    following = next(story)
                except StopIteration:
                    continue
            heapq.heappush(self._heap, (max(following, when), next(self._seq), story))

    # -- the cast ---------------------------------------------------------------------------

    def user_at(self, role: str, place: Place) -> User | None:
        grant = (RoleGrant.objects.filter(role=role, place=place, is_active=True,
                                          user__is_active=True)
                 .select_related("user").order_by("user__username").first())
        return grant.user if grant else None

    def cast(self) -> None:
        villages = list(Place.objects.filter(county=self.county, kind=PlaceKind.VILLAGE)
                        .select_related("parent").order_by("code"))
        demo_login = User.objects.filter(username="village_secretary").first()
        demo_grant = (RoleGrant.objects.filter(user=demo_login, role=Role.VILLAGE_SECRETARY,
                                               place__county=self.county).first()
                      if demo_login else None)
        first = next((v for v in villages if demo_grant and v.pk == demo_grant.place_id),
                     villages[0] if villages else None)
        ordered = sorted(villages, key=lambda v: (v != first, v.town_id != first.town_id,
                                                  v.code)) if first else []
        self.staff: list[_Staff] = []
        for village in ordered:
            if len(self.staff) >= VILLAGES:
                break
            secretary = self.user_at(Role.VILLAGE_SECRETARY, village)
            cadre = self.user_at(Role.VILLAGE_CADRE, village)
            town_secretary = self.user_at(Role.TOWN_SECRETARY,
                                          Place.objects.get(pk=village.town_id))
            grids = [(g, self.user_at(Role.GRID_WORKER, g)) for g in
                     Place.objects.filter(parent=village, kind=PlaceKind.GRID).order_by("code")]
            grids = [(g, u) for g, u in grids if u is not None]
            if not (secretary and cadre and town_secretary and grids):
                continue
            staff = _Staff(village, secretary, cadre, town_secretary, grids)
            adult = timezone.localdate(self.start) - dt.timedelta(days=18 * 366)
            for person in (Person.objects.filter(village=village, is_active=True,
                                                 birth_date__lte=adult)
                           .order_by("id")):
                staff.people.setdefault(person.grid_id, []).append(person)
            self.staff.append(staff)
        self.departments = [
            (org, user) for org in Organisation.objects.filter(
                county=self.county, place=self.county, kind=OrganisationKind.DEPARTMENT,
                is_active=True).order_by("id")
            if (user := org.users.filter(is_active=True).order_by("pk").first()) is not None
        ]

    # -- the stories ------------------------------------------------------------------------

    def build(self) -> dict[str, int]:
        from gongzhi.matters.actions import matter_settings
        from gongzhi.matters.models import Category
        from gongzhi.meetings.kinds import ensure_kinds

        with at(self.start - dt.timedelta(days=1)):
            matter_settings(self.county)
            ensure_kinds(self.county)
        self.cast()
        if not self.staff:
            return {}
        self.categories = list(Category.objects.filter(county=self.county).order_by("code"))
        demo = self.staff[0]
        for i in range(self.matters):
            staff = demo if self.rng.random() < DEMO_SHARE else self.rng.choice(self.staff)
            raised = self.later(self.start + dt.timedelta(
                seconds=self.rng.uniform(0, ACTIVITY_DAYS * 86400)), 0)
            self.add(self.matter_story(staff, raised, i))
        for staff in self.staff:
            self.add(self.meetings_story(staff))
            for grid, worker in staff.grids:
                self.add(self.visits_story(staff, grid, worker))
        self.add(self.points_story(demo))
        self.add(self.volunteers_story(demo))
        self.add(self.expiry_story())
        with rollups_paused():
            self.run()
        return self.finish()

    def finish(self) -> dict[str, int]:
        from gongzhi.figures.rollups import rebuild
        from gongzhi.matters.models import Matter
        from gongzhi.supervision.scan import scan_deadlines

        with at(self.now):
            scan_deadlines(self.now)
        rebuild(self.county.pk)
        self.counts["matters"] = Matter.objects.filter(county=self.county).count()
        self.counts["open"] = Matter.objects.filter(county=self.county, is_closed=False).count()
        return dict(self.counts)

    def expiry_story(self) -> Story:
        """The daily job that closes evaluations nobody answered."""
        from gongzhi.evaluation.actions import expire_evaluations

        day = timezone.localdate(self.start)
        while True:
            yield _aware(day, 1)
            expire_evaluations(timezone.now())
            day += dt.timedelta(days=1)

    def matter_story(self, staff: _Staff, when: dt.datetime, n: int) -> Story:
        from gongzhi.evaluation.actions import do_record_return_visit, do_submit_evaluation
        from gongzhi.evaluation.models import EvaluationRequest, RequestStatus
        from gongzhi.handling.actions import do_assign, do_check_in, do_escalate, do_summon
        from gongzhi.matters import workflow
        from gongzhi.matters.actions import do_raise_matter
        from gongzhi.matters.models import Matter

        rng = random.Random(self.rng.random())
        category = rng.choice(self.categories)
        title, text = rng.choice(TITLES.get(category.code, TITLES["other"]))
        grid, worker = rng.choice(staff.grids)
        reporter = rng.choice(staff.people.get(grid.pk) or [None])
        channel = self.pick(rng, CHANNELS)
        raiser = worker if channel == "visit" else staff.cadre
        sec, cadre = staff.secretary, staff.cadre
        # fate: below .04 declined; .04-.08 stalls in handling (overdue); below .16 escalated to
        # the town; .16-.41 a department summoned.
        fate = rng.random()

        def step(key: str, by: User, **kw) -> None:
            nonlocal matter
            matter = workflow.do_transition(Matter.objects.get(pk=matter.pk), key,
                                            acting_user=by, **kw)

        yield when
        matter = do_raise_matter(
            place=grid, title=title, text=text, channel=channel, ledger=self.pick(rng, LEDGERS),
            category=category, reporter_person=reporter,
            reporter_name=reporter.name if reporter else "匿名群众",
            reporter_phone=reporter.phone if reporter and reporter.phone else "",
            acting_user=raiser)
        self.counts["raised"] += 1
        if fate < 0.04:
            yield self.later(when, rng.uniform(1, 6))
            step("decline", sec, comment="经核实不属于村级受理范围，已告知反映人向有关部门反映。")
            return
        if self.now - when < dt.timedelta(days=3) and rng.random() < 0.5:
            return  # raised in the last days: still waiting to be accepted
        yield self.later(when, rng.choice((rng.uniform(0.3, 6), rng.uniform(0.3, 6),
                                           rng.uniform(26, 60))))
        step("accept", cadre)
        handler, when = sec, timezone.now()
        if fate < 0.16 and self.departments:  # escalated to the town, which hands it on
            org, liaison = rng.choice(self.departments)
            yield self.later(when, rng.uniform(4, 48))
            do_escalate(matter, acting_user=sec, reason="村级难以解决，需要镇里协调相关部门。")
            yield self.later(timezone.now(), rng.uniform(1, 8))
            do_assign(matter, acting_user=staff.town_secretary, mode="proxy",
                      responsible_org=org, instructions="请按期办结并反馈。")
            handler = staff.town_secretary
            self.counts["escalated"] += 1
        else:
            if rng.random() < 0.6:
                do_assign(matter, acting_user=sec, mode="self", responsible_user=cadre)
            if fate < 0.41 and self.departments:  # a department is summoned (吹哨)
                org, liaison = rng.choice(self.departments)
                yield self.later(when, rng.uniform(1, 24))
                summons = do_summon(matter, [org], acting_user=sec,
                                    reason="需要部门到现场会商处理。")[0]
                self.counts["summoned"] += 1
                if rng.random() < 0.9:
                    yield timezone.now() + dt.timedelta(hours=rng.choice((
                        rng.uniform(1, 20), rng.uniform(1, 20), rng.uniform(26, 60))))
                    do_check_in(summons, acting_user=liaison, note="已到现场。")
        if 0.04 <= fate < 0.08:
            return  # stalls in handling: overdue once its ten working days are out
        rounds = 0
        while True:
            rounds += 1
            days = rng.choice((rng.uniform(0.5, 8), rng.uniform(0.5, 8), rng.uniform(0.5, 8),
                               rng.uniform(12, 20)))
            yield self.later(timezone.now(), days * 24)
            step("report_result", handler,
                 fields={"outcome": "solved", "outcome_text": rng.choice(RESULTS)})
            yield self.later(timezone.now(), rng.uniform(1, 30))
            step("give_feedback", handler,
                 comment="已当面向反映人反馈办理结果。")
            answer = self.pick(rng, OUTCOMES)
            if rounds > 1 and answer == "dissatisfied":
                answer = "basic"
            if answer == "silent" or reporter is None:
                return  # nobody answers: the daily job closes it as 未评价
            yield self.later(timezone.now(), rng.uniform(2, 96))
            request = EvaluationRequest.objects.filter(matter=matter,
                                                       status=RequestStatus.PENDING).first()
            if request is None:
                return
            do_submit_evaluation(request, outcome=answer,
                                 comment="不满意，问题没有根本解决。" if answer == "dissatisfied"
                                 else "")
            self.counts[f"rated_{answer}"] += 1
            if answer != "dissatisfied":
                break
            self.counts["reopened"] += 1
        matter = Matter.objects.get(pk=matter.pk)
        if rng.random() < 0.3:
            yield self.later(timezone.now(), rng.uniform(24, 72))
            do_record_return_visit(matter, acting_user=sec, reached=True,
                                   resolved="yes" if answer == "satisfied" else "partly",
                                   at=timezone.now())
            self.counts["return_visits"] += 1

    def meetings_story(self, staff: _Staff) -> Story:
        from gongzhi.meetings.actions import (
            do_add_member,
            do_close_meeting,
            do_create_meeting,
            do_open_meeting,
            do_propose_topic,
            do_put_on_agenda,
            do_record_resolution,
            do_record_vote,
            do_sign_in,
        )
        from gongzhi.meetings.kinds import TWO_COMMITTEES, ensure_kinds

        rng = random.Random(self.rng.random())
        sec, cadre = staff.secretary, staff.cadre
        kind = ensure_kinds(self.county)[TWO_COMMITTEES]
        adults = [p for people in staff.people.values() for p in people]
        members = rng.sample(adults, min(5, len(adults)))
        if len(members) < 3:
            return
        yield self.later(self.start, rng.uniform(0, 48))
        for person in members:
            do_add_member(staff.village, "committee", person=person, acting_user=sec)
        topics = rng.sample(MEETING_TOPICS, 4)
        for held_days_ago, pair in ((rng.randint(100, 150), topics[:2]),
                                    (rng.randint(20, 60), topics[2:])):
            starts = _aware(timezone.localdate(self.now - dt.timedelta(days=held_days_ago)), 9, 30)
            yield starts - dt.timedelta(days=kind.freeze_days + 4)
            meeting = do_create_meeting(staff.village, kind, acting_user=sec,
                                        title=f"{kind.name}（{pair[0][0]}等）", starts_at=starts,
                                        location="村委会会议室")
            agenda = []
            for title, _resolution in pair:
                topic = do_propose_topic(staff.village, acting_user=cadre, title=title,
                                         description="提请两委会议研究。")
                agenda.append(do_put_on_agenda(topic, meeting, acting_user=sec))
            yield starts
            meeting = do_open_meeting(meeting, acting_user=sec, chair=str(sec),
                                      recorder=str(cadre))
            invitations = list(meeting.invitations.order_by("pk"))
            present = invitations[:max(len(invitations) - 1, len(invitations) // 2 + 1)]
            for invitation in present:
                do_sign_in(invitation, acting_user=sec)
            for topic, (_title, resolution) in zip(agenda, pair, strict=True):
                do_record_vote(topic, acting_user=sec, votes_for=len(present), votes_against=0)
                do_record_resolution(topic, acting_user=sec, text=resolution,
                                     deadline=timezone.localdate() + dt.timedelta(days=30),
                                     responsible_user=cadre)
                self.counts["resolutions"] += 1
            yield timezone.now() + dt.timedelta(hours=2)
            do_close_meeting(meeting, acting_user=sec, notes="会议按议程进行，形成决议并公开。")
            self.counts["meetings"] += 1

    def visits_story(self, staff: _Staff, grid: Place, worker: User) -> Story:
        from gongzhi.visits.actions import do_record_visit

        rng = random.Random(self.rng.random())
        households = list(Household.objects.filter(place__grid_id=grid.pk)
                          .select_related("place").order_by("pk"))
        if not households:
            return
        chosen = rng.sample(households, min(len(households), rng.randint(3, 6)))
        moments = sorted(self.later(self.start, rng.uniform(0, ACTIVITY_DAYS * 24))
                         for _h in chosen)
        for household, moment in zip(chosen, moments, strict=True):
            yield moment
            met = list(Person.objects.filter(household_id=household.pk, is_active=True)
                       .order_by("pk")[:2])
            home = bool(met) and rng.random() < 0.85
            do_record_visit(household, acting_user=worker, visited_on=timezone.localdate(),
                            met=met if home else [], nobody_home=not home,
                            notes=rng.choice(VISIT_NOTES) if home else "")
            self.counts["visits"] += 1

    def points_story(self, staff: _Staff) -> Story:
        from gongzhi.points import ledger
        from gongzhi.points.actions import (
            do_adopt_rules,
            do_approve_claim,
            do_create_shop,
            do_record_deed,
            do_save_good,
            do_stock_in,
        )
        from gongzhi.points.models import Shop
        from gongzhi.points.rules import current_version

        rng = random.Random(self.rng.random())
        village = staff.village
        reviewer = self.user_at(Role.POINTS_REVIEWER, village) or staff.secretary
        keeper = self.user_at(Role.SHOP_KEEPER, village)
        yield self.later(self.start, 2)
        if current_version(village) is None:
            do_adopt_rules(village, "default", acting_user=staff.secretary)
        items = {i.code: i for i in current_version(village).items.all()}
        rules = [items[c] for c in ("A02", "A04") if c in items]
        households = list(Household.objects.filter(place__village_id=village.pk)
                          .select_related("place").order_by("pk"))
        if not rules or not households:
            return
        shop, goods = None, []
        if keeper is not None and not Shop.objects.filter(place=village).exists():
            shop = do_create_shop(village, name=f"{village.name}积分超市", acting_user=keeper)
            for name, price in GOODS:
                good = do_save_good(shop, name=name, price=price, acting_user=keeper)
                do_stock_in(good, 30, acting_user=keeper)
                goods.append(good)
        households = rng.sample(households, min(15, len(households)))  # the keen ones
        deeds = []
        for _i in range(40):
            moment = self.later(self.start, rng.uniform(72, ACTIVITY_DAYS * 24))
            deeds.append((moment, rng.choice(households), rng.choice(rules)))
        deeds.sort(key=lambda d: d[0])
        pending = []
        spend_from = self.now - dt.timedelta(days=45)
        for n, (moment, household, rule) in enumerate(deeds):
            yield moment
            for claim in pending:  # the reviewer approves the deeds recorded before
                do_approve_claim(claim, acting_user=reviewer, reason="情况属实。")
                self.counts["points_approved"] += 1
            pending = []
            if shop is not None and moment >= spend_from:
                self.redeem(shop, goods, keeper, rng.choice(households), key=f"demo-{n:04d}")
            account = ledger.household_account(household.place)
            try:
                claim = do_record_deed(account, rule, occurred_on=timezone.localdate(),
                                       location="村委会", reason=rule.description,
                                       acting_user=staff.cadre)
            except ActionError:  # the household is at the item's monthly cap: no deed
                continue
            self.counts["points_recorded"] += 1
            pending.append(claim)

    def redeem(self, shop, goods, keeper: User, household: Household, *, key: str) -> None:
        """The household exchanges points for the dearest good it can afford, if any."""
        from gongzhi.points import ledger
        from gongzhi.points.actions import do_redeem

        balance = ledger.balance(ledger.household_account(household.place))
        affordable = [g for g in goods if g.price <= balance]
        if affordable:
            good = max(affordable, key=lambda g: g.price)
            do_redeem(shop, card_code=household.card_code, lines=[(good.pk, 1)],
                      key=f"{key}-{household.pk}", acting_user=keeper)
            self.counts["redemptions"] += 1

    def volunteers_story(self, staff: _Staff) -> Story:
        from gongzhi.volunteers.actions import (
            do_create_activity,
            do_create_team,
            do_publish_activity,
            do_sign_up,
        )

        yield self.now - dt.timedelta(days=12)
        sec = staff.secretary
        team = do_create_team(staff.village, name=f"{staff.village.name}志愿服务队",
                              kind="elderly", description="关爱留守老人和儿童。",
                              acting_user=sec)
        starts = _aware(timezone.localdate(self.now + dt.timedelta(days=5)), 9)
        activity = do_create_activity(
            staff.village, title="为留守老人打扫庭院", address="村委会门口集合",
            starts_at=starts, ends_at=starts + dt.timedelta(hours=3), slots=10, team=team,
            description="帮助独居和留守老人打扫庭院、整理柴草。", acting_user=sec)
        do_publish_activity(activity, acting_user=sec)
        self.counts["volunteer_activities"] += 1
        usernames = ["resident", "grid_worker", "village_cadre"]
        for username in usernames:
            user = User.objects.filter(username=username, county=self.county).first()
            if user is None:
                continue
            yield timezone.now() + dt.timedelta(hours=5)
            try:
                do_sign_up(activity, acting_user=user)
            except (ActionError, ActionForbidden):  # not every login lives near the activity
                continue
            self.counts["signups"] += 1


def build_activity(county: Place, *, seed: int = 2026, matters: int | None = None,
                   now: dt.datetime | None = None) -> dict[str, int]:
    """Give the demo county six months of activity; returns what was made, by kind.

    Meant for a county without matters (the demo command calls it only then). One
    transaction: side effects of the actions (notices, tasks) follow its commit.
    """
    with transaction.atomic():  # all or nothing: a failed run leaves no half-built activity
        return _Activity(county, seed=seed, now=now or timezone.now(),
                         matters=MATTERS if matters is None else matters).build()

