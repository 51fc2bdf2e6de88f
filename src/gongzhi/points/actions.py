"""Every write of 积分: rule books, deeds and their review, month and year closes, fixes,
rankings and objections, honour lists, and the shop.

Each action is atomic, checks the acting user's permission at the place and its
preconditions (raising :class:`ActionForbidden` / :class:`ActionError` before anything
changes), writes through :mod:`gongzhi.points.ledger` where points move, and records one
audit event. Locks follow the ledger's order: accounts by id, then claims, then goods by id.
"""

from __future__ import annotations

import mimetypes
import secrets
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.db.models.functions import Abs, Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.roles import Role
from gongzhi.audit.log import record, snapshot
from gongzhi.core.access import has_permission, user_grants
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters.actions import ALLOWED_UPLOAD_TYPES, MAX_UPLOAD_BYTES, MAX_UPLOADS
from gongzhi.notifications.outbox import notify
from gongzhi.places.models import Person, Place, PlaceKind

from . import ledger, queries
from .ledger import DuplicateEntry, lock_accounts, pool_account
from .models import (
    HOUSEHOLD_CLASS,
    Account,
    AccountKind,
    CapPeriod,
    Claim,
    ClaimChannel,
    ClaimFile,
    ClaimStatus,
    Good,
    MonthClose,
    Objection,
    ObjectionStatus,
    RankingRow,
    RankingSnapshot,
    RankingStatus,
    RankingUnit,
    Redemption,
    RedemptionLine,
    RedemptionStatus,
    RuleBook,
    RuleBookVersion,
    RuleItem,
    Shop,
    StockKind,
    StockMove,
    Transaction,
    TxnKind,
    YearClose,
    YearEndPolicy,
)
from .periods import (
    month_end,
    month_start,
    next_month,
    period_bounds,
    quarter_bounds,
    quarter_months,
    year_bounds,
)
from .ranking import fill_rows, unit_allowed
from .rules import (
    BOOK_LEVELS,
    clean_classes,
    clean_items,
    clean_policy,
    current_version,
    item_dict,
    load_preset,
    policy_for,
)

EVIDENCE_TYPES = frozenset(t for t in ALLOWED_UPLOAD_TYPES
                           if t.startswith("image/") or t == "application/pdf")
MAX_LINES = 20
MAX_QUANTITY = 999


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


def _require(acting_user, permission: str, place: Place, message: str) -> None:
    """``acting_user=None`` is the system itself (commands, jobs, builders), as elsewhere."""
    if acting_user is not None and not has_permission(acting_user, permission, place):
        raise ActionForbidden(message)


def roles_at(user, place: Place) -> set[str]:
    """The roles ``user`` holds at ``place`` (granted there or above)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    if user.is_superuser:
        return set(Role.values)
    return {g.role for g in user_grants(user) if place.ancestor_id(g.kind) == g.place_id}


def may_record(user, place: Place, rule: RuleItem) -> bool:
    """Whether the rule book lets one of the user's roles at ``place`` record ``rule``
    (a system administrator may record any item)."""
    roles = roles_at(user, place)
    return bool(roles & set(rule.recorders)) or Role.ADMINISTRATOR in roles


def _village_of(place: Place) -> Place:
    village_id = place.ancestor_id("village")
    if not village_id:
        raise ActionError(_("积分只记在村（社区）及其下的户和人员名下。"))
    return place if place.pk == village_id else Place.objects.get(pk=village_id)


# =============================================================================================
# Rule books


def _new_version(book: RuleBook, *, classes, policy, items, note: str,
                 acting_user) -> RuleBookVersion:
    last = book.versions.order_by("-number").first()
    version = RuleBookVersion.objects.create(
        book=book, number=(last.number + 1) if last else 1, classes=classes, policy=policy,
        note=note[:300], created_by=_user(acting_user))
    RuleItem.objects.bulk_create([
        RuleItem(version=version, code=i["code"], klass=i["klass"], category=i["category"],
                 description=i["description"], points=i["points"],
                 evidence_required=i["evidence"], cap_period=i["cap"]["period"],
                 cap_count=i["cap"]["count"], cap_points=i["cap"]["points"],
                 recorders=i["recorders"], sort_order=n)
        for n, i in enumerate(items)
    ])
    book._current = version
    return version


def _version_dict(version: RuleBookVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {"number": version.number, "classes": version.classes, "policy": version.policy,
            "items": [item_dict(i) for i in version.items.all()]}


def _check_dropped_classes(book: RuleBook, current: RuleBookVersion | None,
                           classes: list[dict[str, Any]]) -> None:
    """A class people are enrolled in may not disappear from the book."""
    keys = {c["key"] for c in classes}
    dropped = [c["key"] for c in (current.classes if current else []) if c["key"] not in keys]
    if dropped and Account.objects.filter(kind=AccountKind.PERSON, klass__in=dropped,
                                          **{book.place.kind: book.place}).exists():
        raise ActionError(_("已有人员编入的计分类别不能删除。"))


@transaction.atomic
def do_adopt_rules(place: Place, preset: str, *, acting_user) -> RuleBook:
    """Give ``place`` (a county, town or village) the rules of a preset, as a new version."""
    _require(acting_user, "points.rules", place, _("您没有在该地维护积分细则的权限。"))
    if place.kind not in BOOK_LEVELS:
        raise ActionError(_("积分细则只能由县（区）、镇（街道）或村（社区）制定。"))
    data = load_preset(preset)
    classes = clean_classes(data.get("classes", []))
    items = clean_items(data["items"], classes)
    policy = clean_policy(data.get("policy"))
    book = RuleBook.objects.select_for_update().filter(place=place).first()
    before = None
    if book is None:
        book = RuleBook(name=data["name"][:120], preset=preset)
        book.set_place(place)
        book.save(force_insert=True)
    else:
        before = _version_dict(book.current())
        _check_dropped_classes(book, book.current(), classes)
        book.preset = preset
        book.name = data["name"][:120]
        book.save(update_fields=["preset", "name"])
    version = _new_version(book, classes=classes, policy=policy, items=items,
                           note=_("采用模板：%(name)s") % {"name": data["name"]},
                           acting_user=acting_user)
    record("points.rules.adopt", actor=acting_user, obj=book, before=before,
           after=_version_dict(version))
    return book


@transaction.atomic
def do_save_rules(book: RuleBook, *, items: list[dict[str, Any]],
                  classes: list[dict[str, Any]] | None = None,
                  policy: dict[str, Any] | None = None, note: str = "",
                  acting_user) -> RuleBookVersion:
    """Save an edit of the rules as a new version; earlier deeds keep the version they used."""
    book = RuleBook.objects.select_for_update().select_related("place").get(pk=book.pk)
    _require(acting_user, "points.rules", book.place, _("您没有维护该地积分细则的权限。"))
    current = book.current()
    classes = clean_classes(classes if classes is not None else (current.classes if current
                                                                  else []))
    cleaned = clean_items(items, classes)
    policy = clean_policy(policy if policy is not None else (current.policy if current else {}))
    before = _version_dict(current)
    if before and (before["items"], before["classes"], before["policy"]) == (
            cleaned, classes, policy):
        raise ActionError(_("积分细则没有改动。"))
    _check_dropped_classes(book, current, classes)
    version = _new_version(book, classes=classes, policy=policy, items=cleaned,
                           note=note.strip() or _("修订积分细则"), acting_user=acting_user)
    record("points.rules.version", actor=acting_user, obj=book, before=before,
           after=_version_dict(version))
    return version


# =============================================================================================
# People scored in classes (富源: cadres and party members in five classes)


@transaction.atomic
def do_enrol_person(person: Person, klass: str, *, acting_user) -> Account:
    """Open ``person``'s account in a class of the rules that apply to them."""
    _require(acting_user, "points.rules", person.place, _("您没有为人员编入计分类别的权限。"))
    _village_of(person.place)
    version = current_version(person.place)
    classes = version.class_map() if version else {}
    if klass not in classes or classes[klass]["subject"] != "person":
        raise ActionError(_("请选择积分细则中按个人计分的类别。"))
    if not person.is_active:
        raise ActionError(_("该人员已不在册。"))
    existing = Account.objects.filter(kind=AccountKind.PERSON, person=person, klass=klass).first()
    if existing is not None:
        raise ActionError(_("%(name)s 已在该类别中。") % {"name": person.name})
    account = ledger.person_account(person, klass)
    record("points.person.enrol", actor=acting_user, obj=account,
           after={"person": person.pk, "klass": klass})
    return account


