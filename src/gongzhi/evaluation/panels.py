"""The evaluation panel on the matter page: ratings, return visits, and for staff who evaluate
(``matters.evaluate``) the reporter's link, to read out by phone, and the forms."""

from __future__ import annotations

from gongzhi.core.access import has_permission
from gongzhi.matters.models import reporter_visible_to

from . import tokens
from .actions import evaluator_kinds
from .models import ASPECTS, Evaluation, EvaluationRequest, EvaluatorKind, ReturnVisit


def matter_panel(request, matter) -> dict | None:
    user = request.user
    can_record = has_permission(user, "matters.evaluate", matter.place)
    evaluations = list(Evaluation.objects.filter(matter=matter).order_by("at", "id"))
    visits = list(ReturnVisit.objects.filter(matter=matter).select_related("by")
                  .order_by("at", "id")) if can_record else []
    req = EvaluationRequest.objects.filter(matter=matter).order_by("-created_at", "-id").first()
    if not evaluations and not visits and req is None and not can_record:
        return None
    show_reporter_words = reporter_visible_to(user, matter)
    if not show_reporter_words:  # return-visit notes may name the reporter
        for v in visits:
            v.notes = ""
    rows = []
    for e in evaluations:
        aspects = [{"label": label, "value": getattr(e, f"get_{name}_display")()}
                   for name, label in ASPECTS.items() if getattr(e, name)]
        hide = e.kind == EvaluatorKind.REPORTER and not show_reporter_words
        rows.append({"evaluation": e, "aspects": aspects, "comment": "" if hide else e.comment})
    link = ""
    if can_record and req is not None and req.status == "pending":
        link = request.build_absolute_uri(tokens.link(req))
    return {
        "evaluation_rows": rows,
        "return_visits": visits,
        "evaluation_request": req if can_record else None,
        "evaluation_link": link,
        "evaluation_can_record": can_record,
        "evaluation_other_kinds": [k for k in evaluator_kinds(matter.county_id)
                                   if k != EvaluatorKind.REPORTER],
    }
