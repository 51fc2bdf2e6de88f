"""The points ledger: accounts, locks, posting, balances, and the proof of its invariants.

Rules every write follows (see ``docs/points.md``):

1. **One atomic posting.** :func:`post` inserts one :class:`Transaction` and its postings,
   which sum to zero, inside the caller's action transaction. Nothing is ever updated or
   deleted: a mistake is fixed by a reversing or correcting entry.
2. **Balances are derived.** :func:`balance` is ``SUM(amount)`` of an account's postings; no
   balance column exists, so there is nothing to read-modify-write.
3. **Locks in one order.** An action that may spend takes row locks with ``SELECT ... FOR
   UPDATE`` in a fixed order: household and person accounts by id (:func:`lock_accounts`),
   then claims, then goods by id (the shop). A village's pool is never locked: it is the
   counter-account and has no floor, and inserting postings needs no lock. Closing a month
   locks every account of the village (by id), so a posting and a month close never cross.
4. **Checked under the lock.** With its accounts locked, :func:`post` refuses a transaction
   that would take a household or person account below zero, one dated in a closed month
   or in the future, and one whose idempotency key was already used in the county.

On SQLite (the embedded default) transactions are ``BEGIN IMMEDIATE``: writers queue one at a
time, which gives the same guarantees; ``select_for_update`` is then a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum, Value, Window
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.errors import ActionError
from gongzhi.places.models import LEVELS, Place

from .models import (
    EARNED_KINDS,
    Account,
    AccountKind,
    MonthClose,
    Posting,
    Redemption,
    RedemptionLine,
    StockKind,
    StockMove,
    Transaction,
    TxnKind,
)


class DuplicateEntry(ActionError):
    """The idempotency key was used already; ``existing`` is the transaction that used it."""

    def __init__(self, message, existing: Transaction):
        super().__init__(message)
        self.existing = existing


def month_of(day: date) -> date:
    return day.replace(day=1)


# ---------------------------------------------------------------------------------------------
# Accounts


def household_account(household: Place) -> Account:
    """The household's account, opened on first use."""
    account = Account.objects.filter(kind=AccountKind.HOUSEHOLD, household=household).first()
    if account is not None:
        return account
    account = Account(kind=AccountKind.HOUSEHOLD)
    account.set_place(household)
    return _open(account, kind=AccountKind.HOUSEHOLD, household=household)


def pool_account(village: Place) -> Account:
    """The village's points pool: the counter-account of every entry in the village."""
    account = Account.objects.filter(kind=AccountKind.POOL, village=village).first()
    if account is not None:
        return account
    account = Account(kind=AccountKind.POOL)
    account.set_place(village)
    return _open(account, kind=AccountKind.POOL, village=village)


def person_account(person, klass: str) -> Account:
    account = Account.objects.filter(kind=AccountKind.PERSON, person=person, klass=klass).first()
    if account is not None:
        return account
    account = Account(kind=AccountKind.PERSON, person=person, klass=klass)
    account.set_place(person.place)
    return _open(account, kind=AccountKind.PERSON, person=person, klass=klass)


def _open(account: Account, **lookup) -> Account:
    """Insert ``account``; if a concurrent request inserted it first, use theirs."""
    from django.db import IntegrityError

    try:
        with transaction.atomic():
            account.save(force_insert=True)
        return account
    except IntegrityError:
        return Account.objects.get(**lookup)


def lock_accounts(ids: Iterable[int]) -> dict[int, Account]:
    """Lock household and person accounts, in ascending id order (never a pool)."""
    ordered = sorted(set(ids))
    rows = list(Account.objects.select_for_update().filter(pk__in=ordered)
                .exclude(kind=AccountKind.POOL).order_by("pk"))
    return {a.pk: a for a in rows}


# ---------------------------------------------------------------------------------------------
# Balances (derived, never stored)


def balance(account: Account | int, as_of: date | None = None) -> int:
    account_id = account.pk if isinstance(account, Account) else account
    qs = Posting.objects.filter(account_id=account_id)
    if as_of is not None:
        qs = qs.filter(posted_on__lte=as_of)
    return int(qs.aggregate(s=Coalesce(Sum("amount"), 0))["s"])


def balances(account_ids: Iterable[int], as_of: date | None = None) -> dict[int, int]:
    qs = Posting.objects.filter(account_id__in=list(account_ids))
    if as_of is not None:
        qs = qs.filter(posted_on__lte=as_of)
    return {row["account_id"]: int(row["s"])
            for row in qs.values("account_id").annotate(s=Sum("amount"))}


def month_closed(village_id: int, day: date) -> bool:
    return MonthClose.objects.filter(village_id=village_id, month=month_of(day)).exists()


# ---------------------------------------------------------------------------------------------
# Posting


