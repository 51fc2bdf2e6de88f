"""Reading matters for the pages: the workbench, the lists, the three ledgers, the public view.

Nothing here writes. Every query starts from ``Matter.objects.restrict(user, ...)``; the
workbench's "what may I act on" is worked out once per distinct (workflow, stage) pair in the
user's scope, then expressed as one SQL filter, so a page costs the same number of queries
whether it lists ten matters or ten thousand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import RoleGrant
from gongzhi.accounts.roles import Role
from gongzhi.core.access import grants_with, has_permission, scope_q, user_grants
from gongzhi.places.models import LEVELS, Place, PlaceKind

from .models import Ledger, Matter, MatterEvent, StageKind, WorkflowDefinition
from .workflow import PSEUDO_ROLES, Workflow, workflow_of

SOON = timedelta(hours=24)
PLACE_FILTER_LIMIT = 600


# ---------------------------------------------------------------------------------------------
# Workflow names


def workflows_by_id(ids: Iterable[int]) -> dict[int, Workflow]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {d.pk: workflow_of(d) for d in WorkflowDefinition.objects.filter(pk__in=ids)}


def stage_name(workflows: dict[int, Workflow], workflow_id: int, stage: str) -> str:
    wf = workflows.get(workflow_id)
    if wf is None:
        return stage
    try:
        return wf.stage(stage).get("name") or stage
    except KeyError:
        return stage


def stage_names_by_key(workflows: dict[int, Workflow]) -> dict[str, str]:
    """Stage key → name across the given workflows (the first one to name a key wins)."""
    names: dict[str, str] = {}
    for wf in workflows.values():
        for s in wf.stages():
            names.setdefault(s["key"], s.get("name") or s["key"])
    return names


def stage_order(workflows: dict[int, Workflow]) -> dict[str, int]:
    order: dict[str, int] = {}
    for wf in workflows.values():
        for i, s in enumerate(wf.stages()):
            order.setdefault(s["key"], i)
    return order


# ---------------------------------------------------------------------------------------------
# The workbench: matters the user can act on


def _acting_roles(wf: Workflow, stage: str) -> set[str]:
    """Roles that may take some transition a person takes (not a system trigger) from ``stage``."""
    roles: set[str] = set()
    for t in wf.transitions_from(stage):
        if t.get("trigger"):
            continue
        roles.update(t.get("roles") or [])
    return roles


def actionable_q(user, scope: QuerySet[Matter]) -> Q:
    """A filter for the open matters in ``scope`` that ``user`` can act on.

    Mirrors :func:`gongzhi.matters.workflow.may_take`: a grant of one of the stage's roles that
    covers the matter's place, held at or above the level of the queue the matter waits in; or
    the matter is the user's (or the user's unit's) to handle. Two queries, however many
    matters: the distinct (workflow, stage) pairs in scope, and their workflow definitions.
    """
    q = Q(responsible_user_id=user.pk)
    org_id = getattr(user, "organisation_id", None)
    if org_id:
        q |= Q(responsible_org_id=org_id)
    pairs = list(scope.order_by().values_list("workflow_id", "stage").distinct())
    workflows = workflows_by_id(w for w, _s in pairs)
    roles_by_pair: dict[tuple[int, str], set[str]] = {}
    for w, s in pairs:
        wf = workflows.get(w)
        if wf is not None:
            roles_by_pair[(w, s)] = _acting_roles(wf, s)
    if user.is_superuser:
        return q | _pairs_q([p for p, roles in roles_by_pair.items() if roles])
    for g in user_grants(user):
        pairs_for_role = [p for p, roles in roles_by_pair.items()
                          if g.role in roles and g.role not in PSEUDO_ROLES]
        if not pairs_for_role:
            continue
        cond = Q(**{f"{g.kind}_id": g.place_id}) & _pairs_q(pairs_for_role)
        above = LEVELS[:LEVELS.index(g.kind)]
        if above:  # the queue must be at the grant's level or below it
            cond &= ~Q(queue_place__kind__in=above)
        q |= cond
    return q


def _pairs_q(pairs: list[tuple[int, str]]) -> Q:
    if not pairs:
        return Q(pk__in=[])
    by_workflow: dict[int, list[str]] = {}
    for w, s in pairs:
        by_workflow.setdefault(w, []).append(s)
    q = Q(pk__in=[])
    for w, stages in by_workflow.items():
        q |= Q(workflow_id=w, stage__in=sorted(stages))
    return q


def workbench_queryset(user) -> QuerySet[Matter]:
    scope = Matter.objects.restrict(user, "view").open()
    return scope.filter(actionable_q(user, scope))


def ordered_by_deadline(qs: QuerySet[Matter]) -> QuerySet[Matter]:
    """Overdue first (the earliest deadlines are the ones passed), then by deadline; matters
    without a time limit last."""
    return qs.order_by(F("stage_deadline").asc(nulls_last=True), "created_at", "pk")


def with_row_relations(qs: QuerySet[Matter]) -> QuerySet[Matter]:
    return qs.select_related("place", "village", "category", "responsible_user",
                             "responsible_org", "queue_place")


# ---------------------------------------------------------------------------------------------
# Filters


@dataclass
class Filters:
    q: str = ""
    ledger: str = ""
    category: int | None = None
    place: Place | None = None
    channel: str = ""
    stage: str = ""
    urgency: str = ""
    overdue: bool = False
    status: str = ""  # "open", "closed", "overdue" (the full list only)
    active: dict[str, Any] = field(default_factory=dict)


def apply_filters(qs: QuerySet[Matter], f: Filters, *, include_stage: bool = True,
                  now=None) -> QuerySet[Matter]:
    now = now or timezone.now()
    if f.q:
        text = f.q.strip()
        qs = qs.filter(Q(title__icontains=text) | Q(text__icontains=text)
                       | Q(tracking_code__iexact=text.upper()))
    if f.ledger:
        qs = qs.filter(ledger=f.ledger)
    if f.category:
        qs = qs.filter(Q(category_id=f.category) | Q(category__parent_id=f.category))
    if f.place is not None:
        qs = qs.filter(f.place.scope_q())
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.urgency:
        qs = qs.filter(urgency=f.urgency)
    if f.overdue or f.status == "overdue":
        qs = qs.filter(is_closed=False, merged_into__isnull=True, stage_deadline__lt=now)
    if f.status == "open":
        qs = qs.filter(is_closed=False, merged_into__isnull=True)
    elif f.status == "closed":
        qs = qs.filter(is_closed=True)
    if include_stage and f.stage:
        qs = qs.filter(stage=f.stage)
    return qs


def stage_counts(qs: QuerySet[Matter]) -> dict[tuple[int, str], int]:
    """Matters per (workflow, stage): one GROUP BY."""
    rows = qs.order_by().values("workflow_id", "stage").annotate(n=Count("pk"))
    return {(r["workflow_id"], r["stage"]): r["n"] for r in rows}


def filter_places(user, permission: str = "matters.view") -> list[Place]:
    """Places a user may filter by: where the grants are, and beneath them down to the village
    (and the grids, for village and grid staff). Capped: a filter is not a tree browser."""
    if user.is_superuser:
        return list(Place.objects.filter(kind__in=[PlaceKind.COUNTY, PlaceKind.TOWN,
                                                   PlaceKind.VILLAGE], is_active=True)
                    .order_by("county_id", "town_id", "village_id", "sort_order", "pk")
                    [:PLACE_FILTER_LIMIT])
    q = scope_q(user, permission)
    if q is None:
        return []
    grants = grants_with(user, permission)
    deepest = max((LEVELS.index(g.kind) for g in grants), default=0)
    lowest = LEVELS.index(PlaceKind.GRID) if deepest >= LEVELS.index(PlaceKind.VILLAGE) else (
        LEVELS.index(PlaceKind.VILLAGE))
    kinds = [k for k in LEVELS if LEVELS.index(k) <= lowest]
    return list(Place.objects.filter(q, kind__in=kinds, is_active=True)
                .order_by("county_id", "town_id", "village_id", "grid_id", "sort_order", "pk")
                [:PLACE_FILTER_LIMIT])


def county_ids_of(user, permission: str = "matters.view") -> set[int]:
    if user.is_superuser:
        return set(Place.objects.filter(kind=PlaceKind.COUNTY).values_list("pk", flat=True))
    return {g.county_id for g in grants_with(user, permission)}


# ---------------------------------------------------------------------------------------------
# Deadlines


def deadline_state(matter: Matter, now=None) -> str:
    """"overdue", "soon" (within 24 hours) or "" — for the badges (``deadline_uncertain``, the
    calendar's 时限待核, is shown beside it)."""
    if matter.is_closed or matter.merged_into_id:
        return ""
    now = now or timezone.now()
    if matter.stage_deadline and matter.stage_deadline < now:
        return "overdue"
    if matter.stage_deadline and matter.stage_deadline - now <= SOON:
        return "soon"
    return ""


# ---------------------------------------------------------------------------------------------
# The three ledgers (三本账)


@dataclass
class LedgerColumn:
    ledger: str
    label: str
    total: int = 0
    open: int = 0
    closed: int = 0
    overdue: int = 0
    stages: list[dict[str, Any]] = field(default_factory=list)


def ledger_scopes(user) -> list[Place]:
    """The places a user keeps ledgers for: each place a grant with ``matters.view`` is held at
    (county, town or village level), highest first."""
    if user.is_superuser:
        return list(Place.objects.filter(kind=PlaceKind.COUNTY).order_by("pk"))
    ids = [g.place_id for g in grants_with(user, "matters.view")
           if LEVELS.index(g.kind) <= LEVELS.index(PlaceKind.VILLAGE)]
    places = {p.pk: p for p in Place.objects.filter(pk__in=ids)}
    return sorted(places.values(), key=lambda p: (LEVELS.index(p.kind), p.sort_order, p.pk))


def ledger_counts(user, place: Place, now=None) -> tuple[list[LedgerColumn], dict[str, str]]:
    """Counts by ledger and stage for the matters under ``place`` the user may see: one
    GROUP BY. Merged duplicates are not counted (they live on in the matter they joined)."""
    now = now or timezone.now()
    qs = (Matter.objects.restrict(user, "view").filter(place.scope_q(), merged_into__isnull=True)
          .order_by().values("ledger", "stage")
          .annotate(total=Count("pk"),
                    open=Count("pk", filter=Q(is_closed=False)),
                    closed=Count("pk", filter=Q(is_closed=True)),
                    overdue=Count("pk", filter=Q(is_closed=False, stage_deadline__lt=now))))
    rows = list(qs)
    from .actions import matter_settings

    county_id = place.pk if place.kind == PlaceKind.COUNTY else place.county_id
    current = matter_settings(county_id).workflow
    names = {s["key"]: s.get("name") or s["key"] for s in workflow_of(current).stages()}
    order = {s["key"]: i for i, s in enumerate(workflow_of(current).stages())}
    kinds = {s["key"]: s["kind"] for s in workflow_of(current).stages()}
    columns = {value: LedgerColumn(value, str(label)) for value, label in Ledger.choices}
    for row in rows:
        col = columns.get(row["ledger"])
        if col is None:
            continue
        col.total += row["total"]
        col.open += row["open"]
        col.closed += row["closed"]
        col.overdue += row["overdue"]
        col.stages.append({"stage": row["stage"], "name": names.get(row["stage"], row["stage"]),
                           "count": row["total"], "overdue": row["overdue"],
                           "closed": kinds.get(row["stage"]) == StageKind.CLOSED})
    for col in columns.values():
        present = {s["stage"] for s in col.stages}
        for key, name in names.items():  # every stage of the workflow, zeros included
            if key not in present:
                col.stages.append({"stage": key, "name": name, "count": 0, "overdue": 0,
                                   "closed": kinds.get(key) == StageKind.CLOSED})
        col.stages.sort(key=lambda s: (order.get(s["stage"], 999), s["stage"]))
    return list(columns.values()), names


def ledger_breakdown(user, place: Place) -> list[dict[str, Any]]:
    """Below a town or county: each child place's open matters per ledger (one GROUP BY)."""
    if place.kind not in (PlaceKind.COUNTY, PlaceKind.TOWN):
        return []
    child = LEVELS[LEVELS.index(place.kind) + 1]
    rows = (Matter.objects.restrict(user, "view").filter(place.scope_q(), merged_into__isnull=True)
            .order_by().values(f"{child}_id", "ledger")
            .annotate(open=Count("pk", filter=Q(is_closed=False)), total=Count("pk")))
    children = list(Place.objects.filter(parent=place, is_active=True).order_by("sort_order", "pk"))
    table = {c.pk: {"place": c, "cells": {v: {"open": 0, "total": 0} for v in Ledger.values}}
             for c in children}
    for row in rows:
        entry = table.get(row[f"{child}_id"])
        if entry is not None and row["ledger"] in entry["cells"]:
            entry["cells"][row["ledger"]] = {"open": row["open"], "total": row["total"]}
    out = []
    for c in children:
        cells = table[c.pk]["cells"]
        out.append({"place": c, "cells": [cells[v] for v in Ledger.values],
                    "total": sum(x["total"] for x in cells.values())})
    return out


# ---------------------------------------------------------------------------------------------
# The public view: who did what, as a role or a unit, never a name


PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
ID_RE = re.compile(r"(?<![\dA-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])")


def mask_free_text(text: str) -> str:
    """Phones and ID numbers inside free text, masked (138****1234, 110105********002X)."""
    text = ID_RE.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text or "")
    return PHONE_RE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def public_events(matter: Matter) -> list[dict[str, Any]]:
    """The public timeline: public events only, each actor shown as a unit or a role."""
    events = list(MatterEvent.objects.filter(matter=matter, is_public=True)
                  .select_related("actor__organisation").order_by("at", "pk"))
    actor_ids = {e.actor_id for e in events if e.actor_id}
    grants: dict[int, list[tuple[str, str]]] = {}
    place_ids = set(matter.place.ancestor_ids())
    for user_id, role, kind in (RoleGrant.objects.filter(user_id__in=actor_ids, is_active=True,
                                                          place_id__in=place_ids)
                                .values_list("user_id", "role", "place__kind")):
        grants.setdefault(user_id, []).append((role, kind))
    out = []
    for e in events:
        out.append({"at": e.at, "kind": e.kind, "summary": e.summary,
                    "comment": mask_free_text(e.comment), "who": _public_actor(e, grants)})
    return out


