"""What apps add to the pages: navigation entries and workbench panels.

An app declares its entries from its ``AppConfig.ready``::

    from gongzhi.core.ui import register_nav, register_panel

    register_nav(_("事项"), "matters:list", "matters.view", order=20)
    register_panel("matters/panels/my_matters.html", permission="matters.view",
                   context=my_matters_context, order=20)

A navigation entry appears to a user who holds its permission at some place (or to every
signed-in user when the permission is ``None``). A panel is a template included on the
workbench home (``core/home.html``); its optional ``context(request)`` returns the dict the
template needs, and runs only for users who may see the panel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    permission: str | None = None
    order: int = 100
    group: str | None = None


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: str
    order: int


# The top navigation shows groups, each a menu of its entries (one entry: a plain link), so it
# stays short for senior roles who hold many permissions. An entry joins the group named when it
# is registered, else the group of its URL namespace below, else it stands alone.
NAV_GROUPS: dict[str, NavGroup] = {}
NAMESPACE_GROUPS: dict[str, str] = {
    "places": "registry", "cobuilding": "registry",
    "matters": "work", "handling": "work", "visits": "work", "hotline": "work",
    "meetings": "deliberation", "compact": "deliberation",
    "supervision": "oversight", "board": "oversight", "evaluation": "oversight",
    "points": "points", "volunteers": "points",
    "dashboards": "figures", "reports": "figures", "assessments": "figures",
    "matters_admin": "settings", "webhooks": "settings", "open311": "settings",
    "notifications": "settings",
}


def register_nav_group(key: str, label: str, order: int) -> NavGroup:
    group = NavGroup(key, label, order)
    NAV_GROUPS[key] = group
    return group


def group_of(entry: NavEntry) -> str | None:
    if entry.group:
        return entry.group
    namespace = entry.url_name.split(":", 1)[0] if ":" in entry.url_name else ""
    return NAMESPACE_GROUPS.get(namespace)


@dataclass(frozen=True)
class Panel:
    template: str
    permission: str | None = None
    order: int = 100
    context: Callable[[Any], dict[str, Any]] | None = None


# Lists on purpose: apps append to them. Plain ``(label, url name, permission)`` tuples appended
# to NAVIGATION are accepted too.
NAVIGATION: list[NavEntry | tuple] = []
PANELS: list[Panel] = []


def register_nav(label: str, url_name: str, permission: str | None = None,
                 order: int = 100, group: str | None = None) -> NavEntry:
    """Add a navigation entry (once per url name: registering again replaces it)."""
    entry = NavEntry(label, url_name, permission, order, group)
    NAVIGATION[:] = [e for e in NAVIGATION if _as_entry(e).url_name != url_name]
    NAVIGATION.append(entry)
    return entry


def register_panel(template: str, *, permission: str | None = None, order: int = 100,
                   context: Callable[[Any], dict[str, Any]] | None = None) -> Panel:
    """Add a workbench panel (once per template: registering again replaces it)."""
    panel = Panel(template, permission, order, context)
    PANELS[:] = [p for p in PANELS if p.template != template]
    PANELS.append(panel)
    return panel


def _as_entry(entry: NavEntry | tuple) -> NavEntry:
    if isinstance(entry, NavEntry):
        return entry
    label, url_name, permission, *rest = entry
    return NavEntry(label, url_name, permission, rest[0] if rest else 100)


def nav_entries() -> list[NavEntry]:
    return sorted((_as_entry(e) for e in NAVIGATION), key=lambda e: e.order)


def panels() -> list[Panel]:
    return sorted(PANELS, key=lambda p: p.order)


# The groups of the top navigation, in the order of the loop (说、议、办、督、评、晒) and around it.
register_nav_group("registry", _("基础信息"), 10)
register_nav_group("work", _("说事办事"), 20)
register_nav_group("deliberation", _("议事协商"), 40)
register_nav_group("oversight", _("督办公示"), 50)
register_nav_group("points", _("积分志愿"), 70)
register_nav_group("figures", _("统计考核"), 80)
register_nav_group("settings", _("设置"), 90)

# The foundation's own entries.
register_nav(_("工作台"), "home", None, order=0)
register_nav(_("地点与户"), "places:browse", "places.view", order=10)