def post(*, kind: str, lines: Sequence[tuple[Account, int]], memo: str, key: str,
         posted_on: date, place: Place, source: str = "", original: Transaction | None = None,
         earned: bool | None = None, acting_user=None) -> Transaction:
    """Insert one balanced transaction. The caller holds the locks of its non-pool accounts.

    ``earned`` says whether the postings count as earned points (rankings, stars); by default
    awards and deductions do, and a fix takes the flag of the entry it fixes.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("ledger.post() must run inside the action's transaction")
    if kind not in TxnKind.values:
        raise ValueError(kind)
    if len(lines) < 2 or any(amount == 0 for _a, amount in lines):
        raise ActionError(_("一笔积分记录至少要有两条非零分录。"))
    if sum(amount for _a, amount in lines) != 0:
        raise ActionError(_("分录合计不为零，记录未保存。"))
    accounts = [a for a, _amount in lines]
    county_ids = {a.county_id for a in accounts}
    if len(county_ids) != 1:
        raise ActionError(_("一笔积分记录不能跨县（区）。"))
    county_id = county_ids.pop()
    today = timezone.localdate()
    if posted_on > today:
        raise ActionError(_("记账日期不能晚于今天。"))
    for village_id in {a.village_id for a in accounts}:
        if month_closed(village_id, posted_on):
            raise ActionError(_("%(m)s 已结账，不能再记入；请在未结账的月份记一笔更正。")
                              % {"m": posted_on.strftime("%Y-%m")})
    existing = Transaction.objects.filter(county_id=county_id, idempotency_key=key).first()
    if existing is not None:
        raise DuplicateEntry(_("这笔积分已经记过账，没有重复记入。"), existing)
    # Under the locks: no household or person account may go below zero.
    delta: dict[int, int] = {}
    for account, amount in lines:
        if not account.is_pool:
            delta[account.pk] = delta.get(account.pk, 0) + amount
    if any(d < 0 for d in delta.values()):
        current = balances(delta)
        for account_id, d in delta.items():
            if d < 0 and current.get(account_id, 0) + d < 0:
                raise ActionError(_("积分余额不足：现有 %(have)d 分，需要 %(need)d 分。")
                                  % {"have": current.get(account_id, 0), "need": -d})
    if earned is None:
        earned = original_earned(original) if original is not None else kind in EARNED_KINDS
    txn = Transaction(kind=kind, memo=memo[:300], source=source[:64], idempotency_key=key[:100],
                      posted_on=posted_on, month=month_of(posted_on), original=original,
                      created_by=acting_user if getattr(acting_user, "is_authenticated", False)
                      else None)
    txn.set_place(place)
    txn.save()
    rows = []
    for account, amount in lines:
        p = Posting(transaction=txn, account=account, amount=amount, posted_on=posted_on,
                    kind=kind, account_kind=account.kind, is_earned=earned)
        p.place_id = account.place_id
        for level in LEVELS:
            setattr(p, f"{level}_id", getattr(account, f"{level}_id"))
        rows.append(p)
    Posting.objects.bulk_create(rows)
    return txn


def original_earned(original: Transaction) -> bool:
    flag = original.postings.values_list("is_earned", flat=True).first()
    return bool(flag)


# ---------------------------------------------------------------------------------------------
# Reconciliation: the proof that the ledger holds


@dataclass
class Breach:
    code: str
    message: str
    ids: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        shown = ", ".join(str(i) for i in self.ids[:20])
        more = f" (+{len(self.ids) - 20})" if len(self.ids) > 20 else ""
        return f"[{self.code}] {self.message}: {shown}{more}"


def _ids(qs, field_name: str = "pk") -> list[int]:
    return sorted({int(v) for v in qs.values_list(field_name, flat=True)})


def reconcile(county: Place | None = None) -> list[Breach]:
    """Check every invariant of the ledger and the shop; an empty list means none is broken.

    - every transaction has at least two postings and they sum to zero;
    - postings carry their transaction's date and kind and their account's kind and places;
    - no household or person account is below zero, now or at any point of its history
      (running sum in posting order; postings of one account are serialised by its lock);
    - fixes: a reversal cancels its original exactly;
    - every closed month still holds the postings and total it was closed with;
    - no good's stock is below zero at any point; every redemption's total equals its lines
      and its postings, and its stock moves take out exactly its quantities.
    """
    c = {"county": county} if county is not None else {}
    breaches: list[Breach] = []

    txns = Transaction.objects.filter(**c)
    bad = txns.annotate(s=Sum("postings__amount"), n=Count("postings")).filter(
        Q(n__lt=2) | ~Q(s=0))
    if ids := _ids(bad):
        breaches.append(Breach("unbalanced", "transactions that do not sum to zero", ids))

    postings = Posting.objects.filter(**c)
    mismatch = Q(posted_on=F("transaction__posted_on")) & Q(kind=F("transaction__kind")) & Q(
        account_kind=F("account__kind")) & Q(place_id=F("account__place_id"))
    for level in LEVELS:
        mismatch &= Q(**{f"{level}_norm": F(f"{level}_acct")})
    annotated = postings.annotate(**{
        f"{level}_norm": Coalesce(F(f"{level}_id"), Value(0)) for level in LEVELS
    }).annotate(**{
        f"{level}_acct": Coalesce(F(f"account__{level}_id"), Value(0)) for level in LEVELS
    })
    if ids := _ids(annotated.exclude(mismatch)):
        breaches.append(Breach("posting_copy", "postings whose copied columns differ from their "
                                               "transaction or account", ids))

    owned = postings.exclude(account_kind=AccountKind.POOL)
    negative = owned.values("account_id").annotate(s=Sum("amount")).filter(s__lt=0)
    if ids := _ids(negative, "account_id"):
        breaches.append(Breach("negative_balance", "accounts with a negative balance", ids))
    running = owned.annotate(run=Window(Sum("amount"), partition_by=[F("account_id")],
                                        order_by=F("id").asc())).filter(run__lt=0)
    if ids := _ids(running, "account_id"):
        breaches.append(Breach("overdrawn", "accounts overdrawn at some point of their "
                                            "history", ids))

    # Earned flags and signs by kind.
    wrong_sign = owned.filter(Q(kind=TxnKind.AWARD, amount__lt=0)
                              | Q(kind__in=[TxnKind.DEDUCTION, TxnKind.REDEMPTION,
                                            TxnKind.EXPIRY], amount__gt=0))
    if ids := _ids(wrong_sign, "transaction_id"):
        breaches.append(Breach("wrong_sign", "transactions whose amounts have the wrong sign "
                                             "for their kind", ids))
    wrong_flag = postings.filter(Q(kind__in=list(EARNED_KINDS), is_earned=False)
                                 | Q(kind__in=[TxnKind.REDEMPTION, TxnKind.EXPIRY],
                                     is_earned=True))
    if ids := _ids(wrong_flag, "transaction_id"):
        breaches.append(Breach("earned_flag", "postings whose earned flag contradicts their "
                                              "kind", ids))

    reversal_ids = list(txns.filter(kind=TxnKind.REVERSAL).values_list("pk", "original_id"))
    broken = []
    for rev_id, orig_id in reversal_ids:
        net = Posting.objects.filter(transaction_id__in=[rev_id, orig_id]).values(
            "account_id").annotate(s=Sum("amount")).exclude(s=0)
        if orig_id is None or net.exists():
            broken.append(rev_id)
    if broken:
        breaches.append(Breach("reversal", "reversals that do not cancel their original",
                               broken))

    sums = {(r["village_id"], r["m"]): (r["n"], int(r["e"])) for r in postings.annotate(
        m=TruncMonth("posted_on")).values("village_id", "m").annotate(
        n=Count("id"), e=Coalesce(Sum("amount", filter=Q(is_earned=True) & ~Q(
            account_kind=AccountKind.POOL)), 0))}
    changed = [mc.pk for mc in MonthClose.objects.filter(**c)
               if sums.get((mc.village_id, mc.month), (0, 0)) != (mc.posting_count,
                                                                  mc.earned_total)]
    if changed:
        breaches.append(Breach("closed_month", "closed months whose postings changed after "
                                               "closing", changed))

    moves = StockMove.objects.filter(**c)
    stock_neg = moves.annotate(run=Window(Sum("quantity"), partition_by=[F("good_id")],
                                          order_by=F("id").asc())).filter(run__lt=0)
    if ids := _ids(stock_neg, "good_id"):
        breaches.append(Breach("oversold", "goods whose stock fell below zero", ids))

    redemptions = Redemption.objects.filter(**c)
    lines = {r["redemption_id"]: (int(r["amount"]), int(r["qty"]))
             for r in RedemptionLine.objects.filter(redemption__in=redemptions)
             .values("redemption_id").annotate(amount=Sum("amount"), qty=Sum("quantity"))}
    spent = {r["transaction__redemption"]: int(r["s"]) for r in postings.filter(
        transaction__redemption__isnull=False,
        account_id=F("transaction__redemption__account_id"),
    ).values("transaction__redemption").annotate(s=Sum("amount"))}
    out = {r["redemption_id"]: int(r["q"]) for r in moves.filter(
        redemption__isnull=False, kind=StockKind.REDEMPTION).values("redemption_id").annotate(
        q=Sum("quantity"))}
    bad_redemptions = [
        pk for pk, total in redemptions.values_list("pk", "total")
        if not (total == lines.get(pk, (0, 0))[0] == -spent.get(pk, 0)
                and out.get(pk, 0) == -lines.get(pk, (0, 0))[1])
    ]
    if bad_redemptions:
        breaches.append(Breach("redemption", "redemptions whose lines, postings and stock moves "
                                             "disagree", bad_redemptions))
    return breaches
