"""Navigation by role: each entry appears only to users holding its permission somewhere."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .access import has_permission

# (label, url name, permission or None for any signed-in user). Later apps append entries.
NAVIGATION: list[tuple[str, str, str | None]] = [
    (_("工作台"), "home", None),
    (_("地点与户"), "places:browse", "places.view"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, url_name, permission in NAVIGATION:
        if permission and not has_permission(user, permission):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url,
                      "active": request.path == url or (url != "/" and request.path.startswith(url))})
    return {"nav_items": items}
