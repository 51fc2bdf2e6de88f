"""Points on PostgreSQL: redemptions per second under concurrency, and ranking a million
households for a quarter.

    python bench/points_redeem.py          # on a throwaway cluster (scripts/with-postgres)
    python bench/points_redeem.py --workers 8 --sales 300 --households 1000000
    DATABASE_URL=postgres://... python bench/points_redeem.py

Needs PostgreSQL (row locks and real concurrency): with ``DATABASE_URL`` naming PostgreSQL it
runs there, in a fresh database dropped afterwards; otherwise it re-runs itself under
``scripts/with-postgres``; without PostgreSQL it says so and exits 0.

1. **Redemptions.** ``--workers`` sellers (processes, or threads with ``--threads``), each
   with its own connection, each redeem ``--sales`` times through ``do_redeem`` (the real
   action: locks, balance and stock sums, double-entry posting, receipt, audit event), first
   spread over 50 households, then all on
   one household (every sale waits for that household's lock: the worst case). Prints
   redemptions per second, then proves the ledger with ``reconcile()``.
2. **Ranking.** Generates ``--households`` households (10 towns, 20 villages each, 25 grids
   per village) and two awarded deeds each in one quarter, in bulk SQL (2 transactions and 4
   postings per household), then times ``do_compute_ranking`` for the county by household
   (one ``INSERT ... SELECT`` with ``RANK()`` writing a row per household), by grid, village
   and town, and ``queries.totals_by`` (what assessments call).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "pgsql://"))


def timed(label: str, func):
    start = time.perf_counter()
    result = func()
    took = time.perf_counter() - start
    print(f"  {label:<44} {took:8.2f} s")
    return result, took


def _sell(worker: int, sales: int, shop_id: int, good_id: int, cards: list[str],
          keeper_id: int, label: str, barrier, errors) -> None:
    """One worker: its own database connection, ``sales`` redemptions."""
    from django.db import connections

    from gongzhi.accounts.models import User
    from gongzhi.core.context import request_context
    from gongzhi.points import actions
    from gongzhi.points.models import Shop

    try:
        keeper = User.objects.get(pk=keeper_id)
        shop = Shop.objects.get(pk=shop_id)
        with request_context():
            barrier.wait()
            for i in range(sales):
                actions.do_redeem(shop, card_code=cards[(worker * 7 + i) % len(cards)],
                                  lines=[(good_id, 1)], key=f"{label}-{worker}-{i}-bench",
                                  acting_user=keeper)
    except BaseException as exc:  # reported by the parent
        errors.put(repr(exc))
    finally:
        connections.close_all()


def bench_redemptions(workers: int, sales: int, use_threads: bool) -> None:
    import multiprocessing

    from django.db import connections

    from gongzhi.places.actions import do_create_household
    from gongzhi.points import actions, ledger
    from gongzhi.testing import build_tree

    tree = build_tree("基准县")
    actions.do_adopt_rules(tree.village, "shiquan", acting_user=None)
    keeper = tree.user("shop_keeper")
    households = [tree.household]
    for i in range(49):
        households.append(do_create_household(
            tree.grid, acting_user=None, address=f"基准村{i + 10}号",
            members=[{"name": f"村民{i}", "relation": "head"}]))
    for h in households:
        actions.do_post_correction(ledger.household_account(h.place), 10_000,
                                   reason="基准期初积分", acting_user=None)
    shop = actions.do_create_shop(tree.village, acting_user=keeper)
    good = actions.do_save_good(shop, name="肥皂", price=1, acting_user=keeper)
    actions.do_stock_in(good, 100_000, acting_user=keeper)
    kind = "threads" if use_threads else "processes"

    def run(label: str, cards: list[str]) -> None:
        connections.close_all()  # children open their own connections
        if use_threads:
            import queue

            barrier, errors = threading.Barrier(workers), queue.Queue()
            runners = [threading.Thread(target=_sell, args=(
                n, sales, shop.pk, good.pk, cards, keeper.pk, label, barrier, errors))
                for n in range(workers)]
        else:
            ctx = multiprocessing.get_context("fork")
            barrier, errors = ctx.Barrier(workers), ctx.Queue()
            runners = [ctx.Process(target=_sell, args=(
                n, sales, shop.pk, good.pk, cards, keeper.pk, label, barrier, errors))
                for n in range(workers)]
        start = time.perf_counter()
        for r in runners:
            r.start()
        for r in runners:
            r.join()
        took = time.perf_counter() - start
        if not errors.empty():
            raise RuntimeError(errors.get())
        total = workers * sales
        print(f"  {label:<44} {total / took:8.1f} redemptions/s "
              f"({total} in {took:.2f} s, {workers} {kind})")

    run("spread over 50 households", [h.card_code for h in households])
    run("all on one household (one lock)", [households[0].card_code])
    breaches, _took = timed("reconcile() after the sales", lambda: ledger.reconcile())
    assert breaches == [], breaches
    print(f"  stock left {actions.stock_of(good)} of 100000, "
          f"{2 * workers * sales} sold: the ledger is whole (no breach)")


GEN_SQL = """
WITH base AS (SELECT %(base)s::bigint AS b)
INSERT INTO places_place (id, kind, name, code, subtype, parent_id, county_id, town_id,
                          village_id, grid_id, building_id, household_id, sort_order,
                          is_active, created_at)
