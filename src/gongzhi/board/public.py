"""The public view of matters: what the board, the Atom feed and the public API show.

The board's one access path is :func:`board_matters`: matters under a place that policy has
published (``is_public``) and that were not merged into another. Nobody logs in to read it,
so nothing from ``restrict`` applies; instead every matter leaves here only as a
:class:`PublicMatter`, built by :func:`public_matters`:

- never the reporter (no name, no phone, not even masked), never a tracking code;
- staff as their unit or role (网格员, 县供电公司), never by name;
- texts through :func:`gongzhi.board.anonymise.scrub`: the reporter's name and phone starred
  out, other phones and ID numbers masked, staff names masked;
- a complaint (投诉举报) as "投诉举报已受理/已办结" with its category, place, stage and outcome
  only (no text, no timeline, no rating), unless the locality's policy
  ``publish_complaint_details`` says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from gongzhi.accounts.models import RoleGrant
from gongzhi.accounts.roles import Role
from gongzhi.matters.models import EventKind, Matter, MatterEvent, WorkflowDefinition
from gongzhi.matters.workflow import workflow_of
from gongzhi.places.models import LEVELS, Place, PlaceKind

from .anonymise import scrub, scrub_summary

BOARD_LEVELS = (PlaceKind.COUNTY, PlaceKind.TOWN, PlaceKind.VILLAGE)


def board_place(place_id: int) -> Place:
    """A county, town or village that has a board (404 otherwise)."""
    place = Place.objects.filter(pk=place_id, is_active=True, kind__in=BOARD_LEVELS).first()
    if place is None:
        raise Http404
    return place


def board_matters(place: Place) -> QuerySet[Matter]:
    """Published matters under ``place``: the board's one access path."""
    return Matter.objects.filter(place.scope_q(), is_public=True, merged_into__isnull=True)


def published_lists(place: Place):
    """Honour and shame lists published at ``place`` or beneath it."""
    from .models import HonourList, ListStatus

    return (HonourList.objects.filter(place.scope_q(), status=ListStatus.PUBLISHED)
            .select_related("place").order_by("-published_at", "-pk"))


def complaint_details_shown(county_id: int) -> bool:
    from gongzhi.matters.actions import policy

    return bool(policy(county_id, "publish_complaint_details", False))


@dataclass
class PublicEvent:
    at: datetime
    kind: str
    summary: str
    who: str
    comment: str


@dataclass
class PublicMatter:
    id: int
    title: str
    text: str | None
    is_complaint: bool
    ledger: str
    ledger_label: str
    category: str
    place: str
    place_id: int
    status: str  # "open" or "closed"
    status_label: str
    stage_name: str
    created_at: datetime
    closed_at: datetime | None
    published_at: datetime | None
    merged: bool
    outcome: str
    outcome_label: str
    outcome_text: str
    explanation: str
    satisfaction: str  # satisfied, basic, dissatisfied, no_answer or ""
    satisfaction_label: str
    details_shown: bool
    events: list[PublicEvent] = field(default_factory=list)


def with_public_relations(qs: QuerySet[Matter]) -> QuerySet[Matter]:
    return qs.select_related("place", "county", "town", "village", "category",
                             "reporter_person", "responsible_user", "accused_user")


def _user_names(user) -> list[str]:
    """A staff member's names (a display name that is only a role's label is no name)."""
    if user is None:
        return []
    roles = {str(label) for label in Role.labels}
    names = [user.display_name, user.first_name + user.last_name,
             user.last_name + user.first_name, user.username]
    return [n for n in names if n and n not in roles]


def reporter_secrets(matter: Matter) -> list[str]:
    """What identifies the reporter: hidden from public texts entirely."""
    secrets = [matter.reporter_name, matter.reporter_phone]
    if matter.reporter_person_id:
        secrets += [matter.reporter_person.name, matter.reporter_person.phone,
                    matter.reporter_person.id_number or ""]
    return [s for s in secrets if s]


def known_names(matter: Matter) -> list[str]:
    """Staff names a matter's texts may contain: masked in public texts."""
    return _user_names(matter.responsible_user) + _user_names(matter.accused_user)


def place_label(matter: Matter) -> str:
    """Down to the village (never the grid, building or household)."""
    parts = [p.name for p in (matter.town, matter.village) if p is not None]
    return " · ".join(parts) or matter.county.name


def _stage_names(matters: Iterable[Matter]) -> dict[int, dict[str, str]]:
    ids = {m.workflow_id for m in matters}
    out: dict[int, dict[str, str]] = {}
    for defn in WorkflowDefinition.objects.filter(pk__in=ids):
        out[defn.pk] = {s["key"]: s.get("name") or s["key"] for s in workflow_of(defn).stages()}
    return out


def satisfaction_by_matter(matter_ids: Iterable[int]) -> dict[int, str]:
    """The latest reporter rating of each matter (满意, 基本满意, 不满意 or 未评价), when the
    evaluation app is installed."""
    if not apps.is_installed("gongzhi.evaluation"):
        return {}
    from gongzhi.evaluation.models import Evaluation, EvaluatorKind

    out: dict[int, str] = {}
    rows = (Evaluation.objects.filter(matter_id__in=list(matter_ids), kind=EvaluatorKind.REPORTER)
            .order_by("matter_id", "at", "id").values_list("matter_id", "outcome"))
    for matter_id, outcome in rows:
        out[matter_id] = outcome  # the last one wins
    return out


