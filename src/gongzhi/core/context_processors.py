"""Navigation by role: each entry appears only to users holding its permission somewhere.

Entries live in :mod:`gongzhi.core.ui` (``register_nav``); ``NAVIGATION`` is re-exported here
for apps that append to it directly.
"""

from django.urls import NoReverseMatch, reverse

from .access import has_permission
from .ui import NAVIGATION, nav_entries, register_nav

__all__ = ["NAVIGATION", "navigation", "register_nav"]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for entry in nav_entries():
        if entry.permission and not has_permission(user, entry.permission):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": entry.label, "url": url, "url_name": entry.url_name,
                      "active": False})
    # The entry whose address is the longest prefix of the current path is the current one.
    path = request.path
    matching = [i for i in items if path == i["url"] or (i["url"] != "/" and
                                                          path.startswith(i["url"]))]
    if matching:
        max(matching, key=lambda i: len(i["url"]))["active"] = True
    return {"nav_items": items}
