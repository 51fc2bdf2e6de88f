# ruff: noqa: S608, E501  (SQL built from numbers and names of this script only)
"""How fast a dashboard answers over a county of many matters (PostgreSQL).

    scripts/with-postgres .venv/bin/python bench/dashboard_large.py --matters 10000000
    scripts/with-postgres .venv/bin/python bench/dashboard_large.py --matters 50000 --verify

Creates a fresh database on the server DATABASE_URL names (dropped afterwards unless
``--keep``), migrates it, builds a county through the actions (``--towns`` towns of
``--villages`` villages of ``--grids`` grids, fifteen departments, one user per role), then
writes ``--matters`` matters spread over three years with ``INSERT ... SELECT
generate_series``: their clocks, requests to rate and reporters' ratings, and the figure
rollups from the same rows (set-based SQL, as a bulk loader must; ``--verify`` checks them
against ``gongzhi figures rebuild-rollups``, which is only sensible for small runs).

Then it asks the JSON endpoint of the county, a town and a village dashboard (for a year and
for a month) through Django's test client, logged in as the county office: the first request
(cold: a fresh connection, nothing cached by the application) and ``--repeat`` more, and prints
p50/p95/max in milliseconds, with the database size and the time each step took.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

FIRST_DAY = dt.date(2023, 1, 1)
DAYS = 365 * 3  # matters are spread over 2023-2025
NOW = dt.datetime(2026, 1, 5, 10, 0)  # local time; the dashboards are asked as of this moment
TZ = "Asia/Shanghai"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build_county(towns: int, villages: int, grids: int):
    from gongzhi.matters.actions import matter_settings
    from gongzhi.matters.models import Category
    from gongzhi.places.actions import do_create_organisation, do_create_place
    from gongzhi.places.models import Place
    from gongzhi.testing import build_tree

    tree = build_tree("基准县")
    for t in range(towns):
        town = do_create_place(tree.county, "town", f"第{t + 1}镇", acting_user=None)
        for v in range(villages):
            village = do_create_place(town, "village", f"{t + 1}镇{v + 1}村", acting_user=None)
            for g in range(grids):
                do_create_place(village, "grid", f"{t + 1}-{v + 1}-{g + 1}网格", acting_user=None)
    departments = [tree.department.pk] + [
        do_create_organisation(tree.county, acting_user=None, kind="department",
                               name=f"县第{i}局", category="综合").pk for i in range(14)]
    settings = matter_settings(tree.county)
    categories = list(Category.objects.filter(county=tree.county).values_list("pk", flat=True))
    grid_rows = list(Place.objects.filter(county=tree.county, kind="grid").order_by("pk")
                     .values_list("pk", "village_id", "town_id"))
    return tree, settings.workflow_id, categories, departments, grid_rows


def generate(cursor, county_id: int, workflow_id: int, categories, departments, grid_rows,
             n: int) -> dict[str, float]:
    """Matters, clocks, requests to rate and ratings, all set-based."""
    from gongzhi.matters.models import Channel

    took = {}
    cursor.execute("CREATE TEMP TABLE bench_grid (idx int PRIMARY KEY, grid_id bigint, "
                   "village_id bigint, town_id bigint)")
    cursor.executemany("INSERT INTO bench_grid VALUES (%s, %s, %s, %s)",
                       [(i, *row) for i, row in enumerate(grid_rows)])
    channels = "(ARRAY[" + ",".join(f"'{c}'" for c in Channel.values[:8]) + "])"
    cats = "(ARRAY[" + ",".join(str(c) for c in categories) + "]::bigint[])"
    depts = "(ARRAY[" + ",".join(str(d) for d in departments) + ",NULL]::bigint[])"
    first = f"(TIMESTAMP '{FIRST_DAY.isoformat()} 08:00' AT TIME ZONE '{TZ}')"
    now = f"(TIMESTAMP '{NOW.isoformat(sep=' ')}' AT TIME ZONE '{TZ}')"
    span = DAYS * 86400
    # The rows are consistent by construction: skip the per-row foreign key triggers (the
    # throwaway cluster's user is a superuser), as a bulk load would.
    cursor.execute("SET session_replication_role = replica")
    t = time.perf_counter()
    # r: a number 0..99 per matter that decides its fate; s: another, for its details.
    cursor.execute(f"""
        INSERT INTO matters_matter (
            place_id, county_id, town_id, village_id, grid_id, tracking_code, title, text,
            channel, ledger, category_id, urgency, attributes, reporter_name, reporter_phone,
            is_anonymous, workflow_id, stage, stage_kind, stage_entered_at, stage_deadline,
            deadline_uncertain, queue_place_id, handling_mode, responsible_org_id, outcome,
            outcome_text, explanation, reopen_count, escalation_count, accepted_at,
            feedback_at, closed_at, is_closed, is_public, source_ref, created_at, updated_at)
        SELECT g.grid_id, {county_id}, g.town_id, g.village_id, g.grid_id,
               'B' || lpad(i::text, 11, '0'), '基准事项', '', {channels}[1 + (i * 7) % 8],
               (ARRAY['claim','suggestion','complaint'])[1 + (i * 13) % 3],
               {cats}[1 + (i * 11) % {len(categories)}], 'normal', '{{}}', '', '', false,
               {workflow_id},
               CASE WHEN closed THEN 'archived' WHEN r < 97 THEN 'handling' ELSE 'intake' END,
               CASE WHEN closed THEN 'closed' WHEN r < 97 THEN 'handling' ELSE 'intake' END,
               CASE WHEN closed THEN closed_at WHEN r < 97 THEN accepted ELSE created END,
               CASE WHEN closed THEN NULL WHEN r < 97 THEN accepted + interval '14 days'
                    ELSE created + interval '1 day' END,
               false, g.village_id, '', {depts}[1 + (i * 17) % {len(departments) + 1}],
               CASE WHEN closed AND r < 88 THEN 'solved' WHEN closed AND r < 90
                    THEN 'unsolvable' ELSE '' END,
               '', '', 0, 0,
               CASE WHEN r < 97 THEN accepted END, NULL, closed_at, closed, false, '',
               created, created
        FROM (
            SELECT i, r, s, g_idx, created, accepted,
                   CASE WHEN fate_closed THEN accepted + (1 + s % 25) * interval '1 day' END
                       AS closed_at,
                   fate_closed AS closed
            FROM (
                SELECT i, r, s, g_idx, created, created + interval '2 hours' AS accepted,
                       (created < {now} - interval '12 days'
                        AND (r < 99 OR created < {now} - interval '90 days')) AS fate_closed
                FROM (
                    SELECT i, (i * 48271) % 100 AS r, (i * 16807) % 97 AS s,
                           (i * 7919) % {len(grid_rows)} AS g_idx,
                           {first} + ((i - 1)::bigint * {span} / {n}) * interval '1 second'
                               AS created
                    FROM generate_series(1::bigint, {n}::bigint) AS i
                ) a
            ) b
        ) m JOIN bench_grid g ON g.idx = m.g_idx
    """)
    took["matters_seconds"] = time.perf_counter() - t
    log(f"matters: {took['matters_seconds']:.0f} s")
    t = time.perf_counter()
    cursor.execute(f"""
        INSERT INTO figures_matterclock (
            matter_id, stage, kind, entered_at, deadline, late, in_first_visit, from_start,
            response_deadline, response_late, handling_visits, late_handling_visits,
            late_visits)
        SELECT id, stage, stage_kind, stage_entered_at, stage_deadline, false,
               accepted_at IS NULL, true, created_at + interval '1 day',
               CASE WHEN accepted_at IS NULL THEN NULL ELSE id % 10 = 0 END,
               CASE WHEN is_closed THEN 1 ELSE 0 END,
               CASE WHEN is_closed AND id % 7 = 0 THEN 1 ELSE 0 END,
               CASE WHEN id % 10 = 0 OR (is_closed AND id % 7 = 0) THEN 1 ELSE 0 END
        FROM matters_matter WHERE county_id = {county_id}
    """)
    took["clocks_seconds"] = time.perf_counter() - t
    log(f"clocks: {took['clocks_seconds']:.0f} s")
    t = time.perf_counter()
    # Matters handled with an outcome are invited to rate a day before closing; 9 in 10 rate.
    cursor.execute(f"""
        INSERT INTO evaluation_evaluationrequest (
            county_id, matter_id, stage, stage_entered_at, round, nonce, created_at,
            expires_at, deadline_uncertain, status, answered_at)
        SELECT county_id, id, 'evaluation', closed_at - interval '1 day', 1,
               lpad(id::text, 16, '0'), closed_at - interval '1 day',
               closed_at + interval '6 days', false,
               CASE WHEN id % 10 = 0 THEN 'expired' ELSE 'answered' END,
               CASE WHEN id % 10 = 0 THEN NULL ELSE closed_at - interval '2 hours' END
        FROM matters_matter WHERE county_id = {county_id} AND is_closed AND outcome <> ''
    """)
    cursor.execute(f"""
        INSERT INTO evaluation_evaluation (
            county_id, matter_id, kind, via, outcome, attitude, efficiency, result, effect,
            comment, evaluator_name, round, reopened, at)
        SELECT county_id, id, 'reporter', 'link',
               (ARRAY['satisfied','satisfied','satisfied','satisfied','satisfied','satisfied',
                      'basic','basic','dissatisfied','no_answer'])[1 + (id * 3) % 10],
               '', '', '', '', '', '', 1, false, closed_at - interval '2 hours'
        FROM matters_matter
        WHERE county_id = {county_id} AND is_closed AND outcome <> '' AND id % 10 <> 0
    """)
    took["ratings_seconds"] = time.perf_counter() - t
    log(f"requests and ratings: {took['ratings_seconds']:.0f} s")
    cursor.execute("SET session_replication_role = DEFAULT")
    t = time.perf_counter()
    # VACUUM too: the visibility map lets the open-matter counts read the index alone.
    cursor.execute("VACUUM ANALYZE matters_matter")
    for table in ("figures_matterclock", "evaluation_evaluation",
                  "evaluation_evaluationrequest"):
        cursor.execute(f"ANALYZE {table}")
    took["analyze_seconds"] = time.perf_counter() - t
    return took


def build_rollups(cursor, county_id: int) -> float:
    """The figure rollups from the rows just written, in SQL (what rollups.contribution()
    computes per matter, grouped)."""
    from gongzhi.figures.workdays import workday_ordinals

    t = time.perf_counter()
    ordinals = workday_ordinals(FIRST_DAY - dt.timedelta(days=1),
                                FIRST_DAY + dt.timedelta(days=DAYS + 120))
    cursor.execute("CREATE TEMP TABLE bench_workday (day date PRIMARY KEY, n int)")
    cursor.executemany("INSERT INTO bench_workday VALUES (%s, %s)", list(ordinals.items()))
    cursor.execute("ANALYZE bench_workday")
    log(f"working days: {time.perf_counter() - t:.1f} s")
    local = f"AT TIME ZONE '{TZ}'"

    def month(col: str) -> str:
        return f"date_trunc('month', {col} {local})::date"

    dims = ("m.town_id, m.village_id, m.grid_id, m.ledger, m.channel, m.category_id, "
            "m.responsible_org_id")
    base = f"FROM matters_matter m WHERE m.county_id = {county_id} AND m.merged_into_id IS NULL"
    cursor.execute(f"""
        CREATE TEMP TABLE bench_events AS
        SELECT town_id, village_id, grid_id, ledger, channel, category_id, responsible_org_id,
               rm, em, sum(received) received, sum(closed) closed,
               sum(closed_on_time) closed_on_time, sum(responded) responded_in_time,
               sum(invited) reached_evaluation, 0::bigint reopened, sum(handled) handled,
               sum(handling_days) handling_days
        FROM (
            SELECT {dims}, {month('m.created_at')} rm, {month('m.created_at')} em,
                   1 received, 0 closed, 0 closed_on_time, 0 responded, 0 invited,
                   0 handled, 0 handling_days {base}
            UNION ALL
            SELECT {dims}, {month('m.created_at')}, {month('m.closed_at')}, 0, 1,
                   (c.from_start AND c.late_handling_visits = 0)::int, 0, 0,
                   (m.accepted_at IS NOT NULL AND m.outcome <> '')::int,
                   CASE WHEN m.accepted_at IS NOT NULL AND m.outcome <> ''
                        THEN greatest(0, wc.n - wa.n) ELSE 0 END
            {base.replace('FROM matters_matter m', '''FROM matters_matter m
                JOIN figures_matterclock c ON c.matter_id = m.id
                LEFT JOIN bench_workday wa ON wa.day = (m.accepted_at ''' + local + ''')::date
                LEFT JOIN bench_workday wc ON wc.day = (m.closed_at ''' + local + ''')::date''')}
              AND m.is_closed AND m.closed_at IS NOT NULL
            UNION ALL
            SELECT {dims}, {month('m.created_at')}, {month('m.accepted_at')}, 0, 0, 0, 1, 0, 0, 0
            {base.replace('FROM matters_matter m', 'FROM matters_matter m JOIN figures_matterclock c ON c.matter_id = m.id')}
              AND m.accepted_at IS NOT NULL AND c.response_late = false
            UNION ALL
            SELECT {dims}, {month('m.created_at')}, {month('r.first')}, 0, 0, 0, 0, 1, 0, 0
            {base.replace('FROM matters_matter m', '''FROM matters_matter m JOIN (
                SELECT matter_id, min(created_at) first FROM evaluation_evaluationrequest
                WHERE county_id = ''' + str(county_id) + ''' GROUP BY matter_id) r
                ON r.matter_id = m.id''')}
        ) e
        GROUP BY town_id, village_id, grid_id, ledger, channel, category_id, responsible_org_id,
                 rm, em
    """)
    log(f"matter events: {time.perf_counter() - t:.1f} s")
    # One reporter rating per matter here: its month, and no next one.
    cursor.execute(f"""
        CREATE TEMP TABLE bench_voices AS
        SELECT {dims}, {month('v.at')} rm, DATE '9999-12-01' em,
               count(*) FILTER (WHERE v.outcome = 'satisfied') satisfied,
               count(*) FILTER (WHERE v.outcome = 'basic') basic,
               count(*) FILTER (WHERE v.outcome = 'dissatisfied') dissatisfied,
               count(*) FILTER (WHERE v.outcome = 'no_answer') no_answer,
               count(*) FILTER (WHERE v.outcome <> 'no_answer') answered,
               0::bigint reached, 0::bigint solved, 0::bigint partly_solved, 0::bigint unsolved
        FROM evaluation_evaluation v JOIN matters_matter m ON m.id = v.matter_id
        WHERE v.county_id = {county_id} AND v.kind = 'reporter' AND m.merged_into_id IS NULL
        GROUP BY {dims}, rm
    """)
    slices = {"": "''", "ledger": "ledger", "channel": "channel",
              "category": "coalesce(category_id::text, '')",
              "department": "coalesce(responsible_org_id::text, '')"}
    tables = {
        "figures_matterrollup": ("bench_events", "event_month",
                                 ["received", "closed", "closed_on_time", "responded_in_time",
                                  "reached_evaluation", "reopened", "handled",
                                  "handling_days"]),
        "figures_ratingrollup": ("bench_voices", "next_month",
                                 ["satisfied", "basic", "dissatisfied", "no_answer", "answered",
                                  "reached", "solved", "partly_solved", "unsolved"]),
    }
    levels = {
        "county": ("0", "0", "0", "true"),
        "town": ("coalesce(town_id, 0)", "0", "0", "town_id IS NOT NULL"),
        "village": ("coalesce(town_id, 0)", "coalesce(village_id, 0)", "0",
                    "village_id IS NOT NULL"),
        "grid": ("coalesce(town_id, 0)", "coalesce(village_id, 0)", "grid_id",
                 "grid_id IS NOT NULL"),
    }
    for table, (source, second, counts) in tables.items():
        sums = ", ".join(f"sum({c})" for c in counts)
        for level, (town, village, grid, where) in levels.items():
            for dimension, value in slices.items():
                if level == "grid" and dimension:
                    continue
                group = ", ".join(e for e in (town, village, grid, value, "rm", "em")
                                  if e not in ("0", "''"))
                cursor.execute(f"""
                    INSERT INTO {table} (level, county_id, town_id, village_id, grid_id,
                        dimension, value, month, {second}, {', '.join(counts)})
                    SELECT '{level}', {county_id}, {town}, {village}, {grid}, '{dimension}',
                           {value}, rm, em, {sums}
                    FROM {source} WHERE {where}
                    GROUP BY {group}
                """)
    log(f"rollup rows: {time.perf_counter() - t:.1f} s")
    for table in ("figures_matterrollup", "figures_ratingrollup"):
        cursor.execute(f"ANALYZE {table}")
    return time.perf_counter() - t


def rollup_snapshot():
    from gongzhi.figures.models import MatterRollup, RatingRollup

    out = set()
    for model in (MatterRollup, RatingRollup):
        for row in model.objects.values():
            row.pop("id")
            if any(row[c] for c in model.COUNTS):
                out.add((model.__name__, *sorted(row.items())))
    return out


def measure(client, url: str, repeat: int) -> dict[str, float]:
    from django.db import connections

    connections.close_all()  # cold: a new connection
    t = time.perf_counter()
    response = client.get(url)
    cold = (time.perf_counter() - t) * 1000
    assert response.status_code == 200, response.content[:500]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    times.sort()
    return {"cold_ms": round(cold, 1), "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
            "max_ms": round(times[-1], 1), "received": response.json()["totals"]["received"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matters", type=int, default=100_000, help="matters (default 100000)")
    parser.add_argument("--towns", type=int, default=12)
    parser.add_argument("--villages", type=int, default=20, help="villages per town")
    parser.add_argument("--grids", type=int, default=3, help="grids per village")
    parser.add_argument("--repeat", type=int, default=20, help="warm requests per dashboard")
    parser.add_argument("--verify", action="store_true",
                        help="check the SQL-built rollups against rebuild-rollups (small runs)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        print("DATABASE_URL must name a PostgreSQL server (see scripts/with-postgres)",
              file=sys.stderr)
        return 2
    from demo_large import drop_postgres, fresh_postgres

    url, admin, dbname = fresh_postgres(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.settings.base"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        import django

        django.setup()
        from unittest import mock

        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.test.utils import setup_test_environment
        from django.utils import timezone

        from gongzhi.core.context import request_context
        from gongzhi.figures import rollups

        figures: dict[str, object] = {"matters": args.matters}
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        log("migrated")
        t = time.perf_counter()
        with request_context():
            tree, workflow_id, categories, departments, grid_rows = build_county(
                args.towns, args.villages, args.grids)
        figures["places"] = {"towns": args.towns + 2, "villages": args.towns * args.villages + 2,
                             "grids": len(grid_rows)}
        figures["county_seconds"] = round(time.perf_counter() - t, 1)
        log(f"county: {len(grid_rows)} grids in {figures['county_seconds']} s")
        with connection.cursor() as cursor:
            took = generate(cursor, tree.county.pk, workflow_id, categories, departments,
                            grid_rows, args.matters)
            figures.update({k: round(v, 1) for k, v in took.items()})
            figures["rollups_seconds"] = round(build_rollups(cursor, tree.county.pk), 1)
            log(f"rollups: {figures['rollups_seconds']} s")
            cursor.execute("SELECT count(*) FROM figures_matterrollup")
            figures["matter_rollup_rows"] = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM figures_ratingrollup")
            figures["rating_rollup_rows"] = cursor.fetchone()[0]
            cursor.execute("SELECT pg_database_size(current_database())")
            figures["database_mb"] = round(cursor.fetchone()[0] / 2**20)
        figures["generate_seconds"] = round(time.perf_counter() - t, 1)
        if args.verify:
            built = rollup_snapshot()
            t = time.perf_counter()
            with request_context():
                rollups.rebuild(tree.county.pk)
            figures["rebuild_seconds"] = round(time.perf_counter() - t, 1)
            rebuilt = rollup_snapshot()
            figures["verified"] = built == rebuilt
            if built != rebuilt:
                log(f"MISMATCH: {len(built - rebuilt)} built only, {len(rebuilt - built)} "
                    f"rebuilt only; e.g. {sorted(built ^ rebuilt)[:4]}")

        setup_test_environment()
        client = Client()
        client.force_login(tree.user("county_office"))
        now = timezone.make_aware(NOW)
        from gongzhi.places.models import Place

        town = Place.objects.get(county=tree.county, kind="town", name="第1镇")
        village = Place.objects.get(town=town, kind="village", name="1镇1村")
        questions = {
            "county, year 2025": (tree.county, "?period=year&year=2025"),
            "county, month 2025-11": (tree.county, "?period=month&month=2025-11"),
            "town, year 2025": (town, "?period=year&year=2025"),
            "village, year 2025": (village, "?period=year&year=2025"),
            "county, custom days (raw rows)": (
                tree.county, "?period=custom&start=2025-11-03&end=2025-11-16"),
        }
        timings = {}
        with mock.patch("django.utils.timezone.now", return_value=now):
            for label, (place, query) in questions.items():
                raw = "raw" in label  # counted from the rows: slower, asked fewer times
                timings[label] = measure(client, f"/dashboards/{place.pk}/data/{query}",
                                         min(args.repeat, 3) if raw else args.repeat)
                log(f"{label}: {timings[label]}")
        figures["timings"] = timings
        figures["total_seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps(figures, indent=2, ensure_ascii=False))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
        return 0 if figures.get("verified", True) else 1
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not args.keep:
            drop_postgres(admin, dbname)
        else:
            print(f"kept database {dbname}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
