"""A place's summary figures for a period: the board shows them, later reports build on them.

Keep every such computation here, in :func:`place_summary`, so the board, the API and the
reports never disagree about what 办结率 or 满意率 means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db.models import Count, Q

from gongzhi.matters.models import Matter
from gongzhi.places.models import Place


@dataclass(frozen=True)
class PlaceSummary:
    received: int
    closed: int
    answered: int
    satisfied: int  # 满意 + 基本满意
    dissatisfied: int
    no_answer: int

    @property
    def closed_rate(self) -> float | None:
        """办结率 as a fraction (None when nothing was received)."""
        return self.closed / self.received if self.received else None

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率 as a fraction (None when nobody answered)."""
        return self.satisfied / self.answered if self.answered else None

    @property
    def closed_percent(self) -> str:
        return _percent(self.closed_rate)

    @property
    def satisfaction_percent(self) -> str:
        return _percent(self.satisfaction_rate)


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def place_summary(place: Place, start: datetime, end: datetime) -> PlaceSummary:
    """Figures for the matters under ``place`` over the period ``[start, end)``.

    - **received**: matters registered in the period (``created_at`` in it), all ledgers,
      published or not; duplicates merged into another matter are not counted (they live on in
      the matter they joined).
    - **closed**: of those received, the ones closed (办结归档, including 不予受理) before
      ``end``.
    - **办结率** = closed ÷ received, both as above (so a matter received in the period counts
      in the rate of that period, whenever it closes before its end). None when nothing was
      received.
    - **satisfaction**: the reporters' ratings (群众评价, one per handling round: a matter
      reopened after 不满意 and rated again counts twice) given in the period, of matters under
      ``place``. **answered** = 满意 + 基本满意 + 不满意; **满意率** = (满意 + 基本满意) ÷
      answered; ratings that never came (到期未评价) are **no_answer**, shown beside the rate
      and never counted as satisfied. The other evaluators (党员议评, 单位参评, ...) are not
      counted here.

    Two aggregate queries, whatever the size of the place.
    """
    matters = Matter.objects.filter(place.scope_q(), merged_into__isnull=True,
                                    created_at__gte=start, created_at__lt=end)
    counts = matters.aggregate(
        received=Count("pk"),
        closed=Count("pk", filter=Q(is_closed=True, closed_at__lt=end)),
    )
    ratings = {"satisfied": 0, "basic": 0, "dissatisfied": 0, "no_answer": 0}
    if apps.is_installed("gongzhi.evaluation"):
        from gongzhi.evaluation.models import Evaluation, EvaluatorKind

        rows = (Evaluation.objects.filter(place.scope_q("matter__"),
                                          matter__merged_into__isnull=True,
                                          kind=EvaluatorKind.REPORTER, at__gte=start, at__lt=end)
                .order_by().values("outcome").annotate(n=Count("pk")))
        for row in rows:
            if row["outcome"] in ratings:
                ratings[row["outcome"]] = row["n"]
    satisfied = ratings["satisfied"] + ratings["basic"]
    return PlaceSummary(
        received=counts["received"],
        closed=counts["closed"],
        answered=satisfied + ratings["dissatisfied"],
        satisfied=satisfied,
        dissatisfied=ratings["dissatisfied"],
        no_answer=ratings["no_answer"],
    )
