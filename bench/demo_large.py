"""How fast the demo county loads at scale.

    python bench/demo_large.py --scale 1000000
    scripts/with-postgres python bench/demo_large.py --scale 1000000

Migrates a fresh database, builds the demo county with ``--scale`` households and prints
households/s, rows/s, the total time, the CPU time of this process (and of the PostgreSQL
backend, when it runs on this machine) and the peak memory (RSS) of this process.

The database: with ``DATABASE_URL`` naming PostgreSQL, a new database is created on that server
for the run and dropped afterwards (``--keep`` keeps it); otherwise a SQLite file in a temporary
directory (removed afterwards unless ``--keep``). ``--digest`` also prints the content digest,
which is the same on SQLite and PostgreSQL for the same seed and scale.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def fresh_postgres(url: str) -> tuple[str, str, str]:
    """Create an empty database beside the one ``url`` names; return its URL and name."""
    import psycopg

    parts = urlsplit(url)
    name = f"gongzhi_bench_{os.getpid()}"
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), admin, name


def drop_postgres(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_cpu_seconds(connection) -> float | None:
    """CPU time of this connection's PostgreSQL backend, when the server runs on this machine."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100_000, help="households (default 100000)")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: the demo's)")
    parser.add_argument("--batch-size", type=int, default=None, help="households per batch")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--digest", action="store_true", help="print the content digest")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    tmpdir = None
    admin = dbname = ""
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        url, admin, dbname = fresh_postgres(url)
        os.environ["DATABASE_URL"] = url
        where = f"PostgreSQL database {dbname}"
    else:
        os.environ.pop("DATABASE_URL", None)
        tmpdir = tempfile.mkdtemp(prefix="gongzhi-bench-")
        os.environ["GONGZHI_DATA_DIR"] = tmpdir
        where = f"SQLite {tmpdir}/gongzhi.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.settings.base"
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from gongzhi.accounts.models import RoleGrant, User
        from gongzhi.audit.models import AuditEvent
        from gongzhi.core.context import request_context
        from gongzhi.places import demo
        from gongzhi.places.models import Household, Organisation, Person, Place

        print(f"database: {where} ({connection.vendor})", file=sys.stderr)
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        migrated = time.perf_counter()
        cpu_before, server_before = cpu_seconds(), server_cpu_seconds(connection)
        with request_context():
            result = demo.generate_demo(
                seed=args.seed if args.seed is not None else demo.DEFAULT_SEED,
                scale=args.scale, progress=not args.no_progress,
                batch_size=args.batch_size or demo.BATCH_SIZE,
            )
        generated = time.perf_counter()
        cpu_after, server_after = cpu_seconds(), server_cpu_seconds(connection)
        counts = result.counts
        rows = {
            "places": Place.objects.count(),
            "households": Household.objects.count(),
            "people": Person.objects.count(),
            "organisations": Organisation.objects.count(),
            "users": User.objects.count(),
            "role_grants": RoleGrant.objects.count(),
            "audit_events": AuditEvent.objects.count(),
        }
        seconds = generated - migrated
        total_rows = sum(rows.values())
        figures = {
            "database": connection.vendor,
            "scale": args.scale,
            "seed": args.seed if args.seed is not None else demo.DEFAULT_SEED,
            "migrate_seconds": round(migrated - started, 2),
            "demo_seconds": round(seconds, 2),
            "households_per_second": round(counts["households"] / seconds),
            "rows_per_second": round(total_rows / seconds),
            "rows": rows,
            "python_cpu_seconds": round(cpu_after - cpu_before, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
        if server_before is not None and server_after is not None:
            figures["server_cpu_seconds"] = round(server_after - server_before, 1)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_database_size(current_database())")
                figures["database_mb"] = round(cursor.fetchone()[0] / 2**20)
        else:
            figures["database_mb"] = round(
                sum(p.stat().st_size for p in Path(tmpdir).glob("gongzhi.sqlite3*")) / 2**20
            )
        if args.digest:
            t = time.perf_counter()
            figures["digest"] = demo.demo_digest(result.county)
            figures["digest_seconds"] = round(time.perf_counter() - t, 2)
        figures["total_seconds"] = round(time.perf_counter() - started, 2)

        print(f"households      {counts['households']:>12,}")
        print(f"residents       {counts['people']:>12,}")
        print(f"rows written    {total_rows:>12,}  {json.dumps(rows)}")
        print(f"migrate         {figures['migrate_seconds']:>12.1f} s")
        print(f"demo            {figures['demo_seconds']:>12.1f} s")
        print(f"households/s    {figures['households_per_second']:>12,}")
        print(f"rows/s          {figures['rows_per_second']:>12,}")
        print(f"Python CPU      {figures['python_cpu_seconds']:>12.1f} s")
        if "server_cpu_seconds" in figures:
            print(f"server CPU      {figures['server_cpu_seconds']:>12.1f} s  (PostgreSQL backend)")
        print(f"total           {figures['total_seconds']:>12.1f} s")
        print(f"peak RSS        {figures['peak_rss_mb']:>12,} MB")
        print(f"database size   {figures['database_mb']:>12,} MB")
        if args.digest:
            print(f"digest          {figures['digest']}")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if dbname and not args.keep:
            drop_postgres(admin, dbname)
        if tmpdir and not args.keep:
            import shutil

            shutil.rmtree(tmpdir, ignore_errors=True)
        elif tmpdir:
            print(f"kept {tmpdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