def satisfaction_labels() -> dict[str, str]:
    if not apps.is_installed("gongzhi.evaluation"):
        return {}
    from gongzhi.evaluation.models import Outcome

    return {value: str(label) for value, label in Outcome.choices}


def _events(matters: list[Matter]) -> dict[int, list[MatterEvent]]:
    events: dict[int, list[MatterEvent]] = {}
    for e in (MatterEvent.objects.filter(matter__in=matters, is_public=True)
              .select_related("actor__organisation").order_by("at", "pk")):
        events.setdefault(e.matter_id, []).append(e)
    return events


def _grants(events: Iterable[MatterEvent]) -> dict[int, list[tuple[str, str, int]]]:
    actor_ids = {e.actor_id for e in events if e.actor_id}
    grants: dict[int, list[tuple[str, str, int]]] = {}
    if not actor_ids:
        return grants
    for user_id, role, kind, place_id in (RoleGrant.objects.filter(user_id__in=actor_ids,
                                                                   is_active=True)
                                          .values_list("user_id", "role", "place__kind",
                                                       "place_id")):
        grants.setdefault(user_id, []).append((role, kind, place_id))
    return grants


def public_actor(event: MatterEvent, matter: Matter,
                 grants: dict[int, list[tuple[str, str, int]]]) -> str:
    """Who took a step, as the public may read it: a unit or a role, never a name."""
    if event.actor_id is None:
        if event.kind == EventKind.RAISED or (
                event.kind == EventKind.EVALUATION and (event.data or {}).get("via") != "system"):
            return _("群众")
        return _("系统")
    actor = event.actor
    if actor.organisation_id:
        return actor.organisation.name
    over_place = set(matter.place.ancestor_ids())
    held = [(role, kind) for role, kind, place_id in grants.get(actor.pk, ())
            if place_id in over_place]
    if held:  # the most local role over the matter's place
        role, _kind = max(held, key=lambda rk: LEVELS.index(rk[1]))
        return str(Role(role).label) if role in Role.values else _("工作人员")
    return _("工作人员")


def public_matters(matters: list[Matter], *, with_events: bool = False) -> list[PublicMatter]:
    """The anonymised views of ``matters`` (loaded with :func:`with_public_relations`), in a
    fixed number of queries however many there are."""
    if not matters:
        return []
    stage_names = _stage_names(matters)
    ratings = satisfaction_by_matter(m.pk for m in matters)
    rating_labels = satisfaction_labels()
    events = _events(matters) if with_events else {}
    grants = _grants(e for evs in events.values() for e in evs)
    details_by_county: dict[int, bool] = {}
    out = []
    for m in matters:
        if m.county_id not in details_by_county:
            details_by_county[m.county_id] = complaint_details_shown(m.county_id)
        out.append(_public(m, stage_names, ratings, rating_labels, events.get(m.pk, []), grants,
                           details_by_county[m.county_id]))
    return out


def _public(m: Matter, stage_names, ratings, rating_labels, events, grants,
            complaint_details: bool) -> PublicMatter:
    names = known_names(m) + [n for e in events for n in _user_names(e.actor)]
    hidden = reporter_secrets(m)
    details = not m.is_complaint or complaint_details
    outcome_shown = bool(m.outcome and (m.feedback_at or m.is_closed))
    if details:
        title = scrub(m.title, names, hidden)
    elif m.is_closed:
        title = _("投诉举报已办结")
    else:
        title = _("投诉举报已受理")
    rating = ratings.get(m.pk, "") if details else ""
    return PublicMatter(
        id=m.pk,
        title=title,
        text=scrub(m.text, names, hidden) if details else None,
        is_complaint=m.is_complaint,
        ledger=m.ledger,
        ledger_label=str(m.get_ledger_display()),
        category=m.category.name if m.category_id else "",
        place=place_label(m),
        place_id=m.village_id or m.town_id or m.county_id,
        status="closed" if m.is_closed else "open",
        status_label=_("已办结") if m.is_closed else _("办理中"),
        stage_name=stage_names.get(m.workflow_id, {}).get(m.stage, m.stage),
        created_at=m.created_at,
        closed_at=m.closed_at,
        published_at=m.published_at,
        merged=m.merged_into_id is not None,
        outcome=m.outcome if outcome_shown else "",
        outcome_label=str(m.get_outcome_display()) if outcome_shown else "",
        outcome_text=scrub(m.outcome_text, names, hidden) if details and outcome_shown else "",
        explanation=scrub(m.explanation, names, hidden) if details and outcome_shown else "",
        satisfaction=rating,
        satisfaction_label=rating_labels.get(rating, ""),
        details_shown=details,
        events=[PublicEvent(at=e.at, kind=e.kind, summary=scrub_summary(e.summary, names, hidden),
                            who=public_actor(e, m, grants),
                            comment=scrub(e.comment, names, hidden))
                for e in events] if details else [],
    )


def public_matter(matter: Matter) -> PublicMatter:
    """One matter's public view, with its public timeline."""
    matter = with_public_relations(Matter.objects.filter(pk=matter.pk)).get()
    return public_matters([matter], with_events=True)[0]