# =============================================================================================
# 一日一记录: declaring and recording deeds


def _check_files(files: list) -> None:
    if len(files) > MAX_UPLOADS:
        raise ActionError(_("一次最多上传 %(n)d 个佐证材料。") % {"n": MAX_UPLOADS})
    for upload in files:
        name = getattr(upload, "name", "file")
        ctype = getattr(upload, "content_type", None) or mimetypes.guess_type(name)[0] or ""
        if ctype not in EVIDENCE_TYPES:
            raise ActionError(_("佐证材料 %(n)s 的类型不支持，请上传照片或 PDF。") % {"n": name})
        if upload.size > MAX_UPLOAD_BYTES:
            raise ActionError(_("佐证材料 %(n)s 超过 10MB。") % {"n": name})
        head = upload.read(16)
        upload.seek(0)
        if ctype.startswith("image/") and not _looks_like_image(head):
            raise ActionError(_("佐证材料 %(n)s 不是有效的图片。") % {"n": name})
        if ctype == "application/pdf" and not head.startswith(b"%PDF"):
            raise ActionError(_("佐证材料 %(n)s 不是有效的 PDF。") % {"n": name})


def _looks_like_image(head: bytes) -> bool:
    return (head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG")
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP") or head[:3] == b"GIF")


def _cap_message(rule: RuleItem, used_count: int, used_points: int) -> str | None:
    """A sentence when one more deed of ``rule`` would pass its cap, else None."""
    period = CapPeriod(rule.cap_period).label
    if rule.cap_count is not None and used_count + 1 > rule.cap_count:
        return _("“%(item)s”%(period)s最多记 %(n)d 次，本期已记（含待审核）%(used)d 次。") % {
            "item": rule.description, "period": period, "n": rule.cap_count,
            "used": used_count}
    if rule.cap_points is not None and used_points + abs(rule.points) > rule.cap_points:
        return _("“%(item)s”%(period)s最多记 %(n)d 分，本期已记（含待审核）%(used)d 分。") % {
            "item": rule.description, "period": period, "n": rule.cap_points,
            "used": used_points}
    return None


def cap_use(account: Account, rule: RuleItem, day: date, *, include_pending: bool,
            exclude: Claim | None = None) -> tuple[int, int]:
    """How many deeds of ``rule`` (by code, any version of its book) and how many points the
    account has in the cap period containing ``day``."""
    start, end = period_bounds(day, rule.cap_period)
    statuses = [ClaimStatus.APPROVED, *([ClaimStatus.PENDING] if include_pending else [])]
    qs = Claim.objects.filter(account=account, rule__code=rule.code,
                              rule__version__book_id=rule.version.book_id, status__in=statuses,
                              occurred_on__gte=start, occurred_on__lte=end)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    agg = qs.aggregate(n=Count("id"), p=Coalesce(Sum(Abs("points")), 0))
    return agg["n"], int(agg["p"])


def _check_cap(account, rule, day, *, include_pending: bool, exclude=None) -> None:
    if not rule.cap_period:
        return
    used_count, used_points = cap_use(account, rule, day, include_pending=include_pending,
                                      exclude=exclude)
    message = _cap_message(rule, used_count, used_points)
    if message:
        raise ActionError(message)


def _create_claim(account: Account, rule: RuleItem, *, channel: str, occurred_on: date,
                  occurred_time, location: str, reason: str, files: list,
                  acting_user) -> Claim:
    version = current_version(account.place)
    if version is None:
        raise ActionError(_("本地尚未制定积分细则。"))
    if rule.version_id != version.pk:
        raise ActionError(_("该积分项目已修订，请按最新的积分细则重新选择。"))
    if rule.klass != account.klass:
        raise ActionError(_("该积分项目不适用于这个计分对象。"))
    today = timezone.localdate()
    if occurred_on is None or occurred_on > today:
        raise ActionError(_("请填写事情发生的日期，不能晚于今天。"))
    location, reason = (location or "").strip(), (reason or "").strip()
    if not location or not reason:
        raise ActionError(_("请填写地点和事由。"))
    if len(location) > 200 or len(reason) > 2000:
        raise ActionError(_("地点不超过200字，事由不超过2000字。"))
    if rule.evidence_required and not files:
        raise ActionError(_("该项目须附佐证材料（照片或 PDF）。"))
    _check_files(files)
    lock_accounts([account.pk])  # serialises with closing the month
    if ledger.month_closed(account.village_id, occurred_on):
        raise ActionError(_("%(m)s 已审核结账，不能再申报该月的事项。")
                          % {"m": occurred_on.strftime("%Y-%m")})
    _check_cap(account, rule, occurred_on, include_pending=True)
    claim = Claim(account=account, rule=rule, points=rule.points, occurred_on=occurred_on,
                  occurred_time=occurred_time, location=location, reason=reason,
                  channel=channel, created_by=_user(acting_user))
    claim.set_place(account.place)
    claim.save(force_insert=True)
    for upload in files:
        ClaimFile.objects.create(claim=claim, file=upload, name=getattr(upload, "name",
                                                                        "file")[:120],
                                 content_type=upload.content_type, size=upload.size)
    record(f"points.claim.{channel}", actor=acting_user, obj=claim,
           after={**snapshot(claim), "files": len(files)})
    return claim


@transaction.atomic
def do_declare_deed(household: Place, rule: RuleItem, *, occurred_on: date, location: str,
                    reason: str, occurred_time=None, files: list | None = None,
                    acting_user) -> Claim:
    """A resident declares a deed of their household (一日一记录, from a phone)."""
    _require(acting_user, "points.declare", household, _("您只能为本户申报积分事项。"))
    if household.kind != PlaceKind.HOUSEHOLD:
        raise ActionError(_("请选择您的户。"))
    if Role.RESIDENT not in rule.recorders:
        raise ActionError(_("该项目须由网格员或村干部记录，群众不能自行申报。"))
    account = ledger.household_account(household)
    return _create_claim(account, rule, channel=ClaimChannel.DECLARED, occurred_on=occurred_on,
                         occurred_time=occurred_time, location=location, reason=reason,
                         files=files or [], acting_user=acting_user)


@transaction.atomic
def do_record_deed(account: Account, rule: RuleItem, *, occurred_on: date, location: str,
                   reason: str, occurred_time=None, files: list | None = None,
                   acting_user) -> Claim:
    """A collector (网格员, 村干部) records a deed for a household or a person in a class."""
    if account.is_pool:
        raise ActionError(_("不能给积分池记分。"))
    _require(acting_user, "points.record", account.place, _("您没有在该地记录积分事项的权限。"))
    if acting_user is not None and not may_record(acting_user, account.place, rule):
        raise ActionForbidden(_("按积分细则，您的角色不能记录该项目。"))
    return _create_claim(account, rule, channel=ClaimChannel.RECORDED, occurred_on=occurred_on,
                         occurred_time=occurred_time, location=location, reason=reason,
                         files=files or [], acting_user=acting_user)


# =============================================================================================
# 一月一审核: review, month close


def _locked_claim(claim: Claim) -> Claim:
    lock_accounts([claim.account_id])
    return (Claim.objects.select_for_update(of=("self",))
            .select_related("rule", "rule__version", "account", "place").get(pk=claim.pk))


def _claim_url(claim: Claim) -> str:
    from django.urls import reverse

    return reverse("points:claim", args=[claim.pk])


@transaction.atomic
def do_approve_claim(claim: Claim, *, acting_user, reason: str = "") -> Claim:
    """Approve a pending deed: it posts to the ledger once (key ``claim:<id>``).

    A deduction takes at most what the account holds (扣完为止): a balance never goes below
    zero; the points actually deducted are kept on the claim.
    """
    claim = _locked_claim(claim)
    _require(acting_user, "points.review", claim.place, _("您没有审核该地积分的权限。"))
    if claim.status != ClaimStatus.PENDING:
        raise ActionError(_("该事项已经审核过了。"))
    if _user(acting_user) is not None and claim.created_by_id == acting_user.pk:
        raise ActionForbidden(_("不能审核自己记录或申报的事项，请由其他审核人审核。"))
    account, rule = claim.account, claim.rule
    _check_cap(account, rule, claim.occurred_on, include_pending=False)
    amount = claim.points
    if amount < 0:
        amount = -min(-amount, ledger.balance(account))
    txn = None
    if amount:
        txn = ledger.post(
            kind=TxnKind.AWARD if amount > 0 else TxnKind.DEDUCTION,
            lines=[(account, amount), (pool_account(_village_of(account.place)), -amount)],
            memo=f"{rule.code} {rule.description}", key=f"claim:{claim.pk}",
            posted_on=claim.occurred_on, place=account.place, source=f"claim:{claim.pk}",
            acting_user=acting_user)
    claim.status = ClaimStatus.APPROVED
    claim.reviewed_by = _user(acting_user)
    claim.reviewed_at = timezone.now()
    claim.review_reason = (reason or "").strip()[:300]
    claim.posted_points = amount
    claim.transaction = txn
    claim.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason",
                              "posted_points", "transaction"])
    record("points.claim.approve", actor=acting_user, obj=claim,
           after={"status": claim.status, "points": claim.points, "posted": amount,
                  "transaction": txn.pk if txn else None, "reason": claim.review_reason})
    notify(event="points_claim_approved", users=[claim.created_by], county_id=claim.county_id,
           url=_claim_url(claim), context={"points": amount, "item": rule.description},
           title=_("您记录的积分事项已认定：%(item)s，记 %(n)d 分。") % {
               "item": rule.description, "n": amount})
    return claim


