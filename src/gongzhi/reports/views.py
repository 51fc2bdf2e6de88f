"""The 报表 page: pick a ledger or report, a place within your access and a period; your
jobs below, their progress polled with htmx every 2 seconds while they run; downloads.

Views translate: they parse, load through the access functions (another user's job, or a
place outside the user's access, is a 404), call one action and render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError
from gongzhi.core.htmx import render_htmx

from . import actions, storage
from .access import export_places, my_jobs
from .forms import ExportForm
from .kinds import KINDS, may_request, ordered
from .periods import period_from

RECENT = 20


def _form_context(request, form) -> dict:
    return {"form": form, "jobs": list(my_jobs(request.user)[:RECENT]), "kinds": ordered()}


def parse_request(user, data, places):
    """(kind, place, period) from the form, or an ActionError."""
    form = ExportForm(data, places=places)
    if not form.is_valid():
        raise ActionError(_("请检查填写的内容：%(fields)s。") % {
            "fields": "、".join(str(form.fields[f].label) for f in form.errors
                               if f in form.fields) or _("表单")})
    c = form.cleaned_data
    place = next(p for p, _label in places if p.pk == c["place"])
    period = period_from(c["period"], year=c["year"], number=c["number"], start=c["start"],
                         last=c["last"])
    return c["kind"], place, period, form


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def index(request):
    user = request.user
    if not has_permission(user, "reports.export"):
        raise PermissionDenied
    places = export_places(user)
    if request.method == "POST":
        form = ExportForm(request.POST, places=places)
        try:
            kind, place, period, form = parse_request(user, request.POST, places)
            job = actions.do_request_export(kind, place, period, acting_user=user)
        except ActionError as exc:
            messages.error(request, " ".join(str(m) for m in exc.messages))
            return render(request, "reports/index.html", _form_context(request, form),
                          status=400)
        except PermissionDenied as exc:
            messages.error(request, str(exc) or _("您无权导出这份台账或报表。"))
            return render(request, "reports/index.html", _form_context(request, form),
                          status=403)
        messages.success(request, _("已申请“%(title)s”，生成后即可下载。") % {"title": job.title})
        return redirect("reports:index")
    return render(request, "reports/index.html", _form_context(request, ExportForm(places=places)))


@login_required
@never_cache
def job(request, job_id: int):
    """One job: the row the page polls (htmx), or a page of its own."""
    job = get_object_or_404(my_jobs(request.user), pk=job_id)
    return render_htmx(request, "reports/job.html", "reports/partials/job.html", {"job": job})


@login_required
@never_cache
def download(request, job_id: int):
    """The file, to the user who asked for it, while they may still export it there."""
    return file_response(request.user, job_id)


def file_response(user, job_id: int) -> FileResponse:
    job = get_object_or_404(my_jobs(user), pk=job_id)
    kind = KINDS.get(job.kind)
    if kind is None or not may_request(user, kind, job.place) or not job.is_ready:
        raise Http404
    try:
        handle = storage.open_file(job.file_name)
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=job.download_name,
                            content_type=job.content_type)
    response["Cache-Control"] = "private, no-store"
    return response
