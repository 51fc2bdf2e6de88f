"""Navigation by role: each entry appears only to users holding its permission somewhere.

Entries live in :mod:`gongzhi.core.ui` (``register_nav``); ``NAVIGATION`` is re-exported here
for apps that append to it directly.
"""

from django.urls import NoReverseMatch, reverse

from .access import has_permission
from .ui import NAV_GROUPS, NAVIGATION, group_of, nav_entries, register_nav

__all__ = ["NAVIGATION", "navigation", "register_nav"]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_groups": []}
    items = []
    for entry in nav_entries():
        if entry.permission and not has_permission(user, entry.permission):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": entry.label, "url": url, "url_name": entry.url_name,
                      "active": False, "group": group_of(entry), "order": entry.order})
    # The entry whose address is the longest prefix of the current path is the current one.
    path = request.path
    matching = [i for i in items if path == i["url"] or (i["url"] != "/" and
                                                          path.startswith(i["url"]))]
    if matching:
        max(matching, key=lambda i: len(i["url"]))["active"] = True
    return {"nav_items": items, "nav_groups": _grouped(items)}


def _grouped(items: list[dict]) -> list[dict]:
    """Entries folded into their groups, ordered by the group's (or lone entry's) order; a group
    holding one entry the user can see is shown as that entry."""
    groups: dict[str, dict] = {}
    out: list[dict] = []
    for item in items:
        key = item["group"]
        if key is None or key not in NAV_GROUPS:
            out.append({"label": item["label"], "order": item["order"], "items": [item],
                        "single": True, "active": item["active"], "key": item["url_name"]})
            continue
        if key not in groups:
            group = NAV_GROUPS[key]
            groups[key] = {"label": group.label, "order": group.order, "items": [],
                           "single": False, "active": False, "key": key}
            out.append(groups[key])
        groups[key]["items"].append(item)
        groups[key]["active"] = groups[key]["active"] or item["active"]
    for group in groups.values():
        group["single"] = len(group["items"]) == 1
    return sorted(out, key=lambda g: g["order"])