@transaction.atomic
def do_reject_claim(claim: Claim, *, acting_user, reason: str) -> Claim:
    claim = _locked_claim(claim)
    _require(acting_user, "points.review", claim.place, _("您没有审核该地积分的权限。"))
    if claim.status != ClaimStatus.PENDING:
        raise ActionError(_("该事项已经审核过了。"))
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("不予认定时请写明理由。"))
    claim.status = ClaimStatus.REJECTED
    claim.reviewed_by = _user(acting_user)
    claim.reviewed_at = timezone.now()
    claim.review_reason = reason[:300]
    claim.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason"])
    record("points.claim.reject", actor=acting_user, obj=claim,
           after={"status": claim.status, "reason": claim.review_reason})
    notify(event="points_claim_rejected", users=[claim.created_by], county_id=claim.county_id,
           url=_claim_url(claim),
           title=_("您记录的积分事项未予认定：%(item)s。") % {"item": claim.rule.description},
           body=reason)
    return claim


def month_figures(village_id: int, month: date) -> dict[str, int]:
    from django.db.models import Q

    from .models import Posting

    agg = Posting.objects.filter(village_id=village_id, posted_on__gte=month,
                                 posted_on__lt=next_month(month)).aggregate(
        n=Count("id"), e=Coalesce(Sum("amount", filter=Q(is_earned=True) & ~Q(
            account_kind=AccountKind.POOL)), 0))
    return {"posting_count": agg["n"], "earned_total": int(agg["e"])}


def pending_in_month(village: Place, month: date) -> int:
    return Claim.objects.filter(village=village, status=ClaimStatus.PENDING,
                                occurred_on__gte=month, occurred_on__lte=month_end(month)).count()


