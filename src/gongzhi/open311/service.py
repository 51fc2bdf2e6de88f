"""What the endpoint reads: jurisdictions, services and their definitions, and the public view
of requests and of their updates.

- A **jurisdiction** is a county; its ``jurisdiction_id`` is the county's code (or ``place-<id>``
  when it has none). When only one county is active, ``jurisdiction_id`` may be left out.
- A **service** is an active category of the county; ``service_code`` is the category's code.
- The **requests** the endpoint shows are the county's matters published on the board and the
  matters raised through Open311 (so an app can follow what it sent). Every one is built by
  the board's :func:`gongzhi.board.public.public_matters`: no reporter, no tracking code,
  names and numbers scrubbed, a complaint reduced to its category, place and state. A matter
  not (yet) on the board shows its state but no description.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from gongzhi.board.public import PublicMatter, public_matters, with_public_relations
from gongzhi.matters.models import Category, Channel, EventKind, Matter, MatterEvent, Outcome
from gongzhi.matters.workflow import workflow_of
from gongzhi.places.models import Place, PlaceKind

from .formats import Open311Error
from .models import LIST_TYPES, ServiceQuestion

MAX_REQUESTS = 1000
DEFAULT_SPAN = dt.timedelta(days=90)
SPEC = "http://wiki.open311.org/GeoReport_v2"


# ---------------------------------------------------------------------------------------------
# Jurisdictions


def jurisdiction_id(county: Place) -> str:
    return county.code or f"place-{county.pk}"


def counties() -> QuerySet[Place]:
    return Place.objects.filter(kind=PlaceKind.COUNTY, is_active=True).order_by("pk")


def find_jurisdiction(value: str | None) -> Place:
    """The county a request is about (400 when it must be named, 404 when unknown)."""
    value = (value or "").strip()
    if not value:
        found = list(counties()[:2])
        if len(found) == 1:
            return found[0]
        raise Open311Error(400, _("请提供 jurisdiction_id（本接口服务多个县区）。"))
    if value.startswith("place-") and value[6:].isdigit():
        county = counties().filter(pk=int(value[6:]), code="").first()
    else:
        county = counties().filter(code=value).first()
    if county is None:
        raise Open311Error(404, _("未找到 jurisdiction_id：%(j)s。") % {"j": value})
    return county


# ---------------------------------------------------------------------------------------------
# Services and their definitions


def categories(county: Place) -> list[Category]:
    """The county's active categories (a county that never configured matters gets the default
    preset's, as everywhere else)."""
    from gongzhi.matters.actions import matter_settings

    matter_settings(county)
    return list(Category.objects.filter(county=county, is_active=True)
                .select_related("parent").order_by("sort_order", "pk"))


def find_category(county: Place, code: str | None) -> Category:
    code = (code or "").strip()
    if not code:
        raise Open311Error(400, _("请提供 service_code。"))
    category = Category.objects.filter(county=county, code=code, is_active=True).first()
    if category is None:
        raise Open311Error(404, _("未找到 service_code：%(c)s。") % {"c": code})
    return category


def _preset_attribute(q: dict, order: int) -> dict:
    datatype = q.get("datatype", "string")
    return {"variable": bool(q.get("variable", True)), "code": str(q["code"]),
            "datatype": datatype, "required": bool(q.get("required", False)),
            "datatype_description": q.get("datatype_description") or None,
            "order": int(q.get("order") or order), "description": q.get("description") or "",
            "values": [{"key": str(v["key"]), "name": str(v["name"])}
                       for v in q.get("values", [])] if datatype in LIST_TYPES else []}


def attributes_by_category(cats: list[Category]) -> dict[int, list[dict]]:
    """Each category's attributes: its preset questions, replaced (or hidden) by code by the
    questions edited here, in order."""
    edited: dict[int, dict[str, ServiceQuestion]] = {}
    for q in ServiceQuestion.objects.filter(category__in=cats):
        edited.setdefault(q.category_id, {})[q.code] = q
    out: dict[int, list[dict]] = {}
    for cat in cats:
        mine = edited.get(cat.pk, {})
        attrs = [_preset_attribute(q, i + 1) for i, q in enumerate(cat.questions or [])
                 if isinstance(q, dict) and q.get("code") and q["code"] not in mine]
        attrs += [q.as_attribute() for q in mine.values() if q.is_active]
        attrs.sort(key=lambda a: (a["order"] or 0, a["code"]))
        out[cat.pk] = attrs
    return out


def service_list(county: Place) -> list[dict]:
    cats = categories(county)
    attrs = attributes_by_category(cats)
    return [{"service_code": c.code, "service_name": c.name,
             "description": c.description or None, "metadata": bool(attrs[c.pk]),
             "type": "realtime", "keywords": None,
             "group": c.parent.name if c.parent_id else None} for c in cats]


def service_definition(category: Category) -> dict:
    return {"service_code": category.code,
            "attributes": attributes_by_category([category])[category.pk]}


