"""The workbench panel of 积分: a resident's balance, a reviewer's queue."""

from __future__ import annotations

from gongzhi.core.access import has_permission

from . import ledger
from .actions import resident_households
from .models import Account, AccountKind, Claim, ClaimStatus


def home_panel(request) -> dict | None:
    user = request.user
    households = list(resident_households(user))
    balances = []
    if households:
        accounts = {a.household_id: a for a in Account.objects.filter(
            kind=AccountKind.HOUSEHOLD, household__in=households)}
        totals = ledger.balances(a.pk for a in accounts.values())
        balances = [{"place": h, "balance": totals.get(accounts[h.pk].pk, 0)
                     if h.pk in accounts else 0} for h in households]
    pending = None
    if has_permission(user, "points.review"):
        pending = Claim.objects.restrict(user, "review").filter(
            status=ClaimStatus.PENDING).count()
    if not balances and pending is None:
        return None
    return {"points_balances": balances, "points_pending": pending}