def _close_month(village: Place, month: date, *, acting_user) -> MonthClose:
    # Every account of the village, in id order: no posting can slip in while we close.
    list(Account.objects.select_for_update().filter(village=village)
         .exclude(kind=AccountKind.POOL).order_by("pk").values_list("pk", flat=True))
    if MonthClose.objects.filter(village=village, month=month).exists():
        raise ActionError(_("%(m)s 已经结账。") % {"m": month.strftime("%Y-%m")})
    pending = pending_in_month(village, month)
    if pending:
        raise ActionError(_("%(m)s 还有 %(n)d 条待审核的事项，审核完毕才能结账。")
                          % {"m": month.strftime("%Y-%m"), "n": pending})
    mc = MonthClose.objects.create(county_id=village.county_id, village=village, month=month,
                                   closed_by=_user(acting_user),
                                   **month_figures(village.pk, month))
    record("points.month.close", actor=acting_user, obj=mc, county_id=village.county_id,
           object_repr=f"{village.name} {month:%Y-%m}",
           after={"village": village.pk, "month": month, "posting_count": mc.posting_count,
                  "earned_total": mc.earned_total})
    return mc


@transaction.atomic
def do_close_month(village: Place, month: date, *, acting_user) -> MonthClose:
    """一月一审核 done: lock the village's month. Refused while deeds of it are pending."""
    _require(acting_user, "points.close", village, _("您没有该村（社区）月度结账的权限。"))
    if village.kind != PlaceKind.VILLAGE:
        raise ActionError(_("月度结账按村（社区）进行。"))
    month = month_start(month)
    if month >= month_start(timezone.localdate()):
        raise ActionError(_("只能结账已经过去的月份。"))
    return _close_month(village, month, acting_user=acting_user)


# =============================================================================================
# Fixes: reversing and correcting entries (never edits)


@transaction.atomic
def do_reverse_transaction(txn: Transaction, *, reason: str, acting_user) -> Transaction:
    """Cancel an entry exactly, with a reversing entry dated today (an open month)."""
    _require(acting_user, "points.correct", txn.place, _("您没有冲销积分的权限。"))
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("请写明冲销理由。"))
    if txn.kind == TxnKind.REVERSAL:
        raise ActionError(_("冲销记录不能再冲销；如仍有差错，请记一笔更正。"))
    if txn.kind == TxnKind.REDEMPTION:
        raise ActionError(_("兑换记录请在兑换凭证上撤销，商品会同时退回库存。"))
    postings = list(txn.postings.select_related("account"))
    lock_accounts(p.account_id for p in postings)
    if Transaction.objects.filter(original=txn, kind=TxnKind.REVERSAL).exists():
        raise ActionError(_("这笔记录已经冲销过了。"))
    reversal = ledger.post(
        kind=TxnKind.REVERSAL, lines=[(p.account, -p.amount) for p in postings],
        memo=_("冲销 #%(id)d：%(reason)s") % {"id": txn.pk, "reason": reason},
        key=f"reverse:{txn.pk}", posted_on=timezone.localdate(), place=txn.place,
        source=f"reverse:{txn.pk}", original=txn, acting_user=acting_user)
    record("points.txn.reverse", actor=acting_user, obj=reversal,
           after={"original": txn.pk, "reason": reason})
    return reversal


@transaction.atomic
def do_post_correction(account: Account, amount: int, *, reason: str, acting_user,
                       original: Transaction | None = None, key: str = "") -> Transaction:
    """A correcting entry of ``amount`` (+ or −) on ``account``, dated today, naming the
    entry it corrects. ``key`` (from the form) makes a resubmission a no-op."""
    _require(acting_user, "points.correct", account.place, _("您没有更正积分的权限。"))
    if account.is_pool:
        raise ActionError(_("不能直接更正积分池。"))
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("请写明更正理由。"))
    if not isinstance(amount, int) or amount == 0 or abs(amount) > 10000:
        raise ActionError(_("更正分值应为非零整数。"))
    if original is not None and original.postings.filter(account=account).count() == 0:
        raise ActionError(_("被更正的记录不属于这个账户。"))
    lock_accounts([account.pk])
    try:
        txn = ledger.post(
            kind=TxnKind.CORRECTION,
            lines=[(account, amount), (pool_account(_village_of(account.place)), -amount)],
            memo=_("更正：%(reason)s") % {"reason": reason},
            key=f"correct:{key or secrets.token_hex(12)}", posted_on=timezone.localdate(),
            place=account.place, source=f"correct:{original.pk}" if original else "correct",
            original=original, acting_user=acting_user)
    except DuplicateEntry as dup:
        return dup.existing
    record("points.txn.correct", actor=acting_user, obj=txn,
           after={"account": account.pk, "amount": amount, "reason": reason,
                  "original": original.pk if original else None})
    return txn


# =============================================================================================
# 一季一评议: rankings, publication, objections


@transaction.atomic
def do_compute_ranking(place: Place, year: int, quarter: int, *, unit: str,
                       klass: str = HOUSEHOLD_CLASS, acting_user) -> RankingSnapshot:
    """Compute and freeze a quarter's ranking (a draft until published)."""
    _require(acting_user, "points.rank", place, _("您没有在该地进行积分排名的权限。"))
    if unit not in RankingUnit.values or not unit_allowed(place, unit):
        raise ActionError(_("排名对象须在所选地点之下。"))
    if quarter not in (1, 2, 3, 4) or not 2000 <= year <= 2100:
        raise ActionError(_("请选择正确的年度和季度。"))
    start, end = quarter_bounds(year, quarter)
    if start > timezone.localdate():
        raise ActionError(_("该季度还没有开始。"))
    if unit == RankingUnit.PERSON:
        version = current_version(place)
        classes = version.class_map() if version else {}
        if klass not in classes or classes[klass]["subject"] != "person":
            raise ActionError(_("请选择按个人计分的类别。"))
        label = classes[klass]["label"]
    else:
        klass = HOUSEHOLD_CLASS
        label = RankingUnit(unit).label
    title = _("%(place)s %(y)d年第%(q)d季度积分排名（%(unit)s）") % {
        "place": place.name, "y": year, "q": quarter, "unit": label}
    snap = RankingSnapshot(year=year, quarter=quarter, unit=unit, klass=klass,
                           period_start=start, period_end=end, title=title[:160],
                           computed_by=_user(acting_user))
    snap.set_place(place)
    snap.save(force_insert=True)
    snap.row_count = fill_rows(snap, start, end)
    snap.save(update_fields=["row_count"])
    record("points.ranking.compute", actor=acting_user, obj=snap,
           after={"year": year, "quarter": quarter, "unit": unit, "klass": klass,
                  "rows": snap.row_count})
    return snap


