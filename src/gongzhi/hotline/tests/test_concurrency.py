"""Two copies of one order posted at the same moment make one matter (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection as db
from django.db import connections

from gongzhi.core.context import request_context
from gongzhi.matters.models import Matter

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_concurrent_copies_of_an_order_make_one_matter(tree, hotline):
    if db.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: real concurrency")
    barrier = threading.Barrier(4)
    answers: list = []
    errors: list = []

    def post(n):
        try:
            with request_context():
                barrier.wait()
                answers.append(hotline.order(stamp=int(time.time()) - n))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 200, 200, 201]
    assert len({r.json()["matter_id"] for r in answers}) == 1
    assert Matter.objects.filter(source_ref="GD20250312001").count() == 1
