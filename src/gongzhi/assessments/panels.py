"""The workbench panel of 考核: the latest result sheets of the user themselves (a cadre) and of
their department, which they may not otherwise find."""

from __future__ import annotations

from django.db.models import Q

from .models import RoundStatus, UnitResult

LATEST = 5


def home_panel(request) -> dict | None:
    user = request.user
    own = Q(user_id=user.pk)
    if getattr(user, "organisation_id", None):
        own |= Q(organisation_id=user.organisation_id)
    results = list(UnitResult.objects.filter(own).exclude(round__status=RoundStatus.DRAFT)
                   .select_related("round").order_by("-round__period_end", "-pk")[:LATEST])
    if not results:
        return None
    return {"assessment_results": results}
