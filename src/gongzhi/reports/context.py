"""What a ledger or report builder is given, and what it gives back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from gongzhi.places.models import Place

from .periods import Period


def aware(day: dt.date) -> dt.datetime:
    """A date's local midnight (the figures' convention)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min),
                               timezone.get_current_timezone())


@dataclass
class Context:
    user: Any
    place: Place
    period: Period
    params: dict[str, Any] = field(default_factory=dict)
    progress: Callable[[int, str], None] = lambda pct, msg: None
    now: dt.datetime = field(default_factory=timezone.now)

    @property
    def start(self) -> dt.datetime:
        return aware(self.period.start)

    @property
    def end(self) -> dt.datetime:
        return aware(self.period.end)

    @property
    def unit(self) -> str:
        """制表单位: the place the ledger is about."""
        return self.place.name


@dataclass
class Built:
    data: bytes
    extension: str
    content_type: str
    rows: int = 0
    facts: dict[str, Any] = field(default_factory=dict)  # for the audit event


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
