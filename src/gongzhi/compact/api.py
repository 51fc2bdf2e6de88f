"""村规民约 through /api/v1/: the public text and history (no login); proposing amendments."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from gongzhi.api.errors import ErrorOut

from . import actions
from .models import Amendment, Compact

router = Router(tags=["compact"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class VersionOut(Schema):
    number: int
    title: str
    preamble: str
    articles: list[str]
    adopted_on: dt.date
    basis: str
    resolution_id: int | None
    meeting_id: int | None
    published_at: dt.datetime


class CompactOut(Schema):
    id: int
    village_id: int
    kind: str
    title: str
    current: VersionOut
    history: list[VersionOut]


class AmendmentIn(Schema):
    reason: str
    articles: list[str]
    title: str = ""


class AmendmentOut(Schema):
    id: int
    compact_id: int
    base_version: int
    title: str
    reason: str
    status: str
    changes: list[dict]
    topic_id: int


def _version(v) -> dict:
    return {"number": v.number, "title": v.title, "preamble": v.preamble,
            "articles": v.articles, "adopted_on": v.adopted_on, "basis": v.basis,
            "resolution_id": v.resolution_id,
            "meeting_id": v.resolution.topic.meeting_id if v.resolution_id else None,
            "published_at": v.published_at}


def _amendment(a: Amendment) -> dict:
    return {"id": a.pk, "compact_id": a.compact_id, "base_version": a.base_version.number,
            "title": a.title, "reason": a.reason, "status": a.status, "changes": a.changes,
            "topic_id": a.topic_id}


@router.get("/public/compacts/{village_id}", auth=None, response={200: CompactOut,
                                                                  404: ErrorOut})
def public_compact(request, village_id: int):
    compact = Compact.objects.filter(village_id=village_id).first()
    if compact is None:
        raise Http404
    versions = [_version(v) for v in compact.versions.select_related(
        "resolution__topic").order_by("-number")]
    return {"id": compact.pk, "village_id": village_id, "kind": compact.kind,
            "title": compact.title, "current": versions[0], "history": versions}


@router.get("/public/compacts/{village_id}/versions/{number}", auth=None,
            response={200: VersionOut, 404: ErrorOut})
def public_version(request, village_id: int, number: int):
    compact = get_object_or_404(Compact, village_id=village_id)
    return _version(get_object_or_404(compact.versions.select_related("resolution__topic"),
                                      number=number))


@router.post("/compacts/{compact_id}/amendments", response={201: AmendmentOut, **ERRORS})
def propose_amendment(request, compact_id: int, payload: AmendmentIn):
    compact = get_object_or_404(Compact.objects.restrict(request.auth, "view"), pk=compact_id)
    amendment = actions.do_propose_amendment(compact, acting_user=request.auth,
                                             reason=payload.reason, articles=payload.articles,
                                             title=payload.title)
    return Status(201, _amendment(amendment))


@router.get("/compacts/amendments/{amendment_id}", response={200: AmendmentOut, 404: ErrorOut})
def get_amendment(request, amendment_id: int):
    return _amendment(get_object_or_404(Amendment.objects.restrict(request.auth, "view")
                                        .select_related("base_version"), pk=amendment_id))