def open_months(place: Place, year: int, quarter: int) -> list[tuple[Place, date]]:
    """Months of the quarter not yet closed in villages under ``place`` that have points or
    deeds in the quarter."""
    from .models import Posting

    start, end = quarter_bounds(year, quarter)
    village_ids = set(Posting.objects.filter(place.scope_q(), posted_on__gte=start,
                                             posted_on__lte=end).values_list("village_id",
                                                                             flat=True)
                      .distinct().order_by())
    village_ids |= set(Claim.objects.filter(place.scope_q(), occurred_on__gte=start,
                                            occurred_on__lte=end).values_list("village_id",
                                                                              flat=True)
                       .distinct().order_by())
    if place.kind in ("village", "grid") and place.ancestor_id("village"):
        village_ids.add(place.ancestor_id("village"))
    closed = set(MonthClose.objects.filter(village_id__in=village_ids,
                                           month__in=quarter_months(year, quarter))
                 .values_list("village_id", "month"))
    villages = {v.pk: v for v in Place.objects.filter(pk__in=village_ids)}
    return [(villages[v], m) for v in sorted(village_ids) for m in quarter_months(year, quarter)
            if (v, m) not in closed]


@transaction.atomic
def do_publish_ranking(snap: RankingSnapshot, *, acting_user) -> RankingSnapshot:
    """Publish on the public board for the notice period. Every month of the quarter must be
    closed first, so the figures can no longer move."""
    snap = RankingSnapshot.objects.select_for_update().select_related("place").get(pk=snap.pk)
    _require(acting_user, "points.rank", snap.place, _("您没有发布该地积分排名的权限。"))
    if snap.status != RankingStatus.DRAFT:
        raise ActionError(_("只有草稿可以发布。"))
    missing = open_months(snap.place, snap.year, snap.quarter)
    if missing:
        v, m = missing[0]
        raise ActionError(_("%(v)s %(m)s 尚未审核结账，季度排名须在本季度各月结账后发布。")
                          % {"v": v.name, "m": m.strftime("%Y-%m")})
    if RankingSnapshot.objects.filter(
            place=snap.place, year=snap.year, quarter=snap.quarter, unit=snap.unit,
            klass=snap.klass, status__in=[RankingStatus.PUBLISHED, RankingStatus.FINAL]).exists():
        raise ActionError(_("该季度的这项排名已经发布过了。"))
    # A draft may predate the last reviews of the quarter: the published figures are
    # recomputed now that every month is closed, and can no longer move.
    snap.rows.all().delete()
    snap.row_count = fill_rows(snap, snap.period_start, snap.period_end)
    today = timezone.localdate()
    snap.status = RankingStatus.PUBLISHED
    snap.published_by = _user(acting_user)
    snap.published_at = timezone.now()
    snap.notice_until = today + timedelta(days=int(policy_for(snap.place)["notice_days"]))
    snap.computed_at = snap.published_at
    snap.save(update_fields=["status", "published_by", "published_at", "notice_until",
                             "row_count", "computed_at"])
    record("points.ranking.publish", actor=acting_user, obj=snap,
           after={"status": snap.status, "notice_until": snap.notice_until,
                  "rows": snap.row_count})
    return snap


def resident_households(user, under: Place | None = None):
    """Households where ``user`` holds ``points.declare`` (a resident's own)."""
    from gongzhi.core.access import grants_with

    ids = [g.place_id for g in grants_with(user, "points.declare") if g.kind == "household"]
    qs = Place.objects.filter(pk__in=ids, kind=PlaceKind.HOUSEHOLD, is_active=True)
    if under is not None:
        qs = qs.filter(under.scope_q())
    return qs.order_by("pk")


@transaction.atomic
def do_object_ranking(snap: RankingSnapshot, *, text: str, acting_user,
                      row: RankingRow | None = None) -> Objection:
    """A resident of a household under the ranking objects during the notice period."""
    snap = RankingSnapshot.objects.select_related("place").get(pk=snap.pk)
    households = list(resident_households(acting_user, snap.place))
    if not households:
        raise ActionForbidden(_("只有本地居民可以对公示的排名提出异议。"))
    if not snap.in_notice():
        raise ActionError(_("公示期已过或排名未公示，不能再提出异议。"))
    text = (text or "").strip()
    if not text:
        raise ActionError(_("请写明异议内容。"))
    if len(text) > 2000:
        raise ActionError(_("异议内容不超过2000字。"))
    if row is not None and row.snapshot_id != snap.pk:
        raise ActionError(_("异议所指的排名行不属于该排名。"))
    obj = Objection.objects.create(county_id=snap.county_id, snapshot=snap, row=row,
                                   household=households[0], text=text,
                                   created_by=_user(acting_user))
    record("points.ranking.object", actor=acting_user, obj=obj, county_id=snap.county_id,
           after={"snapshot": snap.pk, "row": row.pk if row else None, "text": text})
    from gongzhi.accounts.models import User

    staff = [u for u in User.objects.filter(grants__is_active=True,
                                            grants__place_id__in=snap.place.ancestor_ids())
             .distinct() if has_permission(u, "points.rank", snap.place)]
    notify(event="points_objection", users=staff, county_id=snap.county_id,
           title=_("积分排名“%(t)s”收到一条异议。") % {"t": snap.title}, body=text[:500])
    return obj


@transaction.atomic
def do_answer_objection(obj: Objection, *, answer: str, acting_user) -> Objection:
    obj = Objection.objects.select_for_update(of=("self",)).select_related(
        "snapshot", "snapshot__place").get(pk=obj.pk)
    _require(acting_user, "points.rank", obj.snapshot.place, _("您没有答复积分排名异议的权限。"))
    if obj.status != ObjectionStatus.OPEN:
        raise ActionError(_("该异议已经答复过了。"))
    answer = (answer or "").strip()
    if not answer:
        raise ActionError(_("请填写答复内容。"))
    obj.status = ObjectionStatus.ANSWERED
    obj.answer = answer[:2000]
    obj.answered_by = _user(acting_user)
    obj.answered_at = timezone.now()
    obj.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    record("points.ranking.answer", actor=acting_user, obj=obj, county_id=obj.county_id,
           after={"answer": obj.answer})
    notify(event="points_objection_answered", users=[obj.created_by], county_id=obj.county_id,
           title=_("您对积分排名提出的异议已答复。"), body=obj.answer[:500])
    return obj


def _finalise(snap: RankingSnapshot, *, acting_user, today: date) -> bool:
    if snap.status != RankingStatus.PUBLISHED or snap.notice_until is None:
        return False
    if today <= snap.notice_until or snap.objections.filter(
            status=ObjectionStatus.OPEN).exists():
        return False
    snap.status = RankingStatus.FINAL
    snap.finalised_at = timezone.now()
    snap.save(update_fields=["status", "finalised_at"])
    record("points.ranking.final", actor=acting_user, obj=snap, after={"status": snap.status})
    return True


