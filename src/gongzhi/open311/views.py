"""The GeoReport v2 endpoint at ``/open311/v2/`` and the staff page that configures it.

Endpoint views translate only: they find the jurisdiction, parse the spec's parameters, call
:mod:`.service` (reads) or :mod:`.actions` (the one write), and answer in the format the path
asks for. Every failure is answered as ``errors/error`` with the spec's HTTP code.
"""

from __future__ import annotations

import re
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gongzhi.core.access import grants_with
from gongzhi.core.errors import ActionError
from gongzhi.matters.models import Category
from gongzhi.places.models import Place

from . import actions, service
from .formats import FORMATS, Open311Error, answer, error_answer
from .forms import KeyForm, QuestionForm
from .models import AppKey, ServiceQuestion, ServiceRequest

ATTRIBUTE_RE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


def endpoint(*methods: str):
    """Checks the format and the method, and turns errors into ``errors/error`` answers."""

    def wrap(view):
        @csrf_exempt
        @wraps(view)
        def inner(request, *args, fmt: str, **kwargs):
            try:
                if fmt not in FORMATS:
                    raise Open311Error(400, _("不支持的格式：%(f)s（可用 xml 或 json）。")
                                       % {"f": fmt})
                if request.method not in methods:
                    raise Open311Error(405, _("不支持的请求方法：%(m)s。") % {"m": request.method})
                response = view(request, fmt, *args, **kwargs)
            except Open311Error as exc:
                response = error_answer(fmt, [exc])
            except ActionError as exc:
                response = error_answer(fmt, [Open311Error(400, str(m)) for m in exc.messages])
            if request.method not in methods:
                response["Allow"] = ", ".join(methods)
            response["Access-Control-Allow-Origin"] = "*"
            return response

        return inner

    return wrap


def _county(request) -> Place:
    value = request.POST.get("jurisdiction_id") if request.method == "POST" else None
    return service.find_jurisdiction(value or request.GET.get("jurisdiction_id"))


