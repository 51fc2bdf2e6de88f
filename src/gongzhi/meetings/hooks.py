"""Where other apps join 议事 without 议事 knowing them (registered from their ``ready()``).

- **Decision hooks** run inside the action's transaction when a vote, a consensus or a
  resolution is recorded on a topic: ``hook(event, topic, *, meeting, acting_user, vote=None,
  resolution=None)`` with ``event`` one of ``"vote"``, ``"consensus"``, ``"resolution"``. A
  hook that raises :class:`~gongzhi.core.errors.ActionError` refuses the whole step (nothing
  is saved). The village compact adopts an amendment this way: only through a resolution on a
  passed vote.
- **Invitee sources** decide who is invited to a meeting instead of the kind's member groups:
  ``source(meeting) -> list[Member] | None`` (None: not mine). An association's meetings
  invite its members this way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DECISION_EVENTS = ("vote", "consensus", "resolution")

_DECISION_HOOKS: list[Callable[..., None]] = []
_INVITEE_SOURCES: list[Callable[[Any], list | None]] = []


def register_decision_hook(hook: Callable[..., None]) -> None:
    if hook not in _DECISION_HOOKS:
        _DECISION_HOOKS.append(hook)


def register_invitee_source(source: Callable[[Any], list | None]) -> None:
    if source not in _INVITEE_SOURCES:
        _INVITEE_SOURCES.append(source)


def decided(event: str, topic, **kwargs: Any) -> None:
    for hook in _DECISION_HOOKS:
        hook(event, topic, **kwargs)


def invitees_for(meeting) -> list | None:
    for source in _INVITEE_SOURCES:
        members = source(meeting)
        if members is not None:
            return members
    return None