SELECT b, 'county', '基准县', '', '', NULL::bigint, b, NULL::bigint, NULL::bigint,
       NULL::bigint, NULL::bigint, NULL::bigint, 0, true, now()
FROM base
UNION ALL
SELECT b + 1 + t, 'town', '镇' || t, '', '', b, b, b + 1 + t, NULL, NULL, NULL, NULL, t,
       true, now() FROM base, generate_series(0, %(towns)s - 1) t
UNION ALL
SELECT b + 100 + v, 'village', '村' || v, '', '', b + 1 + v / 20, b, b + 1 + v / 20, b + 100 + v,
       NULL, NULL, NULL, v, true, now() FROM base, generate_series(0, %(villages)s - 1) v
UNION ALL
SELECT b + 10000 + g, 'grid', '网格' || g, '', '', b + 100 + g / 25, b, b + 1 + g / 500,
       b + 100 + g / 25, b + 10000 + g, NULL::bigint, NULL::bigint, g, true, now()
FROM base, generate_series(0, %(grids)s - 1) g
"""

HOUSEHOLD_SQL = """
INSERT INTO places_place (id, kind, name, code, subtype, parent_id, county_id, town_id,
                          village_id, grid_id, building_id, household_id, sort_order,
                          is_active, created_at)
SELECT %(b)s + 1000000 + h, 'household', '户' || h, '', '', %(b)s + 10000 + h / %(per)s, %(b)s,
       %(b)s + 1 + h / %(per)s / 500, %(b)s + 100 + h / %(per)s / 25, %(b)s + 10000 + h / %(per)s,
       NULL, %(b)s + 1000000 + h, h, true, now()
FROM generate_series(0, %(n)s - 1) h
"""

ACCOUNT_SQL = """
INSERT INTO points_account (id, kind, person_id, klass, opened_at, place_id, county_id, town_id,
                            village_id, grid_id, building_id, household_id)
SELECT %(b)s + 1000000 + h, 'household', NULL::bigint, 'household', now(),
       %(b)s + 1000000 + h, %(b)s,
       %(b)s + 1 + h / %(per)s / 500, %(b)s + 100 + h / %(per)s / 25, %(b)s + 10000 + h / %(per)s,
       NULL::bigint, %(b)s + 1000000 + h
FROM generate_series(0, %(n)s - 1) h
UNION ALL
SELECT %(b)s + 100 + v, 'pool', NULL, 'household', now(), %(b)s + 100 + v, %(b)s,
       %(b)s + 1 + v / 20, %(b)s + 100 + v, NULL, NULL, NULL
FROM generate_series(0, %(villages)s - 1) v
"""

TXN_SQL = """
INSERT INTO points_transaction (id, kind, memo, source, idempotency_key, posted_on, month,
                                original_id, created_by_id, created_at, place_id, county_id,
                                town_id, village_id, grid_id, building_id, household_id)
SELECT %(t)s + k * %(n)s + h, 'award', '基准', '', 'bench:' || k || ':' || h,
       %(day)s::date + (h %% 80), date_trunc('month', %(day)s::date + (h %% 80))::date, NULL,
       NULL, now(), %(b)s + 1000000 + h, %(b)s, %(b)s + 1 + h / %(per)s / 500,
       %(b)s + 100 + h / %(per)s / 25, %(b)s + 10000 + h / %(per)s, NULL, %(b)s + 1000000 + h
FROM generate_series(0, %(n)s - 1) h, generate_series(0, 1) k
"""

POSTING_SQL = """
INSERT INTO points_posting (transaction_id, account_id, amount, posted_on, kind, account_kind,
                            is_earned, place_id, county_id, town_id, village_id, grid_id,
                            building_id, household_id)
