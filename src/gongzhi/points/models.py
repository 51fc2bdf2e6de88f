"""积分: rule books, recorded deeds, the double-entry ledger, rankings, year ends and the shop.

The ledger (see ``ledger.py`` and ``docs/points.md``):

- an :class:`Account` belongs to a household (the default), to a person scored in a class
  (富源's cadres and party members), or is a village's points pool, the counter-account;
- a :class:`Transaction` is one change, with two or more :class:`Posting` rows that sum to
  zero. Both are append-only: they are inserted, never updated or deleted (the models refuse
  it, and on PostgreSQL a trigger does too). A mistake is fixed by a reversing or correcting
  entry in an open month, which names the original;
- a balance is ``SUM(amount)`` of an account's postings, computed when needed: nothing stores
  a balance, so nothing can drift from the entries;
- a month a village has closed (:class:`MonthClose`) takes no more postings.

Postings copy their account's place columns (county … household), its kind and whether they
count as *earned* points, so that rankings and totals are one ``GROUP BY`` on one table.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet
from gongzhi.places.models import PlaceScoped

HOUSEHOLD_CLASS = "household"


class AppendOnly(models.Model):
    """Rows inserted once: saving an existing row or deleting one raises."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError(f"{type(self).__name__} rows are append-only")
        kwargs["force_insert"] = True
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__} rows are append-only")


# ---------------------------------------------------------------------------------------------
# Rule books (积分细则)


class CapPeriod(models.TextChoices):
    MONTH = "month", _("每月")
    QUARTER = "quarter", _("每季度")
    YEAR = "year", _("每年")


