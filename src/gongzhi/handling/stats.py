"""Counting check-ins: on time, late, and missing (still waiting after the deadline)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .models import Summons, SummonsStatus

STAT_KEYS = ("total", "checked_in", "on_time", "late", "missing", "waiting")


def _counts(now) -> dict[str, Any]:
    return {
        "total": Count("pk"),
        "checked_in": Count("pk", filter=Q(checked_in_at__isnull=False)),
        "on_time": Count("pk", filter=Q(checked_in_at__isnull=False, is_late=False)),
        "late": Count("pk", filter=Q(checked_in_at__isnull=False, is_late=True)),
        "missing": Count("pk", filter=Q(checked_in_at__isnull=True,
                                        status=SummonsStatus.WAITING, check_in_due__lt=now)),
        "waiting": Count("pk", filter=Q(checked_in_at__isnull=True,
                                        status=SummonsStatus.WAITING, check_in_due__gte=now)),
    }


def summons_stats(qs: QuerySet[Summons], now=None) -> dict[str, int]:
    """Counts over ``qs`` (withdrawn summonses left out): total, checked_in, on_time, late,
    missing (waiting past the deadline) and waiting (still within the deadline)."""
    now = now or timezone.now()
    row = qs.exclude(status=SummonsStatus.CANCELLED).order_by().aggregate(**_counts(now))
    return {key: row[key] or 0 for key in STAT_KEYS}


def summons_stats_by_organisation(qs: QuerySet[Summons], now=None) -> list[dict[str, Any]]:
    """The same counts per summoned organisation, most missing first (one grouped query)."""
    now = now or timezone.now()
    rows = (qs.exclude(status=SummonsStatus.CANCELLED).order_by()
            .values("organisation_id", "organisation__name")
            .annotate(**_counts(now))
            .order_by("-missing", "-late", "organisation__name"))
    return [
        {"organisation_id": r["organisation_id"], "organisation": r["organisation__name"],
         **{key: r[key] or 0 for key in STAT_KEYS}}
        for r in rows
    ]