@transaction.atomic
def do_finalise_ranking(snap: RankingSnapshot, *, acting_user) -> RankingSnapshot:
    """After the notice period, with every objection answered, the ranking is final."""
    snap = RankingSnapshot.objects.select_for_update().select_related("place").get(pk=snap.pk)
    _require(acting_user, "points.rank", snap.place, _("您没有定稿积分排名的权限。"))
    if snap.status != RankingStatus.PUBLISHED:
        raise ActionError(_("只有公示中的排名可以定稿。"))
    if snap.objections.filter(status=ObjectionStatus.OPEN).exists():
        raise ActionError(_("还有异议没有答复，答复后才能定稿。"))
    if timezone.localdate() <= snap.notice_until:
        raise ActionError(_("公示期尚未结束（至 %(d)s）。") % {"d": snap.notice_until})
    _finalise(snap, acting_user=acting_user, today=timezone.localdate())
    return snap


def finalise_due_rankings(now=None) -> dict[str, int]:
    """A periodic step: rankings whose notice has ended with every objection answered."""
    today = timezone.localdate(now) if now else timezone.localdate()
    done = 0
    for pk in RankingSnapshot.objects.filter(status=RankingStatus.PUBLISHED,
                                             notice_until__lt=today).values_list("pk",
                                                                                 flat=True):
        with transaction.atomic():
            snap = RankingSnapshot.objects.select_for_update().get(pk=pk)
            done += _finalise(snap, acting_user=None, today=today)
    return {"finalised": done} if done else {}


# ---------------------------------------------------------------------------------------------
# Honour lists (红榜) proposed from rankings and stars, through the board's own actions


def _board_place(place: Place) -> Place:
    if place.kind in BOOK_LEVELS:
        return place
    return _village_of(place)


@transaction.atomic
def do_propose_honour_list(snap: RankingSnapshot, *, top: int = 10, acting_user):
    """Draft a 红榜 on the board from the top of a published ranking (approved and published
    there, four eyes)."""
    from gongzhi.board.actions import do_create_honour_list

    from .labels import row_labels

    snap = RankingSnapshot.objects.select_for_update().select_related("place").get(pk=snap.pk)
    _require(acting_user, "points.rank", snap.place, _("您没有提名红榜的权限。"))
    if snap.status not in (RankingStatus.PUBLISHED, RankingStatus.FINAL):
        raise ActionError(_("排名公示后才能据此提名红榜。"))
    if snap.honour_list_id:
        raise ActionError(_("已根据该排名提名过红榜。"))
    top = max(1, min(int(top or 10), 100))
    rows = list(snap.rows.filter(total__gt=0).order_by("rank", "place_id")[:top])
    if not rows:
        raise ActionError(_("该排名没有得分为正的对象，无法提名红榜。"))
    labels = row_labels(snap, rows)
    kind = {"household": "household", "person": "person"}.get(snap.unit, "unit")
    entries = [{"kind": kind, "name": labels[r.pk],
                "reason": _("第%(q)d季度积分 %(n)d 分，排名第 %(r)d。") % {
                    "q": snap.quarter, "n": r.total, "r": r.rank}} for r in rows]
    hl = do_create_honour_list(
        place=_board_place(snap.place), kind="red",
        title=_("%(y)d年第%(q)d季度积分红榜") % {"y": snap.year, "q": snap.quarter},
        period_label=_("%(y)d年第%(q)d季度") % {"y": snap.year, "q": snap.quarter},
        period_start=snap.period_start, period_end=snap.period_end,
        intro=_("根据%(t)s提名。") % {"t": snap.title}, entries=entries, acting_user=acting_user)
    snap.honour_list = hl
    snap.save(update_fields=["honour_list"])
    record("points.ranking.honour", actor=acting_user, obj=snap, after={"honour_list": hl.pk})
    return hl


# =============================================================================================
# 一年一核算: year close, expiry or carry-over


def _expire_account(account: Account, year: int, pool: Account, *, acting_user) -> int:
    _start, end = year_bounds(year)
    amount = min(ledger.balance(account, end), ledger.balance(account))
    if amount <= 0:
        return 0
    try:
        ledger.post(kind=TxnKind.EXPIRY, lines=[(account, -amount), (pool, amount)],
                    memo=_("%(y)d年度积分年末清零") % {"y": year},
                    key=f"expire:{year}:{account.pk}", posted_on=timezone.localdate(),
                    place=account.place, source=f"expire:{year}", acting_user=acting_user)
    except DuplicateEntry:
        return 0
    return amount


@transaction.atomic
def do_close_year(village: Place, year: int, *, acting_user) -> YearClose:
    """一年一核算: close the village's year under its policy (carry over or expire).

    Months of the year still open are closed first (each refused while deeds are pending).
    Under ``expire`` each account loses what it held at the year's end, except what it has
    since spent: ``min(balance at 31 Dec, balance now)``, posted to the pool, once per account
    and year (idempotency key ``expire:<year>:<account>``).
    """
    _require(acting_user, "points.year", village, _("您没有该村（社区）年度核算的权限。"))
    if village.kind != PlaceKind.VILLAGE:
        raise ActionError(_("年度核算按村（社区）进行。"))
    start, end = year_bounds(year)
    if end >= timezone.localdate():
        raise ActionError(_("%(y)d年尚未结束，不能核算。") % {"y": year})
    accounts = list(Account.objects.select_for_update().filter(village=village)
                    .exclude(kind=AccountKind.POOL).order_by("pk"))
    if YearClose.objects.filter(village=village, year=year).exists():
        raise ActionError(_("%(y)d年度已经核算过了。") % {"y": year})
    pending = Claim.objects.filter(village=village, status=ClaimStatus.PENDING,
                                   occurred_on__gte=start, occurred_on__lte=end).count()
    if pending:
        raise ActionError(_("%(y)d年还有 %(n)d 条待审核的事项，审核完毕才能核算。")
                          % {"y": year, "n": pending})
    closed = set(MonthClose.objects.filter(village=village, month__gte=start,
                                           month__lte=end).values_list("month", flat=True))
    for m in range(1, 13):
        month = date(year, m, 1)
        if month not in closed:
            _close_month(village, month, acting_user=acting_user)
    policy = policy_for(village)["year_end"]
    expired = 0
    if policy == YearEndPolicy.EXPIRE:
        pool = pool_account(village)
        for account in accounts:
            expired += _expire_account(account, year, pool, acting_user=acting_user)
    earned = queries.place_total(village, start, end)
    yc = YearClose.objects.create(county_id=village.county_id, village=village, year=year,
                                  policy=policy, earned_total=earned, expired_total=expired,
                                  closed_by=_user(acting_user))
    record("points.year.close", actor=acting_user, obj=yc, county_id=village.county_id,
           object_repr=f"{village.name} {year}",
           after={"policy": policy, "earned_total": earned, "expired_total": expired})
    return yc


