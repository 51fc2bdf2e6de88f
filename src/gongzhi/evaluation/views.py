"""Pages of 评: the reporter's rating page (``/e/<token>/``, no login, made for a phone), and
staff's forms for other evaluators' ratings and for phone return visits (``matters.evaluate``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from gongzhi.core.access import has_permission
from gongzhi.matters.models import Matter
from gongzhi.supervision.recipients import matter_url

from . import actions, tokens
from .models import (
    ASPECTS,
    EvaluatorKind,
    RequestStatus,
    Resolved,
    Satisfaction,
)


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _aspect_rows(county_id: int, values: dict[str, str] | None = None) -> list[dict]:
    values = values or {}
    return [{"name": a, "label": ASPECTS[a], "value": values.get(a, "")}
            for a in actions.aspects_for(county_id)]


@never_cache
def public(request, token: str):
    """The reporter rates the result: 满意 / 基本满意 / 不满意, the aspects, a comment."""
    req = tokens.request_for(token)
    if req is None:
        return render(request, "evaluation/public_closed.html", {
            "headline": _("评价链接无效"),
            "message": _("这个评价链接不正确。请核对链接，或联系为您办理的村（社区）。"),
        }, status=404)
    matter = req.matter
    now = timezone.now()
    if req.status == RequestStatus.ANSWERED:
        return render(request, "evaluation/public_closed.html", {
            "headline": _("感谢您的评价"), "matter": matter, "done": True,
            "message": _("您已经评价过这个事项，感谢您的参与。"),
        })
    if req.status == RequestStatus.EXPIRED or req.is_expired(now):
        return render(request, "evaluation/public_closed.html", {
            "headline": _("评价期限已过"), "matter": matter,
            "message": _("这个事项的评价期限已于 %(deadline)s 结束，链接已失效。如仍有意见，"
                         "请联系村（社区）或拨打服务电话。") % {
                "deadline": timezone.localtime(req.expires_at).strftime("%Y-%m-%d %H:%M")},
        }, status=410)
    if req.status == RequestStatus.CANCELLED or not actions.in_visit(matter, req):
        return render(request, "evaluation/public_closed.html", {
            "headline": _("评价链接已失效"), "matter": matter,
            "message": _("这个事项已有新的进展，此评价链接已失效。"),
        }, status=410)
    values: dict[str, str] = {}
    error = ""
    if request.method == "POST":
        values = {a: request.POST.get(a, "") for a in ASPECTS}
        try:
            actions.do_submit_evaluation(req, outcome=request.POST.get("outcome", ""),
                                         aspects=values, comment=request.POST.get("comment", ""))
        except ValidationError as exc:
            error = _error_text(exc)
        else:
            return redirect(request.path)
    return render(request, "evaluation/public.html", {
        "matter": matter, "req": req, "choices": Satisfaction.choices,
        "aspects": _aspect_rows(matter.county_id, values), "error": error,
        "outcome": request.POST.get("outcome", "") if request.method == "POST" else "",
        "comment": request.POST.get("comment", "") if request.method == "POST" else "",
    }, status=400 if error else 200)


def _matter_for_staff(request, matter_id: int) -> Matter:
    if not has_permission(request.user, "matters.evaluate"):
        raise PermissionDenied(_("您没有录入评价与回访的权限。"))
    return get_object_or_404(Matter.objects.restrict(request.user, "view")
                             .select_related("place", "workflow"), pk=matter_id)


def _back(request, matter: Matter, fallback: str):
    return redirect(matter_url(matter) or fallback)


@login_required
def record_evaluation(request, matter_id: int):
    """党员议评 / 单位参评 / 部门协评 / 上级考评, entered by staff."""
    matter = _matter_for_staff(request, matter_id)
    kinds = [(k, EvaluatorKind(k).label) for k in actions.evaluator_kinds(matter.county_id)
             if k != EvaluatorKind.REPORTER]
    organisations = actions.organisations_for(request.user, matter).order_by("kind", "name")
    values: dict[str, str] = {}
    if request.method == "POST":
        post = request.POST
        values = {a: post.get(a, "") for a in ASPECTS}
        org = None
        if post.get("organisation", "").isdigit():
            org = organisations.filter(pk=int(post["organisation"])).first()
        try:
            actions.do_record_evaluation(
                matter, acting_user=request.user, kind=post.get("kind", ""),
                outcome=post.get("outcome", ""), aspects=values,
                comment=post.get("comment", ""), evaluator_name=post.get("evaluator_name", ""),
                organisation=org,
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("评价已记录。"))
            return _back(request, matter, request.path)
    return render(request, "evaluation/record.html", {
        "matter": matter, "kinds": kinds, "choices": Satisfaction.choices,
        "aspects": _aspect_rows(matter.county_id, values), "organisations": organisations,
        "matter_url": matter_url(matter),
    })


@login_required
def return_visit(request, matter_id: int):
    """A phone return visit (回访), optionally recorded as the reporter's evaluation."""
    matter = _matter_for_staff(request, matter_id)
    if request.method == "POST":
        post = request.POST
        at = parse_datetime(post.get("at", "") or "")
        if at is not None and timezone.is_naive(at):
            at = timezone.make_aware(at, timezone.get_current_timezone())
        try:
            actions.do_record_return_visit(
                matter, acting_user=request.user, reached=post.get("reached") == "yes",
                resolved=post.get("resolved", ""), satisfaction=post.get("satisfaction", ""),
                notes=post.get("notes", ""), at=at,
                as_evaluation=post.get("as_evaluation") == "on",
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("回访已记录。"))
            return _back(request, matter, request.path)
    return render(request, "evaluation/return_visit.html", {
        "matter": matter, "choices": Satisfaction.choices, "resolved_choices": Resolved.choices,
        "in_evaluation": matter.stage_kind == "evaluation", "matter_url": matter_url(matter),
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    })