# ---------------------------------------------------------------------------------------------
# Dates


def w3(value: dt.datetime | None) -> str | None:
    """ISO 8601 with its zone, in the project's time zone (e.g. 2026-05-01T09:30:00+08:00)."""
    if value is None:
        return None
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def parse_w3(name: str, value: str | None) -> dt.datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    parsed = parse_datetime(value.replace(" ", "+")) if "T" in value else None
    if parsed is None and "T" not in value:
        day = parse_date(value)
        if day is not None:
            parsed = dt.datetime.combine(day, dt.time.min)
    if parsed is None:
        raise Open311Error(400, _("%(n)s 不是有效的时间（例如 2026-01-01T00:00:00+08:00）。")
                           % {"n": name})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def date_range(start: dt.datetime | None, end: dt.datetime | None
               ) -> tuple[dt.datetime, dt.datetime]:
    """The spec's window: at most 90 days, the most recent 90 days by default."""
    if start and end:
        if end < start:
            raise Open311Error(400, _("end_date 不能早于 start_date。"))
        if end - start > DEFAULT_SPAN:
            raise Open311Error(400, _("start_date 与 end_date 相距不能超过90天。"))
        return start, end
    if start:
        return start, start + DEFAULT_SPAN
    end = end or timezone.now()
    return end - DEFAULT_SPAN, end


def split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


# ---------------------------------------------------------------------------------------------
# Requests: which the endpoint shows, and how


def visible_requests(county: Place) -> QuerySet[Matter]:
    """The county's matters on the board (not merged), and those raised through Open311."""
    return Matter.objects.filter(county=county).filter(
        Q(is_public=True, merged_into__isnull=True) | Q(channel=Channel.OPEN311))


def find_request(county: Place, value: str) -> Matter:
    matter = None
    if value.isdigit():
        matter = visible_requests(county).filter(pk=int(value)).first()
    if matter is None:
        raise Open311Error(404, _("未找到 service_request_id：%(i)s。") % {"i": value})
    return matter


@dataclass
class Shown:
    matter: Matter
    public: PublicMatter

    @property
    def details(self) -> bool:
        """Texts are shown once the matter is on the board, and never for a complaint unless
        the locality publishes complaint details."""
        return self.matter.is_public and self.public.details_shown


def shown(matters: list[Matter], *, with_events: bool = False) -> list[Shown]:
    matters = list(with_public_relations(Matter.objects.filter(pk__in=[m.pk for m in matters]))
                   .select_related("responsible_org", "queue_place", "open311")
                   .order_by("-created_at", "-pk"))
    return [Shown(m, p) for m, p in zip(matters, public_matters(matters, with_events=with_events),
                                         strict=True)]


def _status_notes(s: Shown) -> str | None:
    m, p = s.matter, s.public
    if m.merged_into_id:
        return _("已与其他群众反映的同一事项合并办理。")
    if p.status == "closed" or p.outcome:
        parts = [p.outcome_label, p.explanation if s.details else ""]
        note = "：".join(x for x in parts if x)
        return note or _("已办结。")
    return _("当前环节：%(s)s。") % {"s": p.stage_name}


def _coords(m: Matter) -> tuple[float | None, float | None]:
    """The village's (or town's) coordinates: never finer than the board's place."""
    for place in (m.village, m.town, m.county):
        if place is not None and place.latitude is not None and place.longitude is not None:
            return place.latitude, place.longitude
    return None, None


def request_row(s: Shown) -> dict:
    m, p = s.matter, s.public
    closed = p.status == "closed" or m.merged_into_id is not None
    lat, long = _coords(m)
    media = ""
    if s.details and hasattr(m, "open311"):
        media = m.open311.media_url
    agency = None
    if p.details_shown:
        agency = (m.responsible_org.name if m.responsible_org_id else m.queue_place.name)
    updated = (m.closed_at if closed and m.closed_at else m.updated_at)
    expected = None if closed else (m.due_at or m.stage_deadline)
    return {
        "service_request_id": str(m.pk),
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(s),
        "service_name": m.category.name if m.category_id else None,
        "service_code": m.category.code if m.category_id else "",
        "description": (p.text or "")[:4000] if s.details else None,
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": w3(m.created_at),
        "updated_datetime": w3(updated),
        "expected_datetime": w3(expected),
        "address": p.place,
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": long,
        "media_url": media or None,
    }


