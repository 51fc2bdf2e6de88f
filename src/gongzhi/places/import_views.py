"""Excel in and out of the registry: the template, import in two steps, export.

Import: upload → every row checked, every problem listed, or a preview of what will be created
→ confirm → all imported in one transaction, or nothing. Between the two steps the checked
file waits in a private staging folder under a random name; the confirm form carries only a
signed token (user, place, file digest) that expires.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError

from . import excel
from .import_actions import (
    IMPORT_TARGET_KINDS,
    ImportRejected,
    do_export_households,
    do_import_households,
    plan_import,
)
from .models import Place
from .views import breadcrumbs

MAX_ERRORS_SHOWN = 500
STAGE_SALT = "gongzhi.places.import.stage"
STAGE_MAX_AGE = 2 * 60 * 60  # seconds a checked file waits for its confirmation


def _max_rows() -> int:
    return settings.GONGZHI_MAX_IMPORT_ROWS


def _max_bytes() -> int:
    return getattr(settings, "GONGZHI_MAX_IMPORT_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def _xlsx_response(content: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=excel.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def template(request):
    return _xlsx_response(excel.build_template(max_rows=_max_rows()), "户与人员导入模板.xlsx")


@login_required
@require_GET
def export_households(request, place_id: int):
    place = get_object_or_404(Place.objects.restrict(request.user, "view"), pk=place_id)
    export = do_export_households(place, acting_user=request.user)
    return _xlsx_response(export.content, export.file_name)


# -- import -----------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def import_households(request, place_id: int):
    place = get_object_or_404(Place.objects.restrict(request.user, "view"), pk=place_id)
    if not has_permission(request.user, "people.import", place):
        raise PermissionDenied(_("您没有在该地点导入户与人员的权限。"))
    context = {
        "place": place,
        "crumbs": breadcrumbs(request.user, place, link_self=True),
        "crumb_current": _("导入户与人员"),
        "available": place.kind in IMPORT_TARGET_KINDS,
        "can_export": has_permission(request.user, "people.export", place),
        "max_rows": _max_rows(),
        "max_megabytes": f"{_max_bytes() / (1024 * 1024):g}",
    }
    if request.method == "POST" and context["available"]:
        if "token" in request.POST:
            return _confirm(request, place, context)
        return _check(request, place, context)
    return render(request, "places/import.html", context)


def _check(request, place: Place, context: dict):
    """Step one: read and check the uploaded file; list its errors or preview the import."""
    upload = request.FILES.get("file")
    if upload is None:
        return _failed(request, context, _("请选择要导入的 Excel 文件。"))
    if upload.size > _max_bytes():
        return _failed(request, context, _("文件超过 %(size)s MB，请分成几个文件导入。")
                       % {"size": context["max_megabytes"]})
    data = upload.read()
    try:
        sheet = excel.read_sheet(data, max_rows=_max_rows(), max_unzipped=_max_unzipped())
        plan = plan_import(place, sheet)
    except ActionError as exc:
        return _failed(request, context, " ".join(exc.messages))
    if plan.errors:
        return _rejected(request, context, plan.errors)
    digest = hashlib.sha256(data).hexdigest()
    token = _stage(data, digest, upload.name, request.user, place)
    context.update(plan=plan, summary=plan.summary(), token=token, file_name=upload.name,
                   ignored_headers=sheet.ignored_headers)
    return render(request, "places/import_preview.html", context)


def _confirm(request, place: Place, context: dict):
    """Step two: import the checked file, all or nothing."""
    staged = _load_staged(request.POST.get("token", ""), request.user, place)
    if staged is None:
        return _failed(request, context,
                       _("这次上传已失效（超过两小时或已导入），请重新选择文件。"))
    try:
        sheet = excel.read_sheet(staged.data, max_rows=_max_rows(), max_unzipped=_max_unzipped())
        plan = do_import_households(place, sheet, acting_user=request.user,
                                    file_name=staged.file_name, sha256=staged.sha256)
    except ImportRejected as exc:
        return _rejected(request, context, exc.row_errors)
    except ActionError as exc:
        return _failed(request, context, " ".join(exc.messages))
    summary = plan.summary()
    messages.success(request, ngettext(
        "已导入 %(households)s 户、%(persons)s 人。",
        "已导入 %(households)s 户、%(persons)s 人。", summary["households"],
    ) % summary)
    return redirect("places:place", place.pk)


def _failed(request, context: dict, message: str):
    context["file_error"] = message
    return render(request, "places/import.html", context)


def _rejected(request, context: dict, errors):
    context.update(errors=errors[:MAX_ERRORS_SHOWN], error_count=len(errors),
                   errors_hidden=max(0, len(errors) - MAX_ERRORS_SHOWN))
    return render(request, "places/import.html", context)


def _max_unzipped() -> int:
    return 20 * _max_bytes()


# -- staging between the two steps -------------------------------------------------------------

@dataclass
class Staged:
    data: bytes
    file_name: str
    sha256: str


def _staging_dir() -> Path:
    configured = getattr(settings, "GONGZHI_IMPORT_STAGING_DIR", None)
    folder = Path(configured) if configured else Path(settings.DATA_DIR) / "import-staging"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _stage(data: bytes, digest: str, file_name: str, user, place: Place) -> str:
    folder = _staging_dir()
    cutoff = time.time() - STAGE_MAX_AGE
    for old in folder.glob("*.*"):  # files whose confirmation never came
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    name = secrets.token_hex(16)
    path = folder / f"{name}.xlsx"
    path.touch(mode=0o600)
    path.write_bytes(data)
    return signing.dumps({"f": name, "u": user.pk, "p": place.pk, "h": digest,
                          "n": file_name[:200]}, salt=STAGE_SALT)


def _load_staged(token: str, user, place: Place) -> Staged | None:
    """The staged file for this user and place, taken out of staging (it is used once)."""
    try:
        payload = signing.loads(token, salt=STAGE_SALT, max_age=STAGE_MAX_AGE)
    except signing.BadSignature:
        return None
    if payload.get("u") != user.pk or payload.get("p") != place.pk:
        return None
    name = str(payload.get("f", ""))
    if len(name) != 32 or not all(c in "0123456789abcdef" for c in name):
        return None
    path = _staging_dir() / f"{name}.xlsx"
    claimed = path.with_suffix(f".claimed-{secrets.token_hex(4)}")
    try:  # a rename is atomic: of two confirmations sent at once, only one gets the file
        path.rename(claimed)
    except FileNotFoundError:
        return None
    try:
        data = claimed.read_bytes()
    finally:
        claimed.unlink(missing_ok=True)
    if hashlib.sha256(data).hexdigest() != payload.get("h"):
        return None
    return Staged(data=data, file_name=payload.get("n", ""), sha256=payload["h"])
