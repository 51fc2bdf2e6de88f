"""Per-request context that actions read without threading it through every call.

The request id (and the acting user when an action is not told one) come from here; the
middleware sets them, management commands and tasks set their own.
"""

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    rid = request_id.get()
    return rid


@contextmanager
def request_context(rid: str | None = None) -> Iterator[str]:
    """Run a block (a command, a task) under its own request id."""
    rid = rid or new_request_id()
    token = request_id.set(rid)
    try:
        yield rid
    finally:
        request_id.reset(token)
