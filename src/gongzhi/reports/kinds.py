"""The ledgers and reports users may ask for: a small registry (other apps may add theirs).

A kind names the permission of the data it holds; asking for it at a place needs that
permission and ``reports.export`` there (:func:`may_request`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import has_permission
from gongzhi.places.models import Place, PlaceKind

from .context import Built, Context

PLACE_KINDS = (PlaceKind.COUNTY, PlaceKind.TOWN, PlaceKind.VILLAGE, PlaceKind.GRID)


@dataclass(frozen=True)
class ReportKind:
    key: str
    label: str
    permission: str
    build: Callable[[Context], Built]
    fmt: str  # "xlsx" or "pdf"
    periods: tuple[str, ...] = ("year", "quarter", "month", "custom")
    order: int = 100


KINDS: dict[str, ReportKind] = {}


def register_kind(kind: ReportKind) -> None:
    KINDS[kind.key] = kind


def ordered() -> list[ReportKind]:
    return sorted(KINDS.values(), key=lambda k: (k.order, k.key))


def may_request(user, kind: ReportKind, place: Place) -> bool:
    return (place.kind in PLACE_KINDS and has_permission(user, "reports.export", place)
            and has_permission(user, kind.permission, place))


def register_builtin() -> None:
    from . import ledgers, pdf

    for kind in (
        ReportKind("matters", _("三本账台账"), "matters.view", ledgers.matters_ledger, "xlsx",
                   order=10),
        ReportKind("meetings", _("说事议事台账"), "meetings.view", ledgers.meetings_ledger,
                   "xlsx", order=20),
        ReportKind("points", _("积分台账"), "points.export", ledgers.points_ledger, "xlsx",
                   order=30),
        ReportKind("visits", _("走访台账"), "visits.view", ledgers.visits_ledger, "xlsx",
                   order=40),
        ReportKind("supervision", _("督办台账"), "matters.supervise",
                   ledgers.supervision_ledger, "xlsx", order=50),
        ReportKind("work_report", _("工作报告（季度/年度）"), "matters.view", pdf.work_report,
                   "pdf", periods=("year", "quarter", "custom"), order=60),
        ReportKind("petition_report", _("信访工作年度报告"), "matters.view",
                   pdf.petition_report, "pdf", periods=("year", "custom"), order=70),
    ):
        register_kind(kind)
