"""How fast matters are raised over HTTP, against the production settings on PostgreSQL.

    scripts/with-postgres .venv/bin/python bench/matters_http.py
    scripts/with-postgres .venv/bin/python bench/matters_http.py --requests 2000 --concurrency 8

Without a PostgreSQL ``DATABASE_URL`` the script runs itself again under
``scripts/with-postgres`` (a throwaway cluster, removed afterwards); where PostgreSQL cannot be
found it says so and exits 0.

What it does, all on 127.0.0.1:

1. creates an empty database beside the one ``DATABASE_URL`` names (dropped afterwards unless
   ``--keep``), migrates it and builds the demo county (``gongzhi demo --scale``);
2. creates an API token for the demo village cadre (``gongzhi token create``);
3. starts gunicorn (``gongzhi.wsgi``, threaded workers) with
   ``DJANGO_SETTINGS_MODULE=gongzhi.settings.production``, ``DEBUG=false``, a random
   ``SECRET_KEY``, ``ALLOWED_HOSTS=127.0.0.1`` and ``SECURE_SSL_REDIRECT=false`` (no TLS on the
   loopback);
4. fires ``--requests`` ``POST /api/v1/matters`` from ``--concurrency`` client threads, each on
   one keep-alive connection, after ``--warmup`` requests that are not measured; matters are
   spread over the cadre's grids and the county's categories, each with its own text, so the
   duplicate check (open matters alike at the same place and category) has real work to do;
5. prints matters per second, the latency percentiles (p50, p95, p99, max), the errors and the
   CPU seconds of the server and of the client, checks in the database that every answered
   request made exactly one matter and one audit event, then stops the server by its PID.

gunicorn is required (``pip install gunicorn``, or a directory holding it on ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CADRE = "village_cadre"  # a demo login: 村（社区）两委干部 of 高城寨村


def fail(message: str) -> None:
    print(f"matters_http: {message}", file=sys.stderr)
    sys.exit(1)


def is_postgres(url: str) -> bool:
    return url.split("://", 1)[0] in ("postgres", "postgresql", "pgsql")


def fresh_postgres(url: str) -> tuple[str, str, str]:
    """Create an empty database beside the one ``url`` names; return its URL and name."""
    import psycopg

    parts = urlsplit(url)
    name = f"gongzhi_bench_http_{os.getpid()}"
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), admin, name


def drop_postgres(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def gongzhi(env: dict[str, str], *args: str) -> str:
    """Run a ``gongzhi`` management command with the server's environment; its output."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "gongzhi", *args], env=env, cwd=ROOT, capture_output=True,
        text=True, check=False)
    if done.returncode != 0:
        fail(f"gongzhi {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def cpu_of_tree(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        this, parent = int(stat.parent.name), int(fields[1])
        if this == pid or parent == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


class Client:
    """One keep-alive connection, reopened after a failure."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                        "Accept": "application/json", "Host": HOST}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        try:
            self.conn.request(method, path, body=data, headers=self.headers)
            response = self.conn.getresponse()
            payload = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, payload
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def wait_until_up(port: int, token: str, server: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    client = Client(port, token)
    while time.monotonic() < deadline:
        if server.poll() is not None:
            fail("the server stopped while starting; see its log above")
        try:
            status, _body = client.request("GET", "/api/v1/me")
            if status == 200:
                client.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    fail(f"the server did not answer on {HOST}:{port} within {seconds:.0f}s")


def setup_targets(client: Client) -> tuple[list[int], list[int]]:
    """The cadre's grids (or village) and the county's categories, through the API."""
    status, body = client.request("GET", "/api/v1/me")
    me = json.loads(body)
    villages = [g["place_id"] for g in me["grants"] if g["place_kind"] == "village"]
    if status != 200 or not villages:
        fail(f"{CADRE} holds no village: {body[:300]!r}")
    status, body = client.request("GET", f"/api/v1/places?parent={villages[0]}&kind=grid&limit=200")
    grids = [p["id"] for p in json.loads(body)["items"]] if status == 200 else []
    status, body = client.request("GET", "/api/v1/categories")
    categories = [c["id"] for c in json.loads(body) if c["parent_id"] is None]
    if status != 200 or not categories:
        fail(f"no categories: {body[:300]!r}")
    return grids or villages, categories


WHAT = ["路灯不亮", "道路坑洼", "垃圾清运不及时", "自来水水压低", "邻居占道堆放杂物", "排水沟堵塞",
        "广场舞噪音扰民", "耕地灌溉渠破损", "危房需要鉴定", "公交站牌损坏", "低保申请咨询",
        "河道有人倾倒垃圾"]
WHERE = ["村口", "二组", "学校门口", "卫生室旁", "文化广场", "老井边", "桥头", "三组", "村委会后"]


def matter_body(i: int, places: list[int], categories: list[int]) -> dict:
    what, where = WHAT[i % len(WHAT)], WHERE[(i // len(WHAT)) % len(WHERE)]
    return {
        "place_id": places[i % len(places)],
        "category_id": categories[(i // len(places)) % len(categories)],
        "title": f"{where}{what}（{i}）",
        "text": (f"{where}{what}，已经有{i % 30 + 1}天了，影响{i % 7 + 2}户人家，"
                 f"请尽快处理。编号{i}。"),
        "channel": "visit", "ledger": ("claim", "suggestion", "claim")[i % 3],
        "reporter_name": "测试群众", "reporter_phone": f"139{i % 100_000_000:08d}",
    }


def load(port: int, token: str, first: int, count: int, concurrency: int,
         places: list[int], categories: list[int]) -> tuple[list[float], list[str], float]:
    """``count`` POSTs from ``concurrency`` threads: latencies (s), errors, wall time."""
    lock = threading.Lock()
    next_index = [first]
    latencies: list[float] = []
    errors: list[str] = []

    def worker() -> None:
        client = Client(port, token)
        mine: list[float] = []
        try:
            while True:
                with lock:
                    i = next_index[0]
                    if i >= first + count:
                        break
                    next_index[0] += 1
                started = time.perf_counter()
                try:
                    status, body = client.request("POST", "/api/v1/matters",
                                                  matter_body(i, places, categories))
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                elapsed = time.perf_counter() - started
                if status == 201:
                    mine.append(elapsed)
                else:
                    with lock:
                        errors.append(f"HTTP {status}: {body[:200]!r}")
        finally:
            client.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - started


def postmaster_pid(url: str) -> int | None:
    """The PostgreSQL server's PID when it runs on this machine and we may read its data
    directory (a throwaway cluster); else None."""
    import psycopg

    try:
        with psycopg.connect(urlunsplit(urlsplit(url)._replace(scheme="postgresql"))) as conn:
            data = conn.execute("SHOW data_directory").fetchone()[0]
        return int((Path(data) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError, psycopg.Error):
        return None


def count_rows(url: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(urlunsplit(urlsplit(url)._replace(scheme="postgresql"))) as conn:
        matters = conn.execute("SELECT count(*) FROM matters_matter").fetchone()[0]
        audited = conn.execute("SELECT count(*) FROM audit_auditevent "
                               "WHERE action = 'matters.matter.raise'").fetchone()[0]
    return matters, audited


def stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown, by the master's PID
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured POSTs (default 2000)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--warmup", type=int, default=100, help="POSTs before measuring (100)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="gunicorn worker processes (default: the number of CPUs)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--scale", type=int, default=200,
                        help="households of the demo county (default 200)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if min(args.requests, args.concurrency, args.workers, args.threads) < 1 or args.warmup < 0:
        fail("--requests, --concurrency, --workers and --threads must be positive")

    if importlib.util.find_spec("gunicorn") is None:
        fail("gunicorn is needed to serve the application as in production; it is a "
             "dependency of gongzhi: reinstall with `pip install -e .`.")

    url = os.environ.get("DATABASE_URL", "")
    if not is_postgres(url):
        wrapper = ROOT / "scripts" / "with-postgres"
        found = wrapper.exists() and subprocess.run(  # noqa: S603 - our own script
            [str(wrapper), "--check"], check=False).returncode == 0
        if os.environ.get("MATTERS_HTTP_WRAPPED") or not found:
            print("matters_http: needs PostgreSQL (set DATABASE_URL, or install its server "
                  "programs for scripts/with-postgres); skipped.", file=sys.stderr)
            return 0
        os.environ["MATTERS_HTTP_WRAPPED"] = "1"
        os.execv(str(wrapper), [str(wrapper), sys.executable, *sys.argv])  # noqa: S606
    db_url, admin, name = fresh_postgres(url)
    data_dir = tempfile.mkdtemp(prefix="gongzhi-bench-http-")
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE":
           "gongzhi.settings.production", "SECRET_KEY": secrets.token_urlsafe(48),
           "DEBUG": "false", "ALLOWED_HOSTS": HOST, "SECURE_SSL_REDIRECT": "false",
           "GONGZHI_DATA_DIR": data_dir, "LOG_LEVEL": "WARNING",
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"),
                                                    os.environ.get("PYTHONPATH", "")) if p)}
    server: subprocess.Popen | None = None
    try:
        t0 = time.perf_counter()
        gongzhi(env, "migrate", "--noinput", "-v", "0")
        gongzhi(env, "demo", "--scale", str(args.scale), "--no-progress")
        token = gongzhi(env, "token", "create", CADRE, "bench").strip().splitlines()[-1]
        setup_seconds = time.perf_counter() - t0

        port = free_port()
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "gunicorn", "gongzhi.wsgi:application",
             "--bind", f"{HOST}:{port}", "--workers", str(args.workers),
             "--worker-class", "gthread", "--threads", str(args.threads),
             "--keep-alive", "30", "--graceful-timeout", "10", "--log-level", "warning"],
            env=env, cwd=data_dir, stdin=subprocess.DEVNULL,
        )
        wait_until_up(port, token, server)
        places, categories = setup_targets(Client(port, token))

        if args.warmup:
            _lat, warm_errors, _wall = load(port, token, 0, args.warmup, args.concurrency,
                                            places, categories)
            if warm_errors:
                fail(f"warm-up failed: {warm_errors[0]}")
        load_before = os.getloadavg()[0]
        pg_pid = postmaster_pid(db_url)
        pg_cpu0 = cpu_of_tree(pg_pid) if pg_pid else 0.0
        server_cpu0 = cpu_of_tree(server.pid)
        client_cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        latencies, errors, wall = load(port, token, args.warmup, args.requests,
                                       args.concurrency, places, categories)
        server_cpu = cpu_of_tree(server.pid) - server_cpu0
        pg_cpu = cpu_of_tree(pg_pid) - pg_cpu0 if pg_pid else None
        load_after = os.getloadavg()[0]
        client_cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - client_cpu0
        stop(server)

        matters, audited = count_rows(db_url)
        expected = args.warmup + len(latencies)
        ms = sorted(x * 1000 for x in latencies)
        figures = {
            "requests": args.requests, "ok": len(latencies), "errors": len(errors),
            "concurrency": args.concurrency, "workers": args.workers, "threads": args.threads,
            "cpus": os.cpu_count(), "scale": args.scale, "places": len(places),
            "categories": len(categories), "seconds": round(wall, 3),
            "matters_per_second": round(len(latencies) / wall, 1),
            "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(ms[-1], 1) if ms else None,
            "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
            "server_cpu_seconds": round(server_cpu, 1), "client_cpu_seconds": round(client_cpu, 1),
            "postgres_cpu_seconds": round(pg_cpu, 1) if pg_cpu is not None else None,
            "matters_in_db": matters, "raise_audit_events": audited,
            "setup_seconds": round(setup_seconds, 1),
            "load_average": [round(load_before, 2), round(load_after, 2)],
        }
        print(f"POST /api/v1/matters × {args.requests} from {args.concurrency} keep-alive "
              f"clients; gunicorn {args.workers} workers × {args.threads} threads "
              f"(gthread), production settings, PostgreSQL; {os.cpu_count()} CPUs")
        print(f"  {figures['matters_per_second']} matters/s over {wall:.1f}s "
              f"({len(latencies)} created, {len(errors)} errors)")
        print(f"  latency ms: p50 {figures['p50_ms']}  p95 {figures['p95_ms']}  "
              f"p99 {figures['p99_ms']}  max {figures['max_ms']}  mean {figures['mean_ms']}")
        pg_text = f"{pg_cpu:.1f}" if pg_cpu is not None else "not measured"
        print(f"  CPU seconds: server {server_cpu:.1f}, PostgreSQL {pg_text}, client "
              f"{client_cpu:.1f}, of {wall * (os.cpu_count() or 1):.0f} available")
        print(f"  load average (1 min) before and after: {load_before:.2f}, {load_after:.2f} "
              f"(this run alone adds about {args.workers + 1})")
        print(f"  database: {matters} matters, {audited} raise events in the audit chain "
              f"(expected {expected} of each)")
        for e in errors[:5]:
            print(f"  error: {e}")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
        return 0 if not errors and matters == audited == expected else 1
    finally:
        if server is not None:
            stop(server)
        if args.keep:
            print(f"kept the database {name}: {db_url}")
        else:
            drop_postgres(admin, name)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
