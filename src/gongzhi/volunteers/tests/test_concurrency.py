"""On PostgreSQL: residents racing for the last places of an activity, each in their own thread
and connection, never oversell it (the activity row is locked while places are counted).

Skipped on SQLite, where writers queue one at a time (``BEGIN IMMEDIATE``) by construction;
there the oversell refusal is tested in ``test_activity_flow``.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from gongzhi.core.context import request_context
from gongzhi.core.errors import ActionError
from gongzhi.places.actions import do_create_household
from gongzhi.volunteers import actions
from gongzhi.volunteers.models import Signup, SignupStatus

from .conftest import add_resident

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_parallel_sign_ups_never_oversell():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks and real concurrency")
    from gongzhi.testing import build_tree

    tree = build_tree()
    residents = []
    for n in range(6):
        household = do_create_household(tree.grid, acting_user=None, address=f"高城寨村{20 + n}号",
                                        members=[{"name": f"住户{n}", "relation": "head"}])
        residents.append(add_resident(tree, household, f"u_racer{n}"))
    cadre = tree.user("village_cadre")
    now = timezone.now()
    activity = actions.do_create_activity(
        tree.village, title="义务巡逻", address="村口", starts_at=now + dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=3), slots=2, acting_user=cadre)
    activity = actions.do_publish_activity(activity, acting_user=cadre)

    barrier = threading.Barrier(len(residents))
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def race(user):
        def run():
            try:
                with request_context():
                    barrier.wait()
                    try:
                        actions.do_sign_up(activity, acting_user=user)
                        result = "ok"
                    except ActionError as exc:
                        result = str(exc)
                    with lock:
                        outcomes.append(result)
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connections.close_all()
        return run

    threads = [threading.Thread(target=race(u)) for u in residents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert outcomes.count("ok") == 2
    assert all("名额已满" in o for o in outcomes if o != "ok")
    assert Signup.objects.filter(activity=activity, status=SignupStatus.SIGNED_UP).count() == 2
