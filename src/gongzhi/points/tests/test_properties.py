"""Property tests of the ledger: any sequence of awards, deductions, redemptions, stock-ins,
reversals, corrections and cancellations keeps every invariant.

Each example runs the real actions against a small model kept in Python (balances, stock),
then checks: the ledger's balances equal the model's, every outcome (done or refused) is the
one the model predicts, and ``reconcile()`` finds no breach (every transaction balanced, no
balance below zero at any time, stock never below zero, redemptions consistent). Each example
runs in a savepoint that is rolled back, so examples do not see each other.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongzhi.core.errors import ActionError
from gongzhi.points import actions, ledger
from gongzhi.points.models import Claim, Redemption, RedemptionStatus, Transaction, TxnKind
from gongzhi.points.rules import current_version

PRICE = 3
ITEMS = {"P1": 1, "P5": 5, "M3": -3, "M7": -7}


class Rollback(Exception):
    pass


@pytest.fixture
def world(tree):
    book = actions.do_adopt_rules(tree.village, "default", acting_user=None)
    items = [{"code": code, "klass": "household", "category": "测试", "description": code,
              "points": points, "evidence": False, "cap": {},
              "recorders": ["village_cadre"]} for code, points in ITEMS.items()]
    actions.do_save_rules(book, items=items, acting_user=None)
    keeper = tree.user("shop_keeper")
    shop = actions.do_create_shop(tree.village, acting_user=keeper)
    good = actions.do_save_good(shop, name="肥皂", price=PRICE, acting_user=keeper)
    households = [tree.household, tree.household2]
    accounts = [ledger.household_account(h.place) for h in households]
    version = current_version(tree.village)
    return {"tree": tree, "shop": shop, "good": good, "households": households,
            "accounts": accounts, "rules": {i.code: i for i in version.items.all()}}


HOUSEHOLD = st.sampled_from([0, 1])
OPS = st.one_of(
    st.tuples(st.just("deed"), HOUSEHOLD, st.sampled_from(sorted(ITEMS))),
    st.tuples(st.just("redeem"), HOUSEHOLD, st.integers(1, 3)),
    st.tuples(st.just("stock"), st.integers(1, 4)),
    st.tuples(st.just("reverse"), st.integers(0, 30)),
    st.tuples(st.just("correct"), HOUSEHOLD, st.integers(-12, 12).filter(bool)),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
)


def _apply(w, op, model) -> None:
    tree, shop, good = w["tree"], w["shop"], w["good"]
    cadre, reviewer = tree.user("village_cadre"), tree.user("points_reviewer")
    keeper = tree.user("shop_keeper")
    balances, kind = model["balances"], op[0]
    if kind == "deed":
        _k, h, code = op
        claim = actions.do_record_deed(w["accounts"][h], w["rules"][code],
                                       occurred_on=timezone.localdate(), location="村",
                                       reason="测试", acting_user=cadre)
        claim = actions.do_approve_claim(claim, acting_user=reviewer)
        points = ITEMS[code]
        expected = points if points > 0 else -min(-points, balances[h])
        assert claim.posted_points == expected
        balances[h] += expected
    elif kind == "redeem":
        _k, h, qty = op
        ok = balances[h] >= PRICE * qty and model["stock"] >= qty
        try:
            _r, created = actions.do_redeem(shop, card_code=w["households"][h].card_code,
                                            lines=[(good.pk, qty)],
                                            key=f"prop-{model['n']}-sale", acting_user=keeper)
        except ActionError:
            assert not ok
        else:
            assert ok and created
            balances[h] -= PRICE * qty
            model["stock"] -= qty
    elif kind == "stock":
        actions.do_stock_in(good, op[1], acting_user=keeper)
        model["stock"] += op[1]
    elif kind == "correct":
        _k, h, amount = op
        ok = balances[h] + amount >= 0
        try:
            actions.do_post_correction(w["accounts"][h], amount, reason="核对",
                                       acting_user=reviewer)
        except ActionError:
            assert not ok
        else:
            assert ok
            balances[h] += amount
    elif kind == "reverse":
        txns = list(Transaction.objects.filter(kind__in=[
            TxnKind.AWARD, TxnKind.DEDUCTION, TxnKind.CORRECTION]).order_by("pk"))
        if not txns:
            return
        txn = txns[op[1] % len(txns)]
        effect = {p.account_id: -p.amount for p in txn.postings.all()
                  if p.account_kind != "pool"}
        index = {a.pk: i for i, a in enumerate(w["accounts"])}
        done = txn.fixes.filter(kind=TxnKind.REVERSAL).exists()
        ok = not done and all(balances[index[a]] + d >= 0 for a, d in effect.items())
        try:
            actions.do_reverse_transaction(txn, reason="冲销", acting_user=reviewer)
        except ActionError:
            assert not ok
        else:
            assert ok
            for a, d in effect.items():
                balances[index[a]] += d
    elif kind == "cancel":
        redemptions = list(Redemption.objects.order_by("pk"))
        if not redemptions:
            return
        r = redemptions[op[1] % len(redemptions)]
        ok = r.status == RedemptionStatus.DONE
        try:
            actions.do_cancel_redemption(r, reason="退货", acting_user=keeper)
        except ActionError:
            assert not ok
        else:
            assert ok
            h = [a.pk for a in w["accounts"]].index(r.account_id)
            balances[h] += r.total
            model["stock"] += sum(r.lines.values_list("quantity", flat=True))


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(ops=st.lists(OPS, max_size=14))
def test_any_sequence_keeps_the_ledger_whole(world, ops):
    model = {"balances": [0, 0], "stock": 0, "n": 0}
    try:
        with transaction.atomic():
            for op in ops:
                model["n"] += 1
                _apply(world, op, model)
                assert all(b >= 0 for b in model["balances"])
            assert [ledger.balance(a) for a in world["accounts"]] == model["balances"]
            assert actions.stock_of(world["good"]) == model["stock"]
            assert ledger.reconcile() == []
            # Every approved deed posted at most once; every transaction has its key once.
            keys = list(Transaction.objects.values_list("idempotency_key", flat=True))
            assert len(keys) == len(set(keys))
            assert Claim.objects.filter(status="approved", transaction__isnull=False).count() \
                == Transaction.objects.filter(kind__in=[TxnKind.AWARD,
                                                        TxnKind.DEDUCTION]).count()
            raise Rollback
    except Rollback:
        pass