@endpoint("GET")
def discovery(request, fmt: str):
    last = ServiceQuestion.objects.aggregate(last=Max("updated_at"))["last"]
    changeset = timezone.localtime(last).strftime("%Y-%m-%d %H:%M") if last else "2026-01-01 00:00"
    data = {
        "changeset": changeset,
        "contact": _("请联系所在县（区）的群众工作部门；接口问题请联系 gongzhi 管理员。"),
        "key_service": _("应用密钥（api_key）由县（区）管理员在 gongzhi 的"
                         "“Open311 接口”页面签发。"),
        "endpoints": [{
            "specification": service.SPEC,
            "url": request.build_absolute_uri("/open311/v2").rstrip("/"),
            "changeset": changeset,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }
    return answer(fmt, data, root="discovery", item=None)


@endpoint("GET")
def services(request, fmt: str):
    return answer(fmt, service.service_list(_county(request)), root="services", item="service")


@endpoint("GET")
def service_definition(request, fmt: str, code: str):
    category = service.find_category(_county(request), code)
    return answer(fmt, service.service_definition(category), root="service_definition",
                  item=None)


@endpoint("GET", "POST")
def requests_(request, fmt: str):
    county = _county(request)
    if request.method == "GET":
        return answer(fmt, service.query_requests(county, request.GET),
                      root="service_requests", item="request")
    key = actions.find_key(request.POST.get("api_key"), county)
    if key is None:
        raise Open311Error(403, _("api_key 缺失或无效，无法提交请求。"))
    category = service.find_category(county, request.POST.get("service_code"))
    attributes: dict[str, list[str]] = {}
    for name in request.POST:
        m = ATTRIBUTE_RE.match(name)
        if m:
            attributes.setdefault(m.group(1), []).extend(request.POST.getlist(name))
    data = {k: request.POST.get(k, "") for k in (
        "lat", "long", "address_string", "address_id", "email", "device_id", "account_id",
        "first_name", "last_name", "phone", "description", "media_url")}
    matter, sent = actions.do_submit_request(key, category, data, attributes)
    place = matter.queue_place.name
    row = {"service_request_id": str(matter.pk),
           "service_notice": _("已登记，由%(p)s受理，办理进展可通过本接口查询。") % {"p": place}}
    if sent.account_id:  # "may not be returned"; never null (the spec's Swagger says string)
        row["account_id"] = sent.account_id
    return answer(fmt, [row], root="service_requests", item="request")


@endpoint("GET")
def request_detail(request, fmt: str, request_id: str):
    matter = service.find_request(_county(request), request_id)
    rows = [service.request_row(s) for s in service.shown([matter])]
    return answer(fmt, rows, root="service_requests", item="request")


@endpoint("GET")
def token(request, fmt: str, token_id: str):
    county = _county(request)
    sent = ServiceRequest.objects.filter(county=county, token=token_id).first()
    if sent is None:
        raise Open311Error(404, _("未找到 token：%(t)s。") % {"t": token_id})
    return answer(fmt, [{"service_request_id": str(sent.matter_id), "token": sent.token}],
                  root="service_requests", item="request")


@endpoint("GET")
def updates(request, fmt: str):
    return answer(fmt, service.query_updates(_county(request), request.GET),
                  root="service_requests_updates", item="request_update")


@csrf_exempt
def not_found(request, rest: str = ""):
    fmt = "json" if rest.endswith(".json") else "xml"
    return error_answer(fmt, [Open311Error(404, _("没有这个接口：%(p)s。") % {"p": rest})])


def root(request):
    """The endpoint's root: the discovery document, for a person browsing to it."""
    wants_json = "json" in request.headers.get("Accept", "")
    return discovery(request, fmt="json" if wants_json else "xml")


# ---------------------------------------------------------------------------------------------
# Staff: questions per category and the apps' keys


def _configurable_counties(user) -> list[Place]:
    if user.is_superuser:
        return list(service.counties())
    ids = {g.county_id for g in grants_with(user, "open311.configure")}
    return list(Place.objects.filter(pk__in=ids).order_by("pk"))


def _scope(request) -> Place:
    counties = _configurable_counties(request.user)
    if not counties:
        raise PermissionDenied
    wanted = request.GET.get("county") or request.POST.get("county")
    for c in counties:
        if str(c.pk) == str(wanted):
            return c
    return counties[0]


@login_required
def settings_page(request):
    county = _scope(request)
    cats = service.categories(county)
    attrs = service.attributes_by_category(cats)
    edited = {(q.category_id, q.code): q for q in ServiceQuestion.objects.filter(category__in=cats)}
    rows = [{"category": c, "attributes": [
        a | {"edited": (c.pk, a["code"]) in edited} for a in attrs[c.pk]],
        "hidden": [q for (cid, _code), q in edited.items() if cid == c.pk and not q.is_active]}
        for c in cats]
    keys = AppKey.objects.restrict(request.user, "configure").filter(county=county)
    return render(request, "open311/settings.html", {
        "county": county, "counties": _configurable_counties(request.user), "rows": rows,
        "keys": keys, "jurisdiction_id": service.jurisdiction_id(county),
        "endpoint": request.build_absolute_uri("/open311/v2/"),
        "question_form": QuestionForm(categories=cats), "key_form": KeyForm(),
        "new_key": request.session.pop("open311_new_key", None),
    })


@login_required
def question_edit(request, category_id: int):
    county = _scope(request)
    category = get_object_or_404(Category, pk=category_id, county=county)
    cats = service.categories(county)
    code = request.GET.get("code", "")
    initial = {"category": category.pk}
    own = ServiceQuestion.objects.filter(category=category, code=code).first()
    found = [own.as_attribute()] if own else service.attributes_by_category([category])[
        category.pk]
    for a in found:
        if a["code"] == code:
            initial |= {k: a[k] for k in ("code", "datatype", "required", "variable", "order",
                                          "description")}
            initial["datatype_description"] = a["datatype_description"] or ""
            initial["values"] = "\n".join(f"{v['key']}={v['name']}" for v in a["values"])
            initial["is_active"] = own.is_active if own else True
    form = QuestionForm(request.POST or None, categories=cats, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            actions.do_save_question(
                d["category"], code=d["code"], datatype=d["datatype"],
                description=d["description"], required=d["required"], variable=d["variable"],
                datatype_description=d["datatype_description"], order=d["order"],
                values=d["values"], is_active=d["is_active"], acting_user=request.user)
        except ActionError as exc:
            form.add_error(None, " ".join(str(m) for m in exc.messages))
        else:
            messages.success(request, _("补充问题已保存。"))
            return redirect(f"{_settings_url()}?county={county.pk}")
    return render(request, "open311/question.html", {"county": county, "category": category,
                                                     "form": form})


def _settings_url() -> str:
    from django.urls import reverse

    return reverse("open311:settings")


@login_required
@require_POST
def key_create(request):
    county = _scope(request)
    form = KeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写应用名称。"))
    else:
        try:
            _key, raw = actions.do_create_key(county, form.cleaned_data["name"],
                                              acting_user=request.user)
        except ActionError as exc:
            messages.error(request, " ".join(str(m) for m in exc.messages))
        else:
            request.session["open311_new_key"] = raw
    return redirect(f"{_settings_url()}?county={county.pk}")


@login_required
@require_POST
def key_revoke(request, key_id: int):
    key = AppKey.objects.restrict(request.user, "configure").filter(pk=key_id).first()
    if key is None:
        raise Http404
    try:
        actions.do_revoke_key(key, acting_user=request.user)
    except ActionError as exc:
        messages.error(request, " ".join(str(m) for m in exc.messages))
    else:
        messages.success(request, _("密钥已停用。"))
    return redirect(f"{_settings_url()}?county={key.county_id}")