@transaction.atomic
def do_propose_star_list(village: Place, year: int, *, min_stars: int = 1, acting_user):
    """Draft a 星级文明户 红榜 on the board from the year's stars."""
    from gongzhi.board.actions import do_create_honour_list

    from .labels import household_labels

    _require(acting_user, "points.rank", village, _("您没有提名星级文明户的权限。"))
    stars_policy = policy_for(village).get("stars") or []
    if not stars_policy:
        raise ActionError(_("本地积分细则没有设置星级标准。"))
    start, end = year_bounds(year)
    totals = queries.totals_by("household", village, start, end)
    starred = sorted(((queries.stars_for(t, stars_policy), t, hid) for hid, t in totals.items()
                      if queries.stars_for(t, stars_policy) >= max(1, min_stars)),
                     key=lambda x: (-x[0], -x[1], x[2]))[:200]
    if not starred:
        raise ActionError(_("该年度没有达到星级标准的户。"))
    labels = household_labels([hid for _s, _t, hid in starred], policy_for(village))
    entries = [{"kind": "household", "name": labels[hid],
                "reason": _("%(y)d年度积分 %(n)d 分，评为%(s)d星级文明户。") % {
                    "y": year, "n": t, "s": s}} for s, t, hid in starred]
    return do_create_honour_list(
        place=village, kind="red", title=_("%(y)d年度星级文明户") % {"y": year},
        period_label=_("%(y)d年度") % {"y": year}, period_start=start, period_end=end,
        intro=_("按本地积分细则的星级标准，根据全年积分评定。"), entries=entries,
        acting_user=acting_user)


# =============================================================================================
# The points shop


@transaction.atomic
def do_create_shop(village: Place, *, name: str = "", notes: str = "", acting_user) -> Shop:
    _require(acting_user, "points.shop", village, _("您没有在该地开设积分超市的权限。"))
    if village.kind != PlaceKind.VILLAGE:
        raise ActionError(_("积分超市设在村（社区）。"))
    name = (name or "").strip() or policy_for(village)["shop_name"]
    shop = Shop(name=name[:120], notes=(notes or "").strip()[:300])
    shop.set_place(village)
    shop.save(force_insert=True)
    record("points.shop.create", actor=acting_user, obj=shop, after=snapshot(shop))
    return shop


@transaction.atomic
def do_save_good(shop: Shop, *, name: str, price: int, unit: str = "件", is_active: bool = True,
                 good: Good | None = None, acting_user) -> Good:
    """Add a good or change one; a new price applies to later redemptions only."""
    _require(acting_user, "points.shop", shop.place, _("您没有管理该积分超市的权限。"))
    name, unit = (name or "").strip(), (unit or "").strip() or "件"
    if not name:
        raise ActionError(_("请填写商品名称。"))
    if not isinstance(price, int) or not 0 < price <= 100000:
        raise ActionError(_("兑换积分应为正整数。"))
    if good is None:
        good = Good.objects.create(shop=shop, name=name[:120], unit=unit[:10], price=price,
                                   is_active=is_active)
        record("points.good.create", actor=acting_user, obj=good, county_id=shop.county_id,
               after=snapshot(good))
        return good
    good = Good.objects.select_for_update().get(pk=good.pk, shop=shop)
    before = snapshot(good)
    good.name, good.unit, good.price, good.is_active = name[:120], unit[:10], price, is_active
    good.save(update_fields=["name", "unit", "price", "is_active"])
    record("points.good.update", actor=acting_user, obj=good, county_id=shop.county_id,
           before=before, after=snapshot(good))
    return good


def stock_of(good: Good | int) -> int:
    good_id = good.pk if isinstance(good, Good) else good
    return int(StockMove.objects.filter(good_id=good_id).aggregate(
        s=Coalesce(Sum("quantity"), 0))["s"])


def stocks(good_ids) -> dict[int, int]:
    return {r["good_id"]: int(r["s"]) for r in StockMove.objects.filter(
        good_id__in=list(good_ids)).values("good_id").annotate(s=Sum("quantity")).order_by()}


def _lock_goods(ids) -> dict[int, Good]:
    return {g.pk: g for g in Good.objects.select_for_update().filter(
        pk__in=sorted(set(ids))).order_by("pk")}


@transaction.atomic
def do_stock_in(good: Good, quantity: int, *, note: str = "", key: str = "", acting_user,
                kind: str = StockKind.STOCK_IN) -> StockMove:
    """Goods in (入库), or a stocktake adjustment (+/−; never below zero)."""
    shop = good.shop
    _require(acting_user, "points.shop", shop.place, _("您没有管理该积分超市的权限。"))
    if kind not in (StockKind.STOCK_IN, StockKind.ADJUSTMENT):
        raise ActionError(_("出入库类型不正确。"))
    if not isinstance(quantity, int) or quantity == 0 or abs(quantity) > 100000 or (
            kind == StockKind.STOCK_IN and quantity < 0):
        raise ActionError(_("入库数量应为正整数。"))
    if kind == StockKind.ADJUSTMENT and not (note or "").strip():
        raise ActionError(_("盘点调整请写明原因。"))
    _lock_goods([good.pk])
    if key:
        existing = StockMove.objects.filter(county_id=shop.county_id,
                                            idempotency_key=f"stock:{key}").first()
        if existing is not None:
            return existing
    if stock_of(good) + quantity < 0:
        raise ActionError(_("调整后库存不能为负。"))
    move = StockMove.objects.create(
        county_id=shop.county_id, good=good, quantity=quantity, kind=kind,
        note=(note or "").strip()[:200], idempotency_key=f"stock:{key}" if key else "",
        created_by=_user(acting_user))
    record(f"points.stock.{kind}", actor=acting_user, obj=move, county_id=shop.county_id,
           after={"good": good.pk, "quantity": quantity, "note": move.note})
    return move


def household_by_card(code: str) -> Place | None:
    """The household of a card code or the text of its QR code (``gongzhi:card:<code>``)."""
    from gongzhi.places.models import Household

    code = (code or "").strip()
    if code.lower().startswith("gongzhi:card:"):
        code = code.split(":", 2)[2]
    if not code or len(code) > 32:
        return None
    hh = Household.objects.filter(card_code=code).select_related("place").first()
    return hh.place if hh and hh.place.is_active else None