def _public_actor(event: MatterEvent, grants: dict[int, list[tuple[str, str]]]) -> str:
    if event.actor_id is None:
        return _("反映人") if event.kind == "raised" else _("系统")
    actor = event.actor
    if actor.organisation_id:
        return actor.organisation.name
    held = grants.get(actor.pk)
    if held:  # the most local role over the matter's place
        role, _kind = max(held, key=lambda rk: LEVELS.index(rk[1]))
        return str(Role(role).label) if role in Role.values else _("工作人员")
    return _("工作人员")


def reporter_may_be_shown(user, matter: Matter) -> bool:
    """Full phone numbers of an ordinary matter's reporter go to those who handle it here."""
    return has_permission(user, "matters.handle", matter.place)


def workbench_summary(request) -> dict[str, Any] | None:
    """The workbench home's panel: how many matters wait for the user, how many are late."""
    user = request.user
    now = timezone.now()
    counts = workbench_queryset(user).aggregate(
        total=Count("pk"), overdue=Count("pk", filter=Q(stage_deadline__lt=now)),
        soon=Count("pk", filter=Q(stage_deadline__gte=now, stage_deadline__lt=now + SOON)))
    return {"tasks_total": counts["total"], "tasks_overdue": counts["overdue"],
            "tasks_soon": counts["soon"], "can_raise": has_permission(user, "matters.raise")}
