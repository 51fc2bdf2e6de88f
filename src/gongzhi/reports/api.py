"""台账与报表 through /api/v1/.

- ``GET /reports/kinds`` the ledgers and reports, with the periods each accepts;
- ``POST /reports/jobs`` asks for one (``reports.export`` and the kind's permission at the
  place; a place outside the caller's access is a 404); it is built in the background;
- ``GET /reports/jobs`` the caller's own jobs, newest first; ``GET /reports/jobs/{id}`` one
  (poll ``status`` and ``progress``); another user's job is a 404;
- ``GET /reports/jobs/{id}/file`` the file once ``status`` is ``done``.
"""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import Pagination
from gongzhi.core.access import has_permission
from gongzhi.places.models import Place

from . import actions
from .access import my_jobs
from .kinds import ordered
from .models import ExportJob
from .periods import period_from
from .views import file_response

router = Router(tags=["reports"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class KindOut(Schema):
    key: str
    label: str
    format: str = Field(..., description="xlsx or pdf")
    periods: list[str]


class JobIn(Schema):
    kind: str = Field(..., description="a key of GET /reports/kinds")
    place: int
    period: str = Field(..., description="year, quarter, month or custom")
    year: int | None = None
    number: int | None = Field(None, description="the quarter (1–4) or the month (1–12)")
    start: dt.date | None = Field(None, description="custom: the first day")
    end: dt.date | None = Field(None, description="custom: the last day (included)")
    min_volume: int | None = Field(None, ge=1, le=1000,
                                   description="信访 report: fewest complaints to list a unit")


class JobOut(Schema):
    id: int
    kind: str
    title: str
    place_id: int
    status: str = Field(..., description="queued, running, done, failed or expired")
    progress: int
    message: str
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    expires_at: dt.datetime | None
    size: int
    download_url: str | None

    @staticmethod
    def resolve_download_url(job: ExportJob) -> str | None:
        return reverse("api:reports_job_file", args=[job.pk]) if job.is_ready else None


@router.get("/reports/kinds", response=list[KindOut])
def list_kinds(request):
    return [{"key": k.key, "label": str(k.label), "format": k.fmt, "periods": list(k.periods)}
            for k in ordered()]


@router.post("/reports/jobs", response={201: JobOut, **ERRORS})
def request_job(request, payload: JobIn):
    """Ask for a ledger or report; poll the job it returns."""
    place = get_object_or_404(Place, pk=payload.place)
    if not has_permission(request.auth, "reports.export", place):
        return Status(404, {"detail": "Not Found"})
    period = period_from(payload.period, year=payload.year, number=payload.number,
                         start=payload.start, last=payload.end)
    params = {"min_volume": payload.min_volume} if payload.min_volume else {}
    job = actions.do_request_export(payload.kind, place, period, acting_user=request.auth,
                                    params=params)
    job.refresh_from_db()
    return Status(201, job)


@router.get("/reports/jobs", response=list[JobOut])
@paginate(Pagination)
def list_jobs(request):
    return my_jobs(request.auth)


@router.get("/reports/jobs/{job_id}", response={200: JobOut, 404: ErrorOut})
def get_job(request, job_id: int):
    return get_object_or_404(my_jobs(request.auth), pk=job_id)


@router.get("/reports/jobs/{job_id}/file", response={404: ErrorOut},
            url_name="reports_job_file",
            openapi_extra={"responses": {200: {"description": "the file", "content": {
                "application/octet-stream": {"schema": {"type": "string",
                                                        "format": "binary"}}}}}})
def job_file(request, job_id: int):
    """The file (Excel or PDF) of a finished job, to the user who asked for it."""
    return file_response(request.auth, job_id)