def _receipt_no() -> str:
    return f"{timezone.localdate():%Y%m%d}-{secrets.token_hex(4).upper()}"


def do_redeem(shop: Shop, *, card_code: str, lines: list[tuple[int, int]], key: str,
              acting_user) -> tuple[Redemption, bool]:
    """Exchange points for goods. Returns (redemption, created).

    Never overdraws (the balance is summed under the account's lock), never oversells (stock
    summed under the goods' locks), and a repeated submission with the same ``key`` returns
    the first redemption instead of spending again.
    """
    key = (key or "").strip()
    if not 8 <= len(key) <= 80:
        raise ActionError(_("兑换表单已失效，请刷新页面后重试。"))
    try:
        return _redeem(shop, card_code=card_code, lines=lines, key=key,
                       acting_user=acting_user)
    except IntegrityError:
        # A concurrent submission with the same key won the race: answer with its result.
        existing = Redemption.objects.filter(county_id=shop.county_id,
                                             idempotency_key=key).first()
        if existing is None:
            raise
        return existing, False


@transaction.atomic
def _redeem(shop: Shop, *, card_code: str, lines, key: str, acting_user):
    _require(acting_user, "points.shop", shop.place, _("您没有在该积分超市办理兑换的权限。"))
    existing = Redemption.objects.filter(county_id=shop.county_id, idempotency_key=key).first()
    if existing is not None:
        return existing, False
    if not shop.is_active:
        raise ActionError(_("该积分超市已停止营业。"))
    household = household_by_card(card_code)
    if household is None or household.village_id != shop.village_id:
        raise ActionError(_("没有找到该积分卡对应的本村（社区）农户，请核对卡号。"))
    wanted: dict[int, int] = {}
    for good_id, qty in lines:
        if not isinstance(qty, int) or qty < 0 or qty > MAX_QUANTITY:
            raise ActionError(_("兑换数量不正确。"))
        if qty:
            wanted[int(good_id)] = wanted.get(int(good_id), 0) + qty
    if not wanted:
        raise ActionError(_("请至少选择一件商品。"))
    if len(wanted) > MAX_LINES:
        raise ActionError(_("一次最多兑换 %(n)d 种商品。") % {"n": MAX_LINES})
    account = ledger.household_account(household)
    lock_accounts([account.pk])  # 1. the account
    existing = Redemption.objects.filter(county_id=shop.county_id, idempotency_key=key).first()
    if existing is not None:  # the same form, submitted again while we waited for the lock
        return existing, False
    goods = _lock_goods(wanted)  # 2. the goods, by id
    if set(goods) != set(wanted) or any(g.shop_id != shop.pk or not g.is_active
                                        for g in goods.values()):
        raise ActionError(_("所选商品不在本超市上架。"))
    have = stocks(wanted)
    for gid, qty in wanted.items():
        if have.get(gid, 0) < qty:
            raise ActionError(_("“%(g)s”库存不足：现有 %(have)d%(unit)s，需要 %(need)d%(unit)s。")
                              % {"g": goods[gid].name, "have": have.get(gid, 0),
                                 "need": qty, "unit": goods[gid].unit})
    total = sum(goods[gid].price * qty for gid, qty in wanted.items())
    pool = pool_account(_village_of(household))
    try:
        txn = ledger.post(kind=TxnKind.REDEMPTION, lines=[(account, -total), (pool, total)],
                          memo=_("%(shop)s 兑换") % {"shop": shop.name}, key=f"redeem:{key}",
                          posted_on=timezone.localdate(), place=household,
                          source=f"shop:{shop.pk}", acting_user=acting_user)
    except DuplicateEntry as dup:
        return dup.existing.redemption, False
    redemption = Redemption(shop=shop, account=account, transaction=txn, total=total,
                            receipt_no=_receipt_no(), idempotency_key=key,
                            created_by=_user(acting_user))
    redemption.set_place(household)
    redemption.save(force_insert=True)
    RedemptionLine.objects.bulk_create([
        RedemptionLine(redemption=redemption, good=goods[gid], name=goods[gid].name,
                       quantity=qty, unit_price=goods[gid].price,
                       amount=goods[gid].price * qty)
        for gid, qty in sorted(wanted.items())
    ])
    StockMove.objects.bulk_create([
        StockMove(county_id=shop.county_id, good_id=gid, quantity=-qty,
                  kind=StockKind.REDEMPTION, redemption=redemption,
                  created_by=_user(acting_user))
        for gid, qty in sorted(wanted.items())
    ])
    record("points.redeem", actor=acting_user, obj=redemption,
           after={"household": household.pk, "total": total, "transaction": txn.pk,
                  "lines": {str(g): q for g, q in sorted(wanted.items())}})
    return redemption, True


@transaction.atomic
def do_cancel_redemption(redemption: Redemption, *, reason: str, acting_user) -> Redemption:
    """Undo a redemption: the points come back (a reversing entry) and the goods go back on
    the shelf (return moves)."""
    _require(acting_user, "points.shop", redemption.shop.place,
             _("您没有撤销该超市兑换的权限。"))
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("请写明撤销原因。"))
    lock_accounts([redemption.account_id])
    line_goods = list(redemption.lines.values_list("good_id", "quantity"))
    _lock_goods(g for g, _q in line_goods)
    redemption = Redemption.objects.select_for_update(of=("self",)).select_related(
        "transaction").get(pk=redemption.pk)
    if redemption.status != RedemptionStatus.DONE:
        raise ActionError(_("该兑换已经撤销过了。"))
    txn = redemption.transaction
    postings = list(txn.postings.select_related("account"))
    ledger.post(kind=TxnKind.REVERSAL, lines=[(p.account, -p.amount) for p in postings],
                memo=_("撤销兑换 %(no)s：%(reason)s") % {"no": redemption.receipt_no,
                                                     "reason": reason},
                key=f"reverse:{txn.pk}", posted_on=timezone.localdate(), place=txn.place,
                source=f"reverse:{txn.pk}", original=txn, acting_user=acting_user)
    StockMove.objects.bulk_create([
        StockMove(county_id=redemption.county_id, good_id=gid, quantity=qty,
                  kind=StockKind.RETURN, redemption=redemption, note=reason[:200],
                  created_by=_user(acting_user))
        for gid, qty in line_goods
    ])
    redemption.status = RedemptionStatus.CANCELLED
    redemption.cancelled_by = _user(acting_user)
    redemption.cancelled_at = timezone.now()
    redemption.cancel_reason = reason[:300]
    redemption.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"])
    record("points.redeem.cancel", actor=acting_user, obj=redemption,
           after={"status": redemption.status, "reason": reason})
    return redemption
