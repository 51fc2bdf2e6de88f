"""Read-only figures of the points ledger, for pages, exports and other apps (assessments).

Everything here reads the ledger (``Posting``); nothing writes. *Earned* points are the
postings of awards and deductions (and of the corrections and reversals that fix them): they
are what rankings, stars and assessments count. The *balance* is what a household may still
spend: earned points minus redemptions and year-end expiry.

Functions other apps may call (stable):

- :func:`household_balance` ``(household) -> int``: the household's balance today.
- :func:`account_balance` ``(account, as_of=None) -> int``.
- :func:`totals_by` ``(level, place, start, end, *, subject="household", klass=None)
  -> dict[int, int]``: earned points between ``start`` and ``end`` (inclusive dates) under
  ``place``, summed by the ``level`` column (``"household"``, ``"grid"``, ``"village"``,
  ``"town"`` or ``"county"``); places without postings are absent (read them as 0).
- :func:`place_total` ``(place, start, end) -> int``: earned points of every household under
  ``place``.
- :func:`households_counted` ``(level, place) -> dict[int, int]``: active households under
  ``place`` per ``level`` column (to turn totals into averages).
- :func:`stars_for` ``(total, thresholds) -> int`` and :func:`household_stars`
  ``(household, year) -> int``: 星级 from a year's earned points.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from gongzhi.places.models import LEVELS, Place, PlaceKind

from . import ledger
from .models import AccountKind, Posting
from .periods import year_bounds
from .rules import policy_for

TOTAL_LEVELS = ("county", "town", "village", "grid", "household")


def household_balance(household) -> int:
    """The household's spendable balance today (0 when it never had points)."""
    place = household.place if hasattr(household, "place") else household
    account = ledger.Account.objects.filter(kind=AccountKind.HOUSEHOLD,
                                            household_id=place.pk).first()
    return ledger.balance(account) if account is not None else 0


def account_balance(account, as_of: date | None = None) -> int:
    return ledger.balance(account, as_of)


def earned_postings(place: Place, start: date, end: date, *, subject: str = "household",
                    klass: str | None = None):
    if subject not in (AccountKind.HOUSEHOLD, AccountKind.PERSON):
        raise ValueError(subject)
    qs = Posting.objects.filter(place.scope_q(), account_kind=subject, is_earned=True,
                                posted_on__gte=start, posted_on__lte=end)
    if place.kind != PlaceKind.COUNTY:
        qs = qs.filter(county_id=place.county_id)  # lets the ranking index lead on county
    if klass is not None:
        qs = qs.filter(account__klass=klass)
    return qs


def totals_by(level: str, place: Place, start: date, end: date, *, subject: str = "household",
              klass: str | None = None) -> dict[int, int]:
    """Earned points under ``place`` in [start, end], summed by the ``level`` column."""
    if level not in TOTAL_LEVELS:
        raise ValueError(level)
    if LEVELS.index(level) < LEVELS.index(place.kind):
        raise ValueError(f"{level} is above {place.kind}")
    rows = earned_postings(place, start, end, subject=subject, klass=klass).values(
        f"{level}_id").annotate(s=Sum("amount")).order_by()
    return {r[f"{level}_id"]: int(r["s"]) for r in rows if r[f"{level}_id"] is not None}


def place_total(place: Place, start: date, end: date) -> int:
    return int(earned_postings(place, start, end).aggregate(s=Coalesce(Sum("amount"), 0))["s"])


def households_counted(level: str, place: Place) -> dict[int, int]:
    qs = Place.objects.filter(place.scope_q(), kind=PlaceKind.HOUSEHOLD, is_active=True)
    if level == "household":
        return dict.fromkeys(qs.values_list("pk", flat=True), 1)
    return {r[f"{level}_id"]: r["n"] for r in qs.values(f"{level}_id").annotate(n=Count("id"))
            .order_by()}


def stars_for(total: int, thresholds: list[dict]) -> int:
    """The highest star level whose minimum ``total`` reaches (0 if none)."""
    stars = 0
    for t in thresholds or []:
        if total >= int(t["min"]):
            stars = max(stars, int(t["stars"]))
    return stars


def household_stars(household, year: int) -> int:
    place = household.place if hasattr(household, "place") else household
    start, end = year_bounds(year)
    total = totals_by("household", place, start, end).get(place.pk, 0)
    return stars_for(total, policy_for(place).get("stars", []))


def account_summary(account, year: int) -> dict[str, int]:
    """Earned, redeemed and expired points of one account in a year, and its balances."""
    start, end = year_bounds(year)
    agg = Posting.objects.filter(account=account, posted_on__gte=start,
                                 posted_on__lte=end).aggregate(
        earned=Coalesce(Sum("amount", filter=Q(is_earned=True)), 0),
        redeemed=Coalesce(Sum("amount", filter=Q(kind="redemption")
                              | Q(kind="reversal", is_earned=False)), 0),
        expired=Coalesce(Sum("amount", filter=Q(kind="expiry")), 0),
    )
    return {"earned": int(agg["earned"]), "redeemed": -int(agg["redeemed"]),
            "expired": -int(agg["expired"]), "balance_end": ledger.balance(account, end),
            "balance": ledger.balance(account)}
