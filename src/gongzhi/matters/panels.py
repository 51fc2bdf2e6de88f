"""Panels on the matter page, declared by the apps that own them (handling, supervision, ...).

``register_panel("summons", "handling/panels/summons.html", context_fn, order=30)``; the matter
page renders each registered panel with ``context_fn(request, matter)`` merged into its context
(return None to hide the panel for this user and matter).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]
    order: int


PANELS: dict[str, Panel] = {}


def register_panel(key: str, template: str, context: Callable[[Any, Any], dict | None],
                   order: int = 50) -> None:
    PANELS[key] = Panel(key, template, context, order)


def panels_for(request, matter) -> list[tuple[Panel, dict[str, Any]]]:
    out = []
    for panel in sorted(PANELS.values(), key=lambda p: p.order):
        ctx = panel.context(request, matter)
        if ctx is not None:
            out.append((panel, ctx))
    return out
