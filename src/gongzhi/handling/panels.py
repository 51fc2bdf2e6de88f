"""The handling panel on the matter page: assignment, summonses and check-ins, mediation,
escalation and transfer, each form shown only to those who may use it."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from gongzhi.accounts.models import RoleGrant, User
from gongzhi.core.registry import registry
from gongzhi.matters.models import HandlingMode, Matter, Outcome, reporter_visible_to
from gongzhi.places.models import Organisation

from .access import may_act
from .actions import (
    DEFAULT_CHECKIN_HOURS,
    DEFAULT_URGENT_MINUTES,
    default_due_at,
    result_transitions,
    upper_level,
)
from .models import (
    Escalation,
    MediationMethod,
    MediationOutcome,
    MediationWay,
    SummonsStatus,
)
from .stats import summons_stats


def _organisations(matter: Matter) -> list[Organisation]:
    qs = Organisation.objects.filter(county_id=matter.county_id, is_active=True)
    if matter.is_complaint and matter.accused_organisation_id:
        qs = qs.exclude(pk=matter.accused_organisation_id)
    return list(qs.order_by("kind", "name"))


def _candidates(matter: Matter, orgs: list[Organisation]) -> list[User]:
    """People who may be made responsible: handlers over the matter's place, and the staff of
    the county's units."""
    roles = registry.roles_with("matters.handle")
    grants = RoleGrant.objects.filter(place_id__in=matter.place.ancestor_ids(), role__in=roles,
                                      is_active=True).values("user_id")
    qs = User.objects.filter(Q(pk__in=grants) | Q(organisation_id__in=[o.pk for o in orgs]),
                             is_active=True)
    if matter.is_complaint and matter.accused_user_id:
        qs = qs.exclude(pk=matter.accused_user_id)
    return list(qs.select_related("organisation").order_by("organisation_id", "username")[:300])


def _stage_name(matter: Matter) -> str:
    from gongzhi.matters.workflow import workflow_of

    try:
        return workflow_of(matter.workflow).stage(matter.stage).get("name", matter.stage)
    except KeyError:
        return matter.stage


def padded(rows: list[dict], size: int) -> list[dict]:
    return rows + [{}] * max(0, size - len(rows))


def handling_panel_context(request, matter: Matter) -> dict[str, Any] | None:
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return None
    from gongzhi.matters.actions import policy

    now = timezone.now()
    is_open = not matter.is_closed and not matter.merged_into_id
    assignment = (matter.assignments.select_related("responsible_user", "responsible_org",
                                                    "assigned_by")
                  .prefetch_related("co_orgs").first())
    summonses = list(matter.summonses.select_related("organisation", "summoned_by",
                                                     "checked_in_by").order_by("summoned_at",
                                                                               "pk"))
    org_id = getattr(user, "organisation_id", None)
    for s in summonses:
        s.missing = s.is_missing(now)
        s.mine = bool(org_id and s.organisation_id == org_id)
    can = {
        "assign": is_open and may_act(user, "matters.assign", matter),
        "whistle": is_open and may_act(user, "matters.whistle", matter),
        "escalate": is_open and may_act(user, "handling.escalate", matter),
        "transfer": is_open and may_act(user, "handling.transfer", matter),
        "mediate": is_open and may_act(user, "handling.mediate", matter),
    }
    needs_choices = can["assign"] or can["whistle"] or can["transfer"] or can["mediate"]
    orgs = _organisations(matter) if needs_choices else []
    results = result_transitions(matter, user) if is_open else []
    ctx: dict[str, Any] = {
        "matter": matter,
        "now": now,
        "is_open": is_open,
        "can": can,
        "assignment": assignment,
        "summonses": summonses,
        "summons_stats": summons_stats(matter.summonses.all(), now),
        "my_summonses": [s for s in summonses if s.mine
                         and s.status in (SummonsStatus.WAITING, SummonsStatus.CHECKED_IN)],
        "escalations": list(matter.escalations.select_related(
            "from_place", "to_place", "to_org", "by").order_by("at", "pk")),
        "mediations": list(matter.mediations.select_related("mediator").order_by(
            "-created_at", "-pk")),
        "show_parties": reporter_visible_to(user, matter),
        "organisations": orgs,
        "candidates": _candidates(matter, orgs) if can["assign"] else [],
        "result_transitions": results,
        "modes": HandlingMode.choices,
        "outcomes": Outcome.choices,
        "ways": MediationWay.choices,
        "methods": MediationMethod.choices,
        "mediation_outcomes": MediationOutcome.choices,
        "escalation_kinds": Escalation.Kind,
        "party_rows": [{}, {}],
        "term_rows": [{}, {}, {}],
        "stage_name": _stage_name(matter),
        "form_data": {},
        "error": "",
        "open_form": "",
    }
    if can["assign"]:
        ctx["default_due"] = default_due_at(matter, now)
    if can["escalate"]:
        ctx["upper_place"] = upper_level(matter.queue_place)
    if can["whistle"]:
        ctx["checkin_hours"] = policy(matter.county_id, "summons_checkin_hours",
                                      DEFAULT_CHECKIN_HOURS)
        ctx["urgent_minutes"] = policy(matter.county_id, "urgent_checkin_minutes",
                                       DEFAULT_URGENT_MINUTES)
    return ctx