def query_requests(county: Place, params) -> list[dict]:
    """GET requests: the spec's filters, newest first, at most 1000."""
    qs = visible_requests(county)
    ids = split(params.get("service_request_id"))
    if ids:
        if not all(i.isdigit() for i in ids):
            raise Open311Error(400, _("service_request_id 须是以逗号分隔的编号。"))
        qs = qs.filter(pk__in=[int(i) for i in ids])
    else:
        codes = split(params.get("service_code"))
        if codes:
            qs = qs.filter(category__code__in=codes)
        start, end = date_range(parse_w3("start_date", params.get("start_date")),
                                parse_w3("end_date", params.get("end_date")))
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
        statuses = split(params.get("status"))
        if any(s not in ("open", "closed") for s in statuses):
            raise Open311Error(400, _("status 只能是 open 或 closed。"))
        if len(set(statuses)) == 1:
            closed_q = Q(is_closed=True) | Q(merged_into__isnull=False)
            qs = qs.filter(closed_q) if statuses[0] == "closed" else qs.exclude(closed_q)
    size, page = _paging(params)
    start_at = (page - 1) * size
    matters = list(qs.order_by("-created_at", "-pk")[start_at:start_at + size])
    return [request_row(s) for s in shown(matters)]


def _paging(params) -> tuple[int, int]:
    """The paging extension (``page``, ``page_size``); one page of at most 1000 by default."""
    def number(name: str, default: int, high: int) -> int:
        value = (params.get(name) or "").strip()
        if not value:
            return default
        if not value.isdigit() or not 1 <= int(value) <= high:
            raise Open311Error(400, _("%(n)s 须是 1 到 %(h)d 之间的整数。")
                               % {"n": name, "h": high})
        return int(value)

    return number("page_size", MAX_REQUESTS, MAX_REQUESTS), number("page", 1, 100000)


# ---------------------------------------------------------------------------------------------
# servicerequestupdates (FixMyStreet's extension): the finer stages


def _update_status(kind: str, stage_kind: str, outcome: str) -> str:
    if kind == EventKind.MERGED:
        return "DUPLICATE"
    if kind in (EventKind.ESCALATED, EventKind.TRANSFERRED):
        return "INTERNAL_REFERRAL"
    if kind == EventKind.REOPENED:
        return "IN_PROGRESS"
    if stage_kind in ("intake", "acceptance_notice", ""):
        return "OPEN"
    if stage_kind in ("review", "deliberation"):
        return "INVESTIGATING"
    if stage_kind in ("handling", "supervision"):
        return "IN_PROGRESS"
    if outcome == Outcome.UNSOLVABLE:
        return "NO_FURTHER_ACTION"
    if stage_kind == "closed":
        return "FIXED" if outcome in (Outcome.SOLVED, Outcome.PARTLY) else "CLOSED"
    return "FIXED" if outcome in (Outcome.SOLVED, Outcome.PARTLY) else "IN_PROGRESS"


def query_updates(county: Place, params) -> list[dict]:
    """The public timeline steps of the requests shown, within the window, oldest first."""
    start, end = date_range(parse_w3("start_date", params.get("start_date")),
                            parse_w3("end_date", params.get("end_date")))
    events = MatterEvent.objects.filter(matter__in=visible_requests(county), is_public=True,
                                        at__gte=start, at__lte=end)
    ids = split(params.get("service_request_id"))
    if ids:
        if not all(i.isdigit() for i in ids):
            raise Open311Error(400, _("service_request_id 须是以逗号分隔的编号。"))
        events = events.filter(matter_id__in=[int(i) for i in ids])
    wanted = list(events.order_by("at", "pk").values_list("pk", "matter_id")[:MAX_REQUESTS])
    matter_ids = {mid for _pk, mid in wanted}
    if not matter_ids:
        return []
    views = {s.matter.pk: s for s in shown(list(Matter.objects.filter(pk__in=matter_ids)),
                                           with_events=True)}
    # Each matter's public events, in the order public_matters lists them.
    all_public: dict[int, list[MatterEvent]] = {}
    for e in (MatterEvent.objects.filter(matter_id__in=matter_ids, is_public=True)
              .order_by("at", "pk")):
        all_public.setdefault(e.matter_id, []).append(e)
    # The stage each matter was in after each step.
    stage_kinds: dict[int, dict[str, str]] = {}
    keep = {pk for pk, _mid in wanted}
    rows = []
    for matter_id, evs in all_public.items():
        s = views[matter_id]
        m = s.matter
        if m.workflow_id not in stage_kinds:
            stage_kinds[m.workflow_id] = {st["key"]: st.get("kind", "")
                                          for st in workflow_of(m.workflow).stages()}
        kinds = stage_kinds[m.workflow_id]
        stage = ""
        for i, e in enumerate(evs):
            stage = e.to_stage or stage
            if e.pk not in keep:
                continue
            outcome = m.outcome if kinds.get(stage) in ("feedback", "sign_off", "evaluation",
                                                          "disclosure", "closed") else ""
            description = ""
            if s.details and i < len(s.public.events):
                pe = s.public.events[i]
                description = "：".join(x for x in (pe.who, pe.summary, pe.comment) if x)
            rows.append({
                "update_id": str(e.pk),
                "service_request_id": str(m.pk),
                "status": _update_status(e.kind, kinds.get(stage, ""), outcome),
                "updated_datetime": w3(e.at),
                "description": description or None,
                "media_url": None,
                "external_status_code": stage or None,
            })
    rows.sort(key=lambda r: (r["updated_datetime"], int(r["update_id"])))
    return rows
