"""议: meetings, their kinds and members, agendas (议题) with seconds (附议), sign-in, votes,
resolutions that become matters; 四议两公开 procedures; 三务公开 disclosures; questions raised
at sunshine report meetings (三务三资阳光报告会)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet
from gongzhi.places.models import PlaceScoped


def _village_reach(user, action: str):
    """Grants below the village (grid, household) reach their village's rows (see access.py)."""
    from .access import lower_grant_q

    return lower_grant_q(user, f"meetings.{action}")


class MemberGroup(models.TextChoices):
    PARTY_MEMBER = "party_member", _("党员")
    PARTY_REPRESENTATIVE = "party_rep", _("党员代表")
    VILLAGER_REPRESENTATIVE = "villager_rep", _("村（居）民代表")
    HOUSEHOLD_REPRESENTATIVE = "household_rep", _("户代表")
    COMMITTEE = "committee", _("村（居）委会成员")
    BRANCH_COMMITTEE = "branch_committee", _("党支部委员")
    SUPERVISORY_COMMITTEE = "supervisory", _("村务监督委员会成员")
    LEGAL_ADVISER = "legal_adviser", _("法律顾问")
    DEPUTIES = "deputies", _("两代表一委员")
    SAGES = "sages", _("乡贤")
    RESIDENT_CADRE = "resident_cadre", _("驻村干部")
    STATIONED_UNIT = "stationed_unit", _("驻区单位")
    OWNERS_COMMITTEE = "owners_committee", _("业委会")
    PROPERTY = "property", _("物业")
    RESIDENT = "resident", _("居民")
    ASSOCIATION = "association", _("协会会员")  # an association's own meetings (一约四会)