class RuleBook(PlaceScoped):
    """A locality's rule book: for a county, town or village, and everything beneath it.

    The items live in :class:`RuleBookVersion` rows: editing makes a new version, and every
    recorded deed keeps the item (so the version) it was recorded under.
    """

    name = models.CharField(_("名称"), max_length=120)
    preset = models.CharField(_("来源模板"), max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "points"

    class Meta:
        verbose_name = _("积分细则")
        verbose_name_plural = _("积分细则")
        constraints = [models.UniqueConstraint(fields=["place"], name="points_book_one_per_place")]

    def __str__(self) -> str:
        return self.name

    def current(self) -> RuleBookVersion | None:
        if not hasattr(self, "_current"):
            self._current = self.versions.order_by("-number").first()
        return self._current


class RuleBookVersion(models.Model):
    """One version of a rule book: its classes, its policy and (through items) its rules."""

    book = models.ForeignKey(RuleBook, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版本"))
    classes = models.JSONField(_("计分对象类别"), default=list)
    policy = models.JSONField(_("积分政策"), default=dict)
    note = models.CharField(_("修订说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("积分细则版本")
        verbose_name_plural = _("积分细则版本")
        ordering = ["book", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["book", "number"], name="points_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.book} v{self.number}"

    def class_map(self) -> dict[str, dict]:
        return {c["key"]: c for c in self.classes}

    def class_label(self, key: str) -> str:
        return self.class_map().get(key, {}).get("label", key)


class RuleItem(models.Model):
    """一条积分项目: category, description, points (+ or −), evidence, cap, who records it."""

    version = models.ForeignKey(RuleBookVersion, on_delete=models.PROTECT, related_name="items")
    code = models.CharField(_("编号"), max_length=20,
                            help_text=_("同一项目在各版本中编号不变，上限按编号统计"))
    klass = models.CharField(_("适用对象"), max_length=32, default=HOUSEHOLD_CLASS)
    category = models.CharField(_("类别"), max_length=60)
    description = models.CharField(_("内容"), max_length=300)
    points = models.IntegerField(_("分值"))
    evidence_required = models.BooleanField(_("须附佐证"), default=False)
    cap_period = models.CharField(_("上限周期"), max_length=10, choices=CapPeriod.choices,
                                  blank=True)
    cap_count = models.PositiveIntegerField(_("次数上限"), null=True, blank=True)
    cap_points = models.PositiveIntegerField(_("分数上限"), null=True, blank=True)
    recorders = models.JSONField(_("可记录角色"), default=list)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("积分项目")
        verbose_name_plural = _("积分项目")
        ordering = ["version", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="points_item_code_unique"),
            models.CheckConstraint(condition=~models.Q(points=0), name="points_item_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    @property
    def is_deduction(self) -> bool:
        return self.points < 0


# ---------------------------------------------------------------------------------------------
# The ledger


class AccountKind(models.TextChoices):
    HOUSEHOLD = "household", _("户")
    PERSON = "person", _("个人")
    POOL = "pool", _("村积分池")


class Account(PlaceScoped):
    """Whose points: a household (place = the household), a person in a class (place = the
    person's household or village), or a village's pool (place = the village)."""

    kind = models.CharField(_("类型"), max_length=10, choices=AccountKind.choices)
    person = models.ForeignKey("places.Person", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="points_accounts", verbose_name=_("人员"))
    klass = models.CharField(_("类别"), max_length=32, default=HOUSEHOLD_CLASS)
    opened_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "points"

    class Meta:
        verbose_name = _("积分账户")
        verbose_name_plural = _("积分账户")
        constraints = [
            models.UniqueConstraint(fields=["household"], name="points_one_household_account",
                                    condition=models.Q(kind="household")),
            models.UniqueConstraint(fields=["person", "klass"], name="points_one_person_account",
                                    condition=models.Q(kind="person")),
            models.UniqueConstraint(fields=["village"], name="points_one_pool",
                                    condition=models.Q(kind="pool")),
            models.CheckConstraint(
                condition=models.Q(kind="person", person__isnull=False)
                | (~models.Q(kind="person") & models.Q(person__isnull=True)),
                name="points_account_person_iff_person_kind"),
        ]

    def __str__(self) -> str:
        if self.kind == AccountKind.POOL:
            return str(_("%(v)s积分池") % {"v": self.place.name})
        if self.kind == AccountKind.PERSON:
            return f"{self.person.name}（{self.klass}）"
        return self.place.name

    @property
    def is_pool(self) -> bool:
        return self.kind == AccountKind.POOL


class TxnKind(models.TextChoices):
    AWARD = "award", _("加分")
    DEDUCTION = "deduction", _("扣分")
    REDEMPTION = "redemption", _("兑换")
    CORRECTION = "correction", _("更正")
    REVERSAL = "reversal", _("冲销")
    EXPIRY = "expiry", _("年度清零")


# Kinds whose postings count as earned points (rankings, stars, assessments). A correction or
# reversal takes the flag of the entry it fixes.
EARNED_KINDS = frozenset({TxnKind.AWARD, TxnKind.DEDUCTION})


class Transaction(AppendOnly, PlaceScoped):
    """One ledger entry. ``place`` is the household (or the person's place) it concerns."""

    kind = models.CharField(_("类型"), max_length=12, choices=TxnKind.choices)
    memo = models.CharField(_("摘要"), max_length=300)
    source = models.CharField(_("来源"), max_length=64, blank=True,
                              help_text=_("如 claim:12、redemption:5"))
    idempotency_key = models.CharField(max_length=100)
    posted_on = models.DateField(_("记账日期"))
    month = models.DateField(_("所属月份"), help_text=_("记账日期所在月的第一天"))
    original = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="fixes", verbose_name=_("被更正的记录"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "points"

    class Meta:
        verbose_name = _("积分记录")
        verbose_name_plural = _("积分记录")
        ordering = ["-posted_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "idempotency_key"],
                                    name="points_txn_idempotent"),
        ]
        indexes = [models.Index(fields=["village", "month"], name="points_txn_village_month")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.memo}"


class Posting(AppendOnly, PlaceScoped):
    """One line of a transaction: an amount (never zero) on an account."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT,
                                    related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = models.BigIntegerField(_("分值"))
    # Copied from the transaction and the account (never change: both are append-only/fixed).
    posted_on = models.DateField()
    kind = models.CharField(max_length=12, choices=TxnKind.choices)
    account_kind = models.CharField(max_length=10, choices=AccountKind.choices)
    is_earned = models.BooleanField(default=False)

    objects = RestrictQuerySet.as_manager()
    permission_area = "points"

    class Meta:
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="points_posting_nonzero"),
        ]
        indexes = [
            models.Index(fields=["account", "posted_on"], name="points_posting_account"),
            # Rankings and totals: one range scan per county, grouped by a place column.
            models.Index(fields=["county", "account_kind", "posted_on"],
                         name="points_posting_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount:+d}"


class MonthClose(models.Model):
    """一月一审核: a village's month, reviewed and closed. No posting may fall into it again.

    The totals are kept so ``gongzhi points reconcile`` can prove the month was not touched.
    """

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("月份"))
    posting_count = models.PositiveIntegerField(default=0)
    earned_total = models.BigIntegerField(_("当月净得分"), default=0)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("月度结账")
        verbose_name_plural = _("月度结账")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["village", "month"], name="points_month_once"),
        ]

    def __str__(self) -> str:
        return f"{self.village_id} {self.month:%Y-%m}"


# ---------------------------------------------------------------------------------------------
# Recording (一日一记录) and review (一月一审核)


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已认定")
    REJECTED = "rejected", _("未认定")


class ClaimChannel(models.TextChoices):
    DECLARED = "declared", _("群众申报")
    RECORDED = "recorded", _("采集员记录")


class Claim(PlaceScoped):
    """A deed declared by a resident or recorded by a collector, pending until reviewed."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="claims")
    rule = models.ForeignKey(RuleItem, on_delete=models.PROTECT, related_name="claims",
                             verbose_name=_("积分项目"))
    points = models.IntegerField(_("分值"))
    occurred_on = models.DateField(_("发生日期"))
    occurred_time = models.TimeField(_("时间"), null=True, blank=True)
    location = models.CharField(_("地点"), max_length=200)
    reason = models.TextField(_("事由"), max_length=2000)
    channel = models.CharField(_("来源"), max_length=10, choices=ClaimChannel.choices)
    status = models.CharField(_("状态"), max_length=10, choices=ClaimStatus.choices,
                              default=ClaimStatus.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.CharField(_("审核意见"), max_length=300, blank=True)
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="claim")
    posted_points = models.IntegerField(_("实记分值"), null=True, blank=True,
                                        help_text=_("扣分以现有积分为限（扣完为止）"))

    objects = RestrictQuerySet.as_manager()
    permission_area = "points"

    class Meta:
        verbose_name = _("积分申报")
        verbose_name_plural = _("积分申报")
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(fields=["village", "status", "occurred_on"], name="points_claim_queue"),
            models.Index(fields=["account", "occurred_on"], name="points_claim_account"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.rule.description}"


def claim_upload_to(instance: ClaimFile, filename: str) -> str:
    import secrets

    claim = instance.claim
    return f"points/{claim.county_id}/{claim.pk}/{secrets.token_hex(8)}-{filename[-60:]}"


class ClaimFile(models.Model):
    """Evidence (a photo, a scan) of a claim; served only to those who may see the claim."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=claim_upload_to)
    name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------------------------
# Rankings (一季一评议), objections, year ends (一年一核算)


class RankingUnit(models.TextChoices):
    HOUSEHOLD = "household", _("户")
    PERSON = "person", _("个人")
    GRID = "grid", _("网格")
    VILLAGE = "village", _("村/社区")
    TOWN = "town", _("镇/街道")


class RankingStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("公示中")
    FINAL = "final", _("已定稿")


class RankingSnapshot(PlaceScoped):
    """A quarter's ranking of the units under ``place``, frozen when computed."""

    year = models.PositiveIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    unit = models.CharField(_("排名对象"), max_length=10, choices=RankingUnit.choices)
    klass = models.CharField(_("类别"), max_length=32, default=HOUSEHOLD_CLASS)
    period_start = models.DateField()
    period_end = models.DateField()
    title = models.CharField(_("标题"), max_length=160)
    status = models.CharField(_("状态"), max_length=10, choices=RankingStatus.choices,
                              default=RankingStatus.DRAFT)
    row_count = models.PositiveIntegerField(default=0)
    computed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    computed_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    notice_until = models.DateField(_("公示截止"), null=True, blank=True)
    finalised_at = models.DateTimeField(null=True, blank=True)
    honour_list = models.ForeignKey("board.HonourList", on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="+")

    objects = RestrictQuerySet.as_manager()
    permission_area = "points"

    class Meta:
        verbose_name = _("积分排名")
        verbose_name_plural = _("积分排名")
        ordering = ["-year", "-quarter", "-id"]

    def __str__(self) -> str:
        return self.title

    def in_notice(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return (self.status == RankingStatus.PUBLISHED and self.notice_until is not None
                and today <= self.notice_until)


class RankingRow(models.Model):
    """One ranked unit of a snapshot: a frozen copy, written in bulk by ``ranking.py``.

    A snapshot of a county holds a row per household (a million in a large county), so the
    rows carry no foreign-key constraints or single-column indexes of their own: they are
    only ever read through their snapshot, by rank (the one index), and the places and
    accounts they name are never deleted (``PROTECT`` everywhere else).
    """

    snapshot = models.ForeignKey(RankingSnapshot, on_delete=models.CASCADE, related_name="rows",
                                 db_constraint=False, db_index=False)
    rank = models.PositiveIntegerField(_("名次"))
    place = models.ForeignKey("places.Place", on_delete=models.DO_NOTHING, related_name="+",
                              db_constraint=False, db_index=False)
    account = models.ForeignKey(Account, on_delete=models.DO_NOTHING, null=True, blank=True,
                                related_name="+", db_constraint=False, db_index=False)
    total = models.BigIntegerField(_("得分"))
    households = models.PositiveIntegerField(_("户数"), default=1)
    average = models.FloatField(_("户均"), default=0)

    class Meta:
        verbose_name = _("排名行")
        verbose_name_plural = _("排名行")
        ordering = ["snapshot", "rank", "place_id"]
        indexes = [models.Index(fields=["snapshot", "rank"], name="points_row_rank")]

    def __str__(self) -> str:
        return f"{self.rank}. {self.place_id} {self.total}"


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    ANSWERED = "answered", _("已答复")


class Objection(models.Model):
    """A resident's objection to a published ranking, and the answer."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    snapshot = models.ForeignKey(RankingSnapshot, on_delete=models.CASCADE,
                                 related_name="objections")
    row = models.ForeignKey(RankingRow, on_delete=models.DO_NOTHING, null=True, blank=True,
                            related_name="+", db_constraint=False)
    # (rows are replaced only while their snapshot is a draft, when it has no objections)
    household = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    text = models.TextField(_("异议内容"), max_length=2000)
    status = models.CharField(_("状态"), max_length=10, choices=ObjectionStatus.choices,
                              default=ObjectionStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("排名异议")
        verbose_name_plural = _("排名异议")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.text[:20]}"


class YearEndPolicy(models.TextChoices):
    CARRY_OVER = "carry_over", _("结转下年")
    EXPIRE = "expire", _("年末清零")


class YearClose(models.Model):
    """一年一核算: a village's year, accounted once under its policy."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField(_("年度"))
    policy = models.CharField(_("年末政策"), max_length=12, choices=YearEndPolicy.choices)
    earned_total = models.BigIntegerField(_("全年净得分"), default=0)
    expired_total = models.BigIntegerField(_("清零分数"), default=0)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("年度核算")
        verbose_name_plural = _("年度核算")
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["village", "year"], name="points_year_once"),
        ]

    def __str__(self) -> str:
        return f"{self.village_id} {self.year}"


# ---------------------------------------------------------------------------------------------
# The points shop (积分超市 / 平安超市 / 爱心积分兑换区)


class Shop(PlaceScoped):
    """A village's shop (place = the village)."""

    name = models.CharField(_("名称"), max_length=120)
    notes = models.CharField(_("说明"), max_length=300, blank=True)
    is_active = models.BooleanField(_("营业"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "points"

    class Meta:
        verbose_name = _("积分超市")
        verbose_name_plural = _("积分超市")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Good(models.Model):
    """A good on a shop's shelf. Its stock is the sum of its :class:`StockMove` rows."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="goods")
    name = models.CharField(_("名称"), max_length=120)
    unit = models.CharField(_("单位"), max_length=10, default="件")
    price = models.PositiveIntegerField(_("兑换积分"))
    is_active = models.BooleanField(_("上架"), default=True)
    sort_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ["shop", "sort_order", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="points_good_price"),
        ]

    def __str__(self) -> str:
        return self.name


class StockKind(models.TextChoices):
    STOCK_IN = "stock_in", _("入库")
    REDEMPTION = "redemption", _("兑换出库")
    RETURN = "return", _("退回入库")
    ADJUSTMENT = "adjustment", _("盘点调整")


class StockMove(AppendOnly):
    """A change of a good's stock: append-only, like postings."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    good = models.ForeignKey(Good, on_delete=models.PROTECT, related_name="moves")
    quantity = models.IntegerField(_("数量"))
    kind = models.CharField(_("类型"), max_length=12, choices=StockKind.choices)
    redemption = models.ForeignKey("Redemption", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="stock_moves")
    note = models.CharField(_("备注"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("出入库")
        verbose_name_plural = _("出入库")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(quantity=0), name="points_move_nonzero"),
            models.UniqueConstraint(fields=["county", "idempotency_key"],
                                    name="points_move_idempotent",
                                    condition=~models.Q(idempotency_key="")),
        ]
        indexes = [models.Index(fields=["good", "id"], name="points_move_good")]

    def __str__(self) -> str:
        return f"{self.good_id} {self.quantity:+d}"


class RedemptionStatus(models.TextChoices):
    DONE = "done", _("已兑换")
    CANCELLED = "cancelled", _("已撤销")


class Redemption(PlaceScoped):
    """A household's exchange of points for goods at a shop (place = the household)."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="redemptions")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="redemptions")
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT,
                                       related_name="redemption")
    total = models.PositiveIntegerField(_("合计积分"))
    receipt_no = models.CharField(_("凭证号"), max_length=32, unique=True)
    idempotency_key = models.CharField(max_length=100)
    status = models.CharField(_("状态"), max_length=10, choices=RedemptionStatus.choices,
                              default=RedemptionStatus.DONE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("撤销原因"), max_length=300, blank=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "points"

    class Meta:
        verbose_name = _("兑换记录")
        verbose_name_plural = _("兑换记录")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "idempotency_key"],
                                    name="points_redemption_idempotent"),
        ]

    def __str__(self) -> str:
        return self.receipt_no


class RedemptionLine(models.Model):
    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, related_name="lines")
    good = models.ForeignKey(Good, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    quantity = models.PositiveIntegerField()
    unit_price = models.PositiveIntegerField()
    amount = models.PositiveIntegerField()

    class Meta:
        ordering = ["redemption", "id"]

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity}"