SELECT t.id, x.account_id, x.amount, t.posted_on, 'award', x.account_kind, true, x.place_id,
       t.county_id, t.town_id, t.village_id, x.grid_id, NULL, x.household_id
FROM points_transaction t
CROSS JOIN LATERAL (VALUES
    (t.household_id, 1 + (t.id * 7919) %% 50, 'household', t.household_id, t.grid_id,
     t.household_id),
    (t.village_id, -(1 + (t.id * 7919) %% 50), 'pool', t.village_id, NULL::bigint, NULL::bigint)
) AS x(account_id, amount, account_kind, place_id, grid_id, household_id)
WHERE t.idempotency_key LIKE 'bench:%%'
"""


def bench_ranking(n: int) -> None:
    from datetime import date

    from django.db import DatabaseError, connection

    from gongzhi.places.models import Place
    from gongzhi.points import actions, queries
    from gongzhi.points.models import RankingRow

    towns, villages_per_town, grids_per_village = 10, 20, 25
    villages = towns * villages_per_town
    grids = villages * grids_per_village
    per = max(1, -(-n // grids))  # households per grid
    with connection.cursor() as c:
        c.execute("SELECT COALESCE(MAX(id), 0) FROM places_place")
        base = (c.fetchone()[0] // 1_000_000 + 10) * 1_000_000_000
        c.execute("SELECT COALESCE(MAX(id), 0) FROM points_transaction")
        tbase = c.fetchone()[0] + 10_000_000
    params = {"base": base, "b": base, "towns": towns, "villages": villages, "grids": grids,
              "per": per, "n": n, "t": tbase, "day": date(2025, 10, 1)}

    def generate():
        with connection.cursor() as c:
            # Bulk data made here satisfies every foreign key by construction; where the role
            # may (a superuser, as in the throwaway cluster), skip the per-row checks.
            try:
                c.execute("SET session_replication_role = replica")
            except DatabaseError:  # not a superuser: the checks simply run
                connection.rollback()
            c.execute(GEN_SQL, params)
            c.execute(HOUSEHOLD_SQL, params)
            c.execute(ACCOUNT_SQL, params)
            c.execute(TXN_SQL, params)
            c.execute(POSTING_SQL, params)
            for table in ("places_place", "points_account", "points_transaction",
                          "points_posting"):
                c.execute(f"ANALYZE {table}")
            c.execute("SET session_replication_role = DEFAULT")

    print(f"ranking {n:,} households ({towns} towns, {villages} villages, {grids:,} grids)")
    timed(f"generate {n:,} households, {2 * n:,} transactions", generate)
    county = Place.objects.get(pk=base)
    for unit in ("household", "grid", "village", "town"):
        snap, _t = timed(f"rank the county by {unit} (Q4 2025)",
                         lambda u=unit: actions.do_compute_ranking(
                             county, 2025, 4, unit=u, acting_user=None))
        top = RankingRow.objects.filter(snapshot=snap).order_by("rank").first()
        print(f"    {snap.row_count:,} rows; first: rank {top.rank}, total {top.total}")
    start, end = date(2025, 10, 1), date(2025, 12, 31)
    totals, _t = timed("queries.totals_by('village', county, Q4)",
                       lambda: queries.totals_by("village", county, start, end))
    print(f"    {len(totals)} villages, {sum(totals.values()):,} points in all")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8,
                        help="concurrent sellers, each with its own connection")
    parser.add_argument("--threads", action="store_true",
                        help="sellers as threads of one process (default: processes)")
    parser.add_argument("--sales", type=int, default=150, help="redemptions per seller")
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--skip-ranking", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not is_postgres(url):
        helper = ROOT / "scripts" / "with-postgres"
        if helper.exists() and subprocess.call([str(helper), "--check"]) == 0:  # noqa: S603
            return subprocess.call([str(helper), sys.executable, *sys.argv])  # noqa: S603
        print("points_redeem: needs PostgreSQL (set DATABASE_URL or install its server); "
              "skipped")
        return 0

    from demo_large import drop_postgres, fresh_postgres

    db_url, admin, name = fresh_postgres(url)
    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.settings.base"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DATABASE_CONN_MAX_AGE"] = "0"
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        print(f"redemptions through do_redeem on PostgreSQL ({os.cpu_count()} CPUs)")
        bench_redemptions(args.workers, args.sales, args.threads)
        if not args.skip_ranking:
            bench_ranking(args.households)
        connections.close_all()
    finally:
        drop_postgres(admin, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