class MeetingKind(models.Model):
    """A kind of meeting and its rules, per county (builtin kinds seeded; localities add theirs).

    ``quorum`` e.g. {"num": 2, "den": 3} — at least num/den of those invited must sign in;
    null means no quorum rule. ``decision`` is "majority_present" (more than half of those
    present vote for), "two_thirds_present", "majority_members" (more than half of all
    invited), or "consensus" (a recorded consensus suffices)."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("编码"), max_length=40)
    name = models.CharField(_("名称"), max_length=60)
    invitee_groups = models.JSONField(_("参会人员"), default=list)
    quorum = models.JSONField(_("法定人数"), null=True, blank=True)
    decision = models.CharField(_("表决规则"), max_length=24, default="majority_present")
    allows_consensus = models.BooleanField(_("可协商一致"), default=False)
    freeze_days = models.PositiveSmallIntegerField(_("议题提前确定天数"), default=10)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("会议类型")
        verbose_name_plural = _("会议类型")
        constraints = [models.UniqueConstraint(fields=["county", "code"], name="meetingkind_code")]

    def __str__(self) -> str:
        return self.name


class Member(PlaceScoped):
    """A person in a meeting group at a village (e.g. a 村民代表 of 高城寨村)."""

    group = models.CharField(_("群体"), max_length=20, choices=MemberGroup.choices)
    person = models.ForeignKey("places.Person", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                             blank=True, related_name="+")
    name = models.CharField(_("姓名/单位"), max_length=80)
    is_active = models.BooleanField(default=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "meetings"

    class Meta:
        verbose_name = _("议事成员")
        verbose_name_plural = _("议事成员")

    def __str__(self) -> str:
        return f"{self.name}（{self.get_group_display()}）"


class HolidayPolicy(models.TextChoices):
    KEEP = "keep", _("照常举行")
    NEXT_WORKDAY = "next", _("顺延至下一个工作日")
    PREVIOUS_WORKDAY = "previous", _("提前至上一个工作日")


class MeetingSchedule(PlaceScoped):
    """A recurring meeting: e.g. 说事议事日 on the 15th and 30th (last day in short months)."""

    kind = models.ForeignKey(MeetingKind, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("名称"), max_length=80)
    days_of_month = models.JSONField(_("每月日期"), default=list)
    time = models.TimeField(_("时间"))
    location = models.CharField(_("地点"), max_length=120, blank=True)
    holiday_policy = models.CharField(_("遇节假日"), max_length=10, choices=HolidayPolicy.choices,
                                      default=HolidayPolicy.NEXT_WORKDAY)
    is_active = models.BooleanField(default=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "meetings"

    class Meta:
        verbose_name = _("例会安排")
        verbose_name_plural = _("例会安排")

    def __str__(self) -> str:
        return self.title


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("已安排")
    FROZEN = "frozen", _("议题已确定")
    IN_PROGRESS = "in_progress", _("进行中")
    CLOSED = "closed", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class Meeting(PlaceScoped):
    kind = models.ForeignKey(MeetingKind, on_delete=models.PROTECT, related_name="meetings")
    schedule = models.ForeignKey(MeetingSchedule, on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="meetings")
    title = models.CharField(_("会议名称"), max_length=120)
    starts_at = models.DateTimeField(_("开始时间"))
    location = models.CharField(_("地点"), max_length=120, blank=True)
    status = models.CharField(max_length=12, choices=MeetingStatus.choices,
                              default=MeetingStatus.SCHEDULED)
    freeze_at = models.DateTimeField(_("议题确定时间"))
    invited_count = models.PositiveIntegerField(_("应到人数"), default=0)
    quorum_met = models.BooleanField(_("达到法定人数"), default=False)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    chair = models.CharField(_("主持人"), max_length=60, blank=True)
    recorder = models.CharField(_("记录人"), max_length=60, blank=True)
    notes = models.TextField(_("会议记录"), blank=True)
    association = models.CharField(_("所属协会"), max_length=60, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "meetings"

    class Meta:
        verbose_name = _("会议")
        verbose_name_plural = _("会议")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["village", "starts_at"], name="meeting_village_idx")]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "starts_at"], name="meeting_schedule_once",
                                    condition=models.Q(schedule__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def extra_scope_q(cls, user, action: str):
        return _village_reach(user, action)


class Invitation(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    group = models.CharField(max_length=20, choices=MemberGroup.choices)
    signed_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    signed_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("参会人")
        verbose_name_plural = _("参会人")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="invitation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.member_id}"


class TopicSource(models.TextChoices):
    MATTER = "matter", _("群众事项")
    RESIDENT = "resident", _("群众提议")
    STAFF = "staff", _("干部提出")


class TopicStatus(models.TextChoices):
    PROPOSED = "proposed", _("征集中")
    ON_AGENDA = "on_agenda", _("已列入议程")
    DECIDED = "decided", _("已议决")
    DEFERRED = "deferred", _("暂缓")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("撤回")


class Topic(PlaceScoped):
    """议题: proposed from a matter, by residents (who second), or by staff."""

    meeting = models.ForeignKey(Meeting, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="topics")
    title = models.CharField(_("议题"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=TopicSource.choices)
    matter = models.ForeignKey("matters.Matter", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="topics")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    proposer_name = models.CharField(_("提议人"), max_length=60, blank=True)
    status = models.CharField(max_length=12, choices=TopicStatus.choices,
                              default=TopicStatus.PROPOSED)
    is_urgent = models.BooleanField(_("紧急增补"), default=False)
    urgent_reason = models.TextField(_("增补理由"), blank=True)
    seconds_count = models.PositiveIntegerField(_("附议数"), default=0)
    order = models.PositiveSmallIntegerField(default=0)
    discussion = models.TextField(_("讨论情况"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "meetings"

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def extra_scope_q(cls, user, action: str):
        return _village_reach(user, action)


class Second(models.Model):
    """附议: a resident or member seconds a proposed topic (once each)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="seconds")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                             blank=True, related_name="+")
    person = models.ForeignKey("places.Person", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附议")
        verbose_name_plural = _("附议")
        constraints = [
            models.UniqueConstraint(fields=["topic", "user"], name="second_once_user",
                                    condition=models.Q(user__isnull=False)),
            models.UniqueConstraint(fields=["topic", "person"], name="second_once_person",
                                    condition=models.Q(person__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id}"


class Vote(models.Model):
    """The vote on a topic (counted hands or ballots), or a recorded consensus."""

    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, related_name="vote")
    votes_for = models.PositiveIntegerField(_("赞成"), default=0)
    votes_against = models.PositiveIntegerField(_("反对"), default=0)
    abstentions = models.PositiveIntegerField(_("弃权"), default=0)
    present = models.PositiveIntegerField(_("到会人数"))
    consensus = models.BooleanField(_("协商一致"), default=False)
    passed = models.BooleanField(_("通过"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("表决")
        verbose_name_plural = _("表决")

    def __str__(self) -> str:
        return f"{self.topic_id} {self.votes_for}/{self.votes_against}/{self.abstentions}"


class Resolution(models.Model):
    """决议: what was decided, who carries it out, by when; it becomes (or links) a matter."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, related_name="resolution")
    text = models.TextField(_("决议内容"))
    responsible_org = models.ForeignKey("places.Organisation", on_delete=models.SET_NULL,
                                        null=True, blank=True, related_name="+")
    responsible_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                         null=True, blank=True, related_name="+")
    responsible_name = models.CharField(_("责任方"), max_length=80, blank=True)
    deadline = models.DateField(_("完成时限"))
    matter = models.ForeignKey("matters.Matter", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="resolutions")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("决议")
        verbose_name_plural = _("决议")

    def __str__(self) -> str:
        return self.text[:40]


class FourStepStep(models.TextChoices):
    PROPOSAL = "proposal", _("党支部提议")
    CONSULTATION = "consultation", _("两委会议商议")
    REVIEW = "review", _("党员大会审议")
    DECISION = "decision", _("村民代表会议或村民会议决议")
    RESOLUTION_PUBLISHED = "resolution_published", _("决议公开")
    RESULT_PUBLISHED = "result_published", _("实施结果公开")


class FourStepProcedure(PlaceScoped):
    """四议两公开 for a major village matter: four recorded meetings in order, then the two
    disclosures. ``current_step`` is the next step to complete."""

    title = models.CharField(_("重大事项"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    matter = models.ForeignKey("matters.Matter", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+")
    current_step = models.CharField(max_length=24, choices=FourStepStep.choices,
                                    default=FourStepStep.PROPOSAL)
    is_complete = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "meetings"

    class Meta:
        verbose_name = _("四议两公开")
        verbose_name_plural = _("四议两公开")

    def __str__(self) -> str:
        return self.title

    @classmethod
    def extra_scope_q(cls, user, action: str):
        return _village_reach(user, action)


class FourStepRecord(models.Model):
    procedure = models.ForeignKey(FourStepProcedure, on_delete=models.CASCADE,
                                  related_name="records")
    step = models.CharField(max_length=24, choices=FourStepStep.choices)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    disclosure = models.ForeignKey("meetings.Disclosure", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    passed = models.BooleanField(default=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                           blank=True, related_name="+")

    class Meta:
        verbose_name = _("四议两公开步骤")
        verbose_name_plural = _("四议两公开步骤")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "step"], name="fourstep_once"),
        ]

    def __str__(self) -> str:
        return f"{self.procedure_id} {self.step}"


class DisclosureDomain(models.TextChoices):
    PARTY = "party", _("党务")
    VILLAGE = "village", _("村务")
    FINANCE = "finance", _("财务")


class Disclosure(PlaceScoped):
    """三务公开: an item of 党务/村务/财务 for a period, published on the board."""

    domain = models.CharField(_("类别"), max_length=10, choices=DisclosureDomain.choices)
    title = models.CharField(_("标题"), max_length=120)
    content = models.TextField(_("内容"))
    period_start = models.DateField(_("所属期间起"))
    period_end = models.DateField(_("所属期间止"))
    is_major = models.BooleanField(_("重大事项（即时公开）"), default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    meeting = models.ForeignKey(Meeting, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="disclosures",
                                help_text=_("在阳光报告会上报告的事项"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "meetings"

    class Meta:
        verbose_name = _("三务公开")
        verbose_name_plural = _("三务公开")
        ordering = ["-period_end", "domain"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def extra_scope_q(cls, user, action: str):
        return _village_reach(user, action)


class SunshineQuestion(models.Model):
    """A question residents raise on the spot at a sunshine report meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="questions")
    asked_by = models.CharField(_("提问人"), max_length=60, blank=True)
    text = models.TextField(_("问题"))
    answered_on_spot = models.BooleanField(_("当场答复"), default=False)
    answer = models.TextField(_("答复"), blank=True)
    matter = models.ForeignKey("matters.Matter", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("现场问题")
        verbose_name_plural = _("现场问题")

    def __str__(self) -> str:
        return self.text[:40]

    @property
    def is_resolved(self) -> bool:
        """Answered on the spot, or its matter is closed as solved or partly solved (a matter
        merged into another counts by that one). ``sunshine.sunshine_figures`` sums the same
        rule in SQL; ``docs/deliberation.md`` states it."""
        if self.answered_on_spot:
            return True
        m = self.matter
        if m is not None and m.merged_into_id:
            m = m.merged_into
        return bool(m and m.is_closed and m.outcome in ("solved", "partly"))


class DisclosureRhythm(models.TextChoices):
    MONTH = "month", _("每月")
    QUARTER = "quarter", _("每季度")
    YEAR = "year", _("每年")


class DisclosurePolicy(models.Model):
    """A county's 三务公开 rhythm: how often each domain must be published, and how many days
    after a period ends its items are due. No row means the defaults of 村民委员会组织法:
    村务 quarterly, 财务 monthly, 党务 quarterly, due by the 10th (see ``disclosure.py``)."""

    county = models.OneToOneField("places.Place", on_delete=models.PROTECT, primary_key=True,
                                  related_name="+")
    party = models.CharField(_("党务公开周期"), max_length=10, choices=DisclosureRhythm.choices,
                             default=DisclosureRhythm.QUARTER)
    village = models.CharField(_("村务公开周期"), max_length=10, choices=DisclosureRhythm.choices,
                               default=DisclosureRhythm.QUARTER)
    finance = models.CharField(_("财务公开周期"), max_length=10, choices=DisclosureRhythm.choices,
                               default=DisclosureRhythm.MONTH)
    due_days = models.PositiveSmallIntegerField(_("期满后公开期限（天）"), default=10)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("三务公开周期")
        verbose_name_plural = _("三务公开周期")

    def __str__(self) -> str:
        return str(self.county_id)
