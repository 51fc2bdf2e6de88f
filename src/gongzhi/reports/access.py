"""Which places a user may export, and loading a user's own jobs."""

from __future__ import annotations

from django.db.models import QuerySet

from gongzhi.core.access import root_places
from gongzhi.places.models import LEVELS, Place, PlaceKind

from .models import ExportJob

DEEPEST = {PlaceKind.COUNTY: PlaceKind.VILLAGE, PlaceKind.TOWN: PlaceKind.VILLAGE,
           PlaceKind.VILLAGE: PlaceKind.GRID, PlaceKind.GRID: PlaceKind.GRID}


def export_places(user) -> list[tuple[Place, str]]:
    """The places where ``user`` holds ``reports.export`` and those beneath them (down to the
    villages, or the grids for a village's staff), in the tree's order, labelled with indent."""
    out: list[tuple[Place, str]] = []
    for root in root_places(user, "reports.export"):
        if root.kind not in DEEPEST:
            continue
        deepest = LEVELS.index(DEEPEST[root.kind])
        below = (Place.objects.filter(root.scope_q(), kind__in=LEVELS[root.level + 1:
                                                                      deepest + 1])
                 .order_by("town_id", "village_id", "grid_id", "sort_order", "pk"))
        out.append((root, root.name))
        for p in below:
            out.append((p, "　" * (p.level - root.level) + p.name))
    return out


def my_jobs(user) -> QuerySet[ExportJob]:
    """The jobs ``user`` asked for (nobody else's, whatever their role)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ExportJob.objects.none()
    return ExportJob.objects.filter(requested_by=user).select_related("place")
