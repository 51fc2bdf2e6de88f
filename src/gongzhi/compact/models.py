"""村规民约 / 居民公约 and 一约四会: the village compact as versioned, published documents;
amendments adopted only through a recorded meeting vote; associations (红白理事会, 村民议事会,
禁毒禁赌会, 道德评议会, 老年人协会 ...) with members and their own meetings; moral reviews
(道德评议) whose commended results are proposed for the honour list.

A :class:`CompactVersion` is never changed once written: ``save()`` refuses an existing row,
``delete()`` refuses, and the manager's ``update()`` / ``delete()`` refuse too. A new version
is written only by :func:`gongzhi.compact.actions.do_adopt_amendment` (from the resolution of
a passed vote) or, for the first version a village registers, by
:func:`~gongzhi.compact.actions.do_register_compact`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet
from gongzhi.meetings.models import MemberGroup
from gongzhi.places.models import PlaceScoped


class CompactKind(models.TextChoices):
    VILLAGE = "village", _("村规民约")
    RESIDENTS = "residents", _("居民公约")


class Compact(PlaceScoped):
    """The compact of one village or community (one each)."""

    kind = models.CharField(_("类别"), max_length=10, choices=CompactKind.choices)
    title = models.CharField(_("名称"), max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "compact"

    class Meta:
        verbose_name = _("村规民约")
        verbose_name_plural = _("村规民约")
        constraints = [models.UniqueConstraint(fields=["village"], name="compact_one_per_village")]

    def __str__(self) -> str:
        return self.title


class ImmutableVersion(Exception):
    """A published version was about to be changed or deleted."""


class VersionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableVersion("compact versions are never changed")

    def delete(self):
        raise ImmutableVersion("compact versions are never deleted")


class CompactVersion(models.Model):
    """One published text of a compact: its articles, in order. Written once."""

    compact = models.ForeignKey(Compact, on_delete=models.PROTECT, related_name="versions")
    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField(_("版本"))
    title = models.CharField(_("名称"), max_length=120)
    preamble = models.TextField(_("序言"), blank=True)
    articles = models.JSONField(_("条款"), default=list)
    adopted_on = models.DateField(_("通过日期"))
    basis = models.CharField(_("通过依据"), max_length=200, blank=True,
                             help_text=_("第一版登记时写明何时经何会议通过"))
    resolution = models.OneToOneField("meetings.Resolution", on_delete=models.PROTECT,
                                      null=True, blank=True, related_name="compact_version")
    amendment = models.OneToOneField("Amendment", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="adopted_version")
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")

    objects = VersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("村规民约版本")
        verbose_name_plural = _("村规民约版本")
        ordering = ["compact_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["compact", "number"], name="compactversion_number"),
            models.CheckConstraint(condition=models.Q(number__gte=1),
                                   name="compactversion_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableVersion("compact versions are never changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableVersion("compact versions are never deleted")


class AmendmentStatus(models.TextChoices):
    PROPOSED = "proposed", _("待表决")
    PASSED = "passed", _("表决通过，待形成决议")
    ADOPTED = "adopted", _("已通过并发布")
    REJECTED = "rejected", _("表决未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_AMENDMENT = (AmendmentStatus.PROPOSED, AmendmentStatus.PASSED)


class Amendment(PlaceScoped):
    """A proposed change of a compact: the whole new text, its diff against the version it
    starts from, and the reason. It is a topic (议题) of the meetings app; one open at a time."""

    compact = models.ForeignKey(Compact, on_delete=models.PROTECT, related_name="amendments")
    base_version = models.ForeignKey(CompactVersion, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("修订名称"), max_length=120)
    reason = models.TextField(_("修订理由"))
    preamble = models.TextField(_("序言"), blank=True)
    articles = models.JSONField(_("修订后条款"), default=list)
    changes = models.JSONField(_("修改对照"), default=list)
    topic = models.OneToOneField("meetings.Topic", on_delete=models.PROTECT,
                                 related_name="compact_amendment")
    status = models.CharField(_("状态"), max_length=10, choices=AmendmentStatus.choices,
                              default=AmendmentStatus.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "compact"

    class Meta:
        verbose_name = _("村规民约修订")
        verbose_name_plural = _("村规民约修订")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["compact"], name="amendment_one_open",
                                    condition=models.Q(status__in=["proposed", "passed"])),
        ]

    def __str__(self) -> str:
        return self.title


# ---------------------------------------------------------------------------------------------
# 四会: associations


class AssociationKind(models.TextChoices):
    WEDDINGS_FUNERALS = "hongbai", _("红白理事会")
    VILLAGERS_COUNCIL = "yishi", _("村民议事会")
    DRUGS_GAMBLING = "jindu", _("禁毒禁赌会")
    MORAL_REVIEW = "moral", _("道德评议会")
    ELDERLY = "elderly", _("老年人协会")
    OTHER = "other", _("其他群众组织")


class Association(PlaceScoped):
    kind = models.CharField(_("类别"), max_length=10, choices=AssociationKind.choices)
    name = models.CharField(_("名称"), max_length=60)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    duties = models.TextField(_("职责"), blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "compact"

    class Meta:
        verbose_name = _("群众组织")
        verbose_name_plural = _("群众组织")
        ordering = ["village_id", "kind", "id"]
        constraints = [models.UniqueConstraint(fields=["village", "name"],
                                               name="association_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def meeting_key(self) -> str:
        """What its meetings carry in ``Meeting.association``."""
        return f"association:{self.pk}"


class MemberRole(models.TextChoices):
    PRESIDENT = "president", _("会长")
    VICE_PRESIDENT = "vice", _("副会长")
    SECRETARY = "secretary", _("秘书长")
    MEMBER = "member", _("会员")


ROLE_ORDER = [MemberRole.PRESIDENT, MemberRole.VICE_PRESIDENT, MemberRole.SECRETARY,
              MemberRole.MEMBER]

# ``meetings.Member.group`` of the rows standing for association members: invited only to
# their association's meetings (``hooks.invitees_for``), never by a kind's groups.
ASSOCIATION_GROUP = MemberGroup.ASSOCIATION


class AssociationMember(models.Model):
    association = models.ForeignKey(Association, on_delete=models.CASCADE,
                                    related_name="members")
    person = models.ForeignKey("places.Person", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("职务"), max_length=10, choices=MemberRole.choices,
                            default=MemberRole.MEMBER)
    meeting_member = models.OneToOneField("meetings.Member", on_delete=models.PROTECT,
                                          related_name="association_member")
    joined_on = models.DateField(_("加入日期"), default=timezone.localdate)
    left_on = models.DateField(_("退出日期"), null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("群众组织成员")
        verbose_name_plural = _("群众组织成员")
        ordering = ["association_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["association", "person"],
                                    name="association_member_once",
                                    condition=models.Q(is_active=True)),
            models.UniqueConstraint(fields=["association"], name="association_one_president",
                                    condition=models.Q(is_active=True, role="president")),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.role}"


# ---------------------------------------------------------------------------------------------
# 道德评议


class Verdict(models.TextChoices):
    COMMEND = "commend", _("表扬（好/先进）")
    CRITICISE = "criticise", _("批评教育")


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("评议中")
    CONCLUDED = "concluded", _("已评定")


class MoralReview(PlaceScoped):
    """A review round of a 道德评议会: households or people named as good examples or for
    criticism, with reasons. Concluded, its commended results may be proposed for the 红榜."""

    association = models.ForeignKey(Association, on_delete=models.PROTECT,
                                    related_name="reviews")
    title = models.CharField(_("评议名称"), max_length=120)
    held_on = models.DateField(_("评议日期"))
    meeting = models.ForeignKey("meetings.Meeting", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=ReviewStatus.choices,
                              default=ReviewStatus.OPEN)
    concluded_at = models.DateTimeField(null=True, blank=True)
    honour_list = models.ForeignKey("board.HonourList", on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "compact"

    class Meta:
        verbose_name = _("道德评议")
        verbose_name_plural = _("道德评议")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.title


class ReviewResult(models.Model):
    review = models.ForeignKey(MoralReview, on_delete=models.CASCADE, related_name="results")
    household = models.ForeignKey("places.Household", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    person = models.ForeignKey("places.Person", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    verdict = models.CharField(_("评议结果"), max_length=10, choices=Verdict.choices)
    honour = models.CharField(_("称号"), max_length=40, blank=True,
                              help_text=_("如 好婆媳、好儿女、文明家庭"))
    reason = models.CharField(_("事由"), max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("评议结果")
        verbose_name_plural = _("评议结果")
        ordering = ["review_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(household__isnull=False, person__isnull=True)
                           | models.Q(household__isnull=True, person__isnull=False)),
                name="reviewresult_one_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.review_id} {self.verdict}"
