"""Concurrency on PostgreSQL: parallel redemptions on one household and one good, each in its
own thread and database connection, never overdraw or oversell; repeated keys never spend
twice; parallel approvals of one deed post it once; and reconcile finds no breach.

Skipped on SQLite, where writers queue one at a time (``BEGIN IMMEDIATE``) by construction.
"""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections

from gongzhi.core.context import request_context
from gongzhi.core.errors import ActionError
from gongzhi.points import actions, ledger
from gongzhi.points.models import Redemption, Transaction, TxnKind

from .helpers import adopt, deed, grant_points, stocked_shop

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks and real concurrency")


def _run(workers) -> list[BaseException]:
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def wrap(fn):
        def run():
            try:
                with request_context():
                    barrier.wait()
                    fn()
            except BaseException as exc:  # reported by the test
                errors.append(exc)
            finally:
                connections.close_all()
        return run

    threads = [threading.Thread(target=wrap(fn)) for fn in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return errors


def test_parallel_redemptions_never_overdraw_or_oversell(settings, tmp_path):
    _needs_postgres()
    settings.MEDIA_ROOT = tmp_path
    from gongzhi.testing import build_tree

    tree = build_tree()
    adopt(tree)
    grant_points(tree, tree.household.place, 100)
    shop, soap = stocked_shop(tree, price=7, stock=50, name="肥皂")  # balance binds: 14
    oil = actions.do_save_good(shop, name="食用油", price=1, acting_user=tree.user("shop_keeper"))
    actions.do_stock_in(oil, 3, acting_user=tree.user("shop_keeper"))  # stock binds: 3
    keeper = tree.user("shop_keeper")
    card = tree.household.card_code
    outcomes: list[tuple[str, bool]] = []
    lock = threading.Lock()

    def buy(good_id: int, key: str):
        def fn():
            try:
                _r, created = actions.do_redeem(shop, card_code=card, lines=[(good_id, 1)],
                                                key=key, acting_user=keeper)
            except ActionError:
                created = None
            with lock:
                outcomes.append((key, created))
        return fn

    # 20 sales of soap and 8 of oil, each key submitted twice at once: 56 submissions.
    keys = [(soap.pk, f"soap-{i:04d}-sale") for i in range(20)] + [
        (oil.pk, f"oil-{i:04d}-sale") for i in range(8)]
    workers = [buy(g, k) for g, k in keys for _twice in range(2)]
    assert _run(workers) == []

    redemptions = Redemption.objects.all()
    soap_sold = redemptions.filter(lines__good=soap).count()
    oil_sold = redemptions.filter(lines__good=oil).count()
    balance = ledger.balance(ledger.household_account(tree.household.place))
    assert balance >= 0 and actions.stock_of(soap) >= 0 and actions.stock_of(oil) >= 0
    assert 7 * soap_sold + oil_sold == 100 - balance
    assert soap_sold < 20 and oil_sold <= 3  # the balance binds soap; the stock binds oil
    # Nothing affordable and in stock was turned away.
    assert balance < 7 and (oil_sold == 3 or balance < 1)
    assert actions.stock_of(oil) == 3 - oil_sold and actions.stock_of(soap) == 50 - soap_sold
    # Each key spent at most once; the second submission of a sold key saw the first.
    assert redemptions.values("idempotency_key").distinct().count() == redemptions.count()
    by_key: dict[str, list] = {}
    for key, created in outcomes:
        by_key.setdefault(key, []).append(created)
    sold = set(redemptions.values_list("idempotency_key", flat=True))
    for key, results in by_key.items():
        if key in sold:
            assert sorted(results, key=str) == [False, True], (key, results)
        else:
            assert results == [None, None], (key, results)
    assert Transaction.objects.filter(kind=TxnKind.REDEMPTION).count() == redemptions.count()
    assert ledger.reconcile() == []
    call_command("points", "reconcile")  # exits 1 on a breach


def test_parallel_approvals_post_once(settings, tmp_path):
    _needs_postgres()
    settings.MEDIA_ROOT = tmp_path
    from gongzhi.testing import build_tree

    tree = build_tree()
    adopt(tree)
    claim = deed(tree, tree.household.place, "A01")
    reviewer = tree.user("points_reviewer")
    done: list[int] = []

    def approve():
        try:
            actions.do_approve_claim(claim, acting_user=reviewer)
            done.append(1)
        except ActionError:
            pass

    assert _run([approve] * 8) == []
    assert len(done) == 1
    assert Transaction.objects.count() == 1
    assert ledger.balance(ledger.household_account(tree.household.place)) == 3
    assert ledger.reconcile() == []
