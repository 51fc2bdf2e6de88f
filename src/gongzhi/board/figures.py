"""A place's summary figures for a period, as the board shows them.

The figures themselves are defined once, in :mod:`gongzhi.figures` (``docs/figures.md``):
this only picks the ones the board shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gongzhi.figures.compute import compute, percent
from gongzhi.places.models import Place


@dataclass(frozen=True)
class PlaceSummary:
    received: int
    closed: int
    answered: int
    satisfied: int  # 满意 + 基本满意
    dissatisfied: int
    no_answer: int
    closed_rate: float | None  # 办结率 as a fraction (None when nothing was received)
    satisfaction_rate: float | None  # 满意率 as a fraction (None when nobody answered)

    @property
    def closed_percent(self) -> str:
        return percent(self.closed_rate)

    @property
    def satisfaction_percent(self) -> str:
        return percent(self.satisfaction_rate)


def place_summary(place: Place, start: datetime, end: datetime) -> PlaceSummary:
    """The board's figures for the matters under ``place`` over ``[start, end)``: matters
    received and closed, 办结率, and the reporters' ratings with 满意率 and the no-answer count
    beside it — as :func:`gongzhi.figures.compute.compute` defines them (figure sets
    ``matters`` and ``satisfaction``). Two aggregate queries, whatever the size of the place.
    """
    total = compute(["matters", "satisfaction"], place, start, end)["total"]
    return PlaceSummary(
        received=total["received"],
        closed=total["closed"],
        answered=total["answered"],
        satisfied=total["satisfied"] + total["basic"],
        dissatisfied=total["dissatisfied"],
        no_answer=total["no_answer"],
        closed_rate=total["completion_rate"],
        satisfaction_rate=total["satisfaction_rate"],
    )
