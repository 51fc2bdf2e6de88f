"""What a figure is, and where each app declares its own.

A :class:`FigureSet` is one query: it counts rows of one kind (matters received, ratings,
summonses ...) under a place over a period, grouped by one dimension, and yields several
counts at once. A :class:`Ratio` is a figure computed from counts (办结率 = closed ÷ received):
it is computed in one place, :func:`apply_ratios`, for totals and breakdowns alike, always
from the summed counts and never by averaging rates.

**Extension point.** An app adds figures with :func:`register_figure_set` and
:func:`register_ratio` from its ``AppConfig.ready()``: visits and household coverage (大走访)
register theirs there when that app exists. Nothing is registered for them until then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from gongzhi.places.models import Place

PLACE_DIMENSIONS = ("county", "town", "village", "grid")
DIMENSIONS = (*PLACE_DIMENSIONS, "ledger", "category", "channel", "department", "cadre",
              "stage_kind")
PERIODS = ("day", "week", "month", "quarter", "year")

ALL = "__all__"  # the key of an ungrouped result


@dataclass(frozen=True)
class Query:
    """What a figure set is asked: rows under ``scope`` over ``[start, end)``, filtered, grouped
    on ``group`` (a dimension name, or None for one total). ``now`` is the moment of the
    question (for the figures that are a snapshot, such as overdue counts)."""

    scope: Place
    start: dt.datetime
    end: dt.datetime
    now: dt.datetime
    group: str | None = None
    filters: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def group_field(self, figure_set: FigureSet) -> str | None:
        return None if self.group is None else figure_set.field(self.group)

    def filter_q(self, figure_set: FigureSet) -> Q:
        q = Q()
        for dimension, values in self.filters.items():
            q &= Q(**{f"{figure_set.field(dimension)}__in": values})
        return q


Counter = Callable[[Query, "FigureSet"], dict[Any, dict[str, int]]]


@dataclass(frozen=True)
class FigureSet:
    """One query yielding ``counts`` per group.

    ``query(q, figure_set)`` returns ``{group value: {count: n}}``, or ``{ALL: {...}}`` when
    ``q.group`` is None. ``matter_prefix`` is the path from the counted rows to their matter
    (``""`` when they are matters); ``dimensions`` overrides the field of a dimension (the
    summoned unit, not the matter's, is a summons' department). ``periodic`` is false for a
    snapshot, which has no breakdown by period.
    """

    key: str
    name: str
    counts: tuple[str, ...]
    query: Counter
    matter_prefix: str = ""
    dimensions: Mapping[str, str] = field(default_factory=dict)
    periodic: bool = True

    def field(self, dimension: str) -> str:
        if dimension in self.dimensions:
            return self.dimensions[dimension]
        p = self.matter_prefix
        if dimension in PLACE_DIMENSIONS:
            return f"{p}{dimension}_id"
        return {
            "ledger": f"{p}ledger", "channel": f"{p}channel", "category": f"{p}category_id",
            "department": f"{p}responsible_org_id", "cadre": f"{p}responsible_user_id",
            "stage_kind": f"{p}stage_kind",
        }[dimension]


@dataclass(frozen=True)
class Ratio:
    """A figure computed from counts: sum(numerator) ÷ sum(denominator); None when the
    denominator is zero. The denominator is also a unit's *volume* when ranking."""

    key: str
    name: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    higher_is_better: bool = True
    unit: str = "rate"  # "rate" (a fraction, shown as a percentage) or "working_days"

    def value(self, counts: Mapping[str, int]) -> float | None:
        bottom = self.volume(counts)
        if not bottom:
            return None
        return sum(counts.get(k, 0) for k in self.numerator) / bottom

    def volume(self, counts: Mapping[str, int]) -> int:
        return sum(counts.get(k, 0) for k in self.denominator)

    def applies_to(self, counts: Mapping[str, Any]) -> bool:
        return all(k in counts for k in (*self.numerator, *self.denominator))


FIGURE_SETS: dict[str, FigureSet] = {}
RATIOS: dict[str, Ratio] = {}


def register_figure_set(figure_set: FigureSet) -> None:
    FIGURE_SETS[figure_set.key] = figure_set


def register_ratio(ratio: Ratio) -> None:
    RATIOS[ratio.key] = ratio


def apply_ratios(counts: dict[str, Any]) -> dict[str, Any]:
    """Add every registered ratio whose counts are present (in place; returns ``counts``)."""
    for ratio in RATIOS.values():
        if ratio.applies_to(counts):
            counts[ratio.key] = ratio.value(counts)
    return counts
