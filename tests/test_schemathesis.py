"""Property-based test of the whole JSON API against its own OpenAPI schema (schemathesis).

Every operation of ``/api/v1/openapi.json`` is called with generated requests — valid ones,
ones naming the test data's real objects, and invalid ones — with the bearer token of a
superuser on the ``tree`` data. Every answer must be free of server errors (5xx), carry a
status the schema declares, and match the declared body. Failures of all operations are
collected and reported together.

Deterministic (``derandomize``) and bounded: ``EXAMPLES`` per operation and pass (a third
of them for invalid input, which is slow to generate), about two thousand requests in all.
``SCHEMATHESIS_EXAMPLES=50`` runs a longer search locally.
"""

from __future__ import annotations

import logging
import os
import re
import time

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gongzhi.accounts.actions import do_create_token
from gongzhi.matters.actions import do_raise_matter
from gongzhi.places.models import Person

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def real_ids(tree, matter) -> dict[str, int]:
    """Path parameters by name → an object of the test data, so that generated requests also
    reach real objects (random ids mostly answer 404)."""
    return {
        "place_id": tree.village.pk, "village_id": tree.village.pk,
        "household_id": tree.household.pk,
        "person_id": Person.objects.filter(place=tree.household.place).order_by("pk").first().pk,
        "organisation_id": tree.department.pk, "matter_id": matter.pk,
    }


def takes_input(operation) -> bool:
    return any(True for part in (operation.path_parameters, operation.query, operation.body)
               for _item in part)


def settings_for(examples: int):
    return hypothesis_settings(
        max_examples=examples, derandomize=True, database=None, deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture
def keep_connection():
    """The WSGI handler closes the database connection after each request (an open
    transaction makes it look unusable), which would end the test's transaction on PostgreSQL;
    Django's test client holds the same signals back."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@override_settings(API_RATE_TOKEN="100000/min", API_RATE_ADDRESS="100000/min",
                   ALLOWED_HOSTS=["*"])
def test_every_operation_conforms_to_the_schema(tree, django_user_model, caplog,
                                                 keep_connection):
    cache.clear()
    boss = django_user_model.objects.create_superuser("schemathesis", password="x")
    _token, raw = do_create_token(boss, "schemathesis", acting_user=None)
    headers = {"Authorization": f"Bearer {raw}"}
    matter = do_raise_matter(place=tree.grid, title="路灯不亮", text="村口路灯坏了",
                             channel="visit", ledger="claim",
                             acting_user=tree.user("village_cadre"))
    ids = real_ids(tree, matter)

    app = get_wsgi_application()  # sets up logging again: quieten it afterwards
    caplog.set_level(logging.ERROR, logger="django.request")  # a line per 4xx costs time
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    requests = 0
    operations = 0
    timings: list[tuple] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        names = set(re.findall(r"{(\w+)}", operation.path))
        passes = [(GenerationMode.POSITIVE, None, EXAMPLES)]
        if names and names <= set(ids):
            passes.append((GenerationMode.POSITIVE, {n: ids[n] for n in names}, EXAMPLES))
        if takes_input(operation):  # invalid input is slow to generate: fewer examples
            passes.append((GenerationMode.NEGATIVE, None, max(2, EXAMPLES // 3)))
        for mode, path_parameters, examples in passes:
            strategy = operation.as_strategy(generation_mode=mode,
                                             path_parameters=path_parameters)

            @given(case=strategy)
            @settings_for(examples)
            def run(case):
                nonlocal requests
                requests += 1
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)

            started = time.monotonic()
            try:
                run()
            except Unsatisfiable:
                pass  # nothing invalid to send (e.g. a free-text path parameter)
            except (Exception, BaseExceptionGroup) as exc:  # collect them all, then report
                failures.append(f"{operation.method.upper()} {operation.path} "
                                f"[{mode.value}]: {exc}")
            timings.append((time.monotonic() - started, operation.method.upper(),
                            operation.path, mode.value))
    if os.environ.get("SCHEMATHESIS_TIMINGS"):
        print(requests, "requests in", round(sum(t[0] for t in timings), 1), "s")
        for row in sorted(timings, reverse=True)[:25]:
            print(*row)
    assert operations > 100
    assert requests > EXAMPLES * operations, requests
    assert not failures, f"{len(failures)} failing of {requests} requests:\n\n" + "\n\n".join(
        failures)
