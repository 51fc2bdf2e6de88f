"""Exactly once across a crash: the real task worker (``gongzhi db_worker``, a subprocess) is
killed with SIGKILL while the SMS gateway holds its request — after commit, before the worker
learns the message went out — and restarted; the gateway delivers the message once and the
outbox row ends sent."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.test import override_settings

from gongzhi.notifications.models import OutboxMessage
from gongzhi.notifications.outbox import Resident, notify

from .servers import SmsGateway

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _database_url(tmp_path: Path) -> tuple[str, Path | None]:
    """A database the worker process can reach holding what this test committed: a copy of
    the in-memory SQLite test database in a file, or the PostgreSQL test database itself."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        path = tmp_path / "worker.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        return f"sqlite:///{path}", path
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = quote(s["HOST"] or "127.0.0.1", safe="")
    return f"postgres://{auth}@{host}:{s['PORT'] or 5432}/{s['NAME']}", None


def _status(pk: int, sqlite_path: Path | None) -> tuple[str, int]:
    if sqlite_path is None:
        row = OutboxMessage.objects.filter(pk=pk).values_list("status", "attempts").get()
        return row[0], row[1]
    db = sqlite3.connect(sqlite_path, timeout=20)
    try:
        return db.execute("SELECT status, attempts FROM notifications_outboxmessage WHERE id=?",
                          (pk,)).fetchone()
    finally:
        db.close()


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "gongzhi", "db_worker", "--queue-name", "*", "--interval",
         "0.2", "--no-startup-delay", "--no-reload"],
        env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait(predicate, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")


@pytest.mark.django_db(transaction=True)
def test_killed_worker_sends_the_message_exactly_once_after_restart(tmp_path):
    with SmsGateway(stall_first=True) as gw:
        channel = {"GONGZHI_SMS_URL": gw.url + "/send", "GONGZHI_SMS_TIMEOUT": "30",
                   "GONGZHI_NOTIFY_CLAIM_SECONDS": "2", "GONGZHI_NOTIFY_QUIET_HOURS": "0:00-0:00"}
        with override_settings(TASKS=DB_TASKS, GONGZHI_SMS_URL=channel["GONGZHI_SMS_URL"],
                               GONGZHI_NOTIFY_QUIET_HOURS="00:00-00:00"):
            with transaction.atomic():
                notify(event="matters.feedback", title="您反映的事项已办理",
                       residents=[Resident("13812341234")])
            # Committed: the message and a queued delivery run, nothing sent yet.
            msg = OutboxMessage.objects.get()
            assert msg.status == "pending" and gw.requests == []
        url, sqlite_path = _database_url(tmp_path)
        env = {**os.environ, **channel, "DATABASE_URL": url,
               "DJANGO_SETTINGS_MODULE": "gongzhi.settings.base",
               "TASKS_BACKEND": "django_tasks_db.DatabaseBackend", "DEBUG": "false",
               "PYTHONUNBUFFERED": "1"}
        log = tmp_path / "worker.log"

        first = _worker(env, log)
        try:
            _wait(gw.stalled.is_set, 90, "the worker to call the gateway", log)
            os.kill(first.pid, signal.SIGKILL)  # between the send and marking it sent
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        gw.release()
        assert _status(msg.pk, sqlite_path) == ("pending", 1)  # claimed once, not sent

        second = _worker(env, log)
        try:
            _wait(lambda: _status(msg.pk, sqlite_path)[0] == "sent", 90,
                  "the restarted worker to send", log)
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                second.wait(15)
            except subprocess.TimeoutExpired:
                second.kill()

    key = str(msg.key)
    assert [r["key"] for r in gw.requests] == [key, key]  # sent again under the same key
    assert len({r["key"] for r in gw.requests}) == 1
    assert [d["key"] for d in gw.delivered] == [key]  # reached the phone once
    assert gw.acknowledged == [key]  # one acknowledged delivery
    assert _status(msg.pk, sqlite_path) == ("sent", 2)
