"""A locality's settings pages (/settings/): its workflow and preset, the JSON editor with
versions, its category tree, and the working-day calendar overrides.

Who may use them: ``workflows.change`` at the county (县联系办, administrators) for the county's
pages, ``calendar.change`` for the calendar. A county outside the user's scope is a 404; one
inside it without the permission is a 403. Every change goes through an audited action.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.accounts.roles import Role
from gongzhi.core import calendar
from gongzhi.core.access import has_permission
from gongzhi.core.actions import do_set_calendar_days
from gongzhi.core.errors import ActionError
from gongzhi.core.models import CalendarOverride
from gongzhi.places.models import Place, PlaceKind

from . import workflow
from .actions import PRESETS, do_adopt_preset, do_save_workflow, load_preset, matter_settings
from .category_actions import do_add_category, do_rename_category, do_set_category_active
from .models import Category, Matter, StageKind, WorkflowDefinition
from .presets import EVALUATOR_KINDS, POLICY_KEYS

MAX_DEFINITION_BYTES = 200_000
MAX_CALENDAR_LINES = 400


# --- access ------------------------------------------------------------------------------------


def _county(request, county_id: int) -> Place:
    """The county in the URL, if the user may see it (else 404) and configure it (else 403)."""
    county = get_object_or_404(
        Place.objects.restrict(request.user, "view").filter(kind=PlaceKind.COUNTY), pk=county_id)
    if not has_permission(request.user, "workflows.change", county):
        raise PermissionDenied(_("您没有配置流程的权限。"))
    return county


def _counties(user) -> list[Place]:
    visible = Place.objects.restrict(user, "view").filter(kind=PlaceKind.COUNTY).order_by("id")
    return [c for c in visible if has_permission(user, "workflows.change", c)]


def _crumbs(county: Place | None, *trail: tuple[str, str | None]) -> list[dict]:
    from django.urls import reverse

    crumbs = [{"label": _("流程设置"), "url": reverse("matters_admin:index")}]
    if county is not None:
        crumbs.append({"label": county.name,
                       "url": reverse("matters_admin:workflow", args=[county.pk])})
    crumbs += [{"label": label, "url": url} for label, url in trail]
    crumbs[-1]["url"] = None
    return crumbs


# --- describing a definition in words -------------------------------------------------------------

TIMEOUT_LABELS = {"notify": gettext_lazy("提醒"), "supervise": gettext_lazy("督办"),
                  "escalate": gettext_lazy("提级上报")}
TRIGGER_LABELS = {"evaluated": gettext_lazy("评价满意或基本满意时"),
                  "dissatisfied": gettext_lazy("评价不满意时"),
                  "no_answer": gettext_lazy("评价期满未评价时")}


def limit_text(limit: dict | None) -> str:
    if not isinstance(limit, dict) or len(limit) != 1:
        return ""
    (unit, value), = limit.items()
    value_text = f"{value:g}" if isinstance(value, int | float) else str(value)
    if unit == "working_days":
        return _("%(n)s个工作日") % {"n": value_text}
    if unit == "hours" and isinstance(value, int | float) and value >= 48 and value % 24 == 0:
        return _("%(d)s天（%(n)s小时，含节假日）") % {"d": f"{value / 24:g}", "n": value_text}
    return _("%(n)s小时") % {"n": value_text}


def role_label(role: str) -> str:
    if role == "responsible":
        return _("责任人或责任单位")
    if role == "system":
        return _("系统（评价结果）")
    try:
        return str(Role(role).label)
    except ValueError:
        return role


def field_label(name: str) -> str:
    try:
        return str(Matter._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # an unknown name in a stored definition is shown as it is
        return name


def describe(definition: dict[str, Any]) -> dict[str, Any]:
    """The stages and transitions of a (valid) definition, ready for the tables and the diagram."""
    stages = definition.get("stages", [])
    names = {s["key"]: s.get("name", s["key"]) for s in stages}
    kinds = dict(StageKind.choices)
    transitions = []
    outgoing: dict[str, list[dict]] = defaultdict(list)
    for t in definition.get("transitions", []):
        sources = list(names) if t.get("from") == "*" else t.get("from", [])
        requires = t.get("requires") or {}
        needs = [field_label(f) for f in requires.get("fields", [])]
        if requires.get("comment"):
            needs.insert(0, _("意见"))
        if requires.get("attachment"):
            needs.append(_("附件"))
        row = {
            "key": t["key"], "name": t.get("name", t["key"]),
            "from": [names.get(s, s) for s in sources], "to": names.get(t["to"], t["to"]),
            "to_key": t["to"],
            "roles": [role_label(r) for r in t.get("roles", [])],
            "needs": needs,
            "trigger": str(TRIGGER_LABELS.get(t.get("trigger") or "", "")),
        }
        transitions.append(row)
        for s in sources:
            outgoing[s].append(row)
    described = []
    for s in stages:
        described.append({
            "key": s["key"], "name": s.get("name", s["key"]), "kind": s.get("kind"),
            "kind_label": kinds.get(s.get("kind"), s.get("kind")),
            "description": s.get("description", ""),
            "limit": limit_text(s.get("limit")), "urgent_limit": limit_text(s.get("urgent_limit")),
            "on_timeout": [str(TIMEOUT_LABELS.get(a, a)) for a in s.get("on_timeout", [])],
            "initial": s["key"] == definition.get("initial"),
            "outgoing": outgoing.get(s["key"], []),
        })
    return {"stages": described, "transitions": transitions}


def describe_policy(policy: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for key, value in policy.items():
        if key in ("evaluator_kinds", "reopen_on") and isinstance(value, list):
            shown = "、".join(str(EVALUATOR_KINDS.get(k, k)) for k in value)
        elif key in ("supervision_chain", "whistle_roles") and isinstance(value, list):
            shown = " → ".join(role_label(r) for r in value) if key == "supervision_chain" else (
                "、".join(role_label(r) for r in value))
        elif isinstance(value, list) and value and all(
            isinstance(v, dict) and "name" in v for v in value
        ):
            shown = "、".join(str(v["name"]) for v in value)
        elif isinstance(value, bool):
            shown = _("是") if value else _("否")
        elif isinstance(value, list) and all(isinstance(v, str | int) for v in value):
            shown = "、".join(str(v) for v in value)
        else:
            shown = json.dumps(value, ensure_ascii=False)
        rows.append({"key": key, "label": str(POLICY_KEYS.get(key, key)), "value": shown})
    return rows


def _versions(county: Place) -> list[dict]:
    counts = dict(Matter.objects.filter(county=county).values_list("workflow").annotate(
        n=Count("id")).values_list("workflow", "n"))
    return [{"defn": d, "matters": counts.get(d.pk, 0)}
            for d in WorkflowDefinition.objects.filter(county=county).select_related(
                "created_by").order_by("key", "-version")]


def _presets() -> list[dict]:
    out = []
    for key in PRESETS:
        p = load_preset(key)
        out.append({"key": key, "name": p["name"], "description": p["description"],
                    "path": [s["name"] for s in p["workflow"]["stages"]]})
    return out


# --- pages -------------------------------------------------------------------------------------


@login_required
def index(request):
    counties = _counties(request.user)
    can_calendar = has_permission(request.user, "calendar.change")
    if len(counties) == 1 and not can_calendar:
        return redirect("matters_admin:workflow", counties[0].pk)
    if not counties and not can_calendar:
        raise PermissionDenied(_("您没有配置流程的权限。"))
    return render(request, "matters/admin/index.html", {
        "counties": counties, "can_calendar": can_calendar,
        "crumbs": _crumbs(None)})


@login_required
def workflow_overview(request, county_id: int):
    county = _county(request, county_id)
    settings = matter_settings(county)
    return render(request, "matters/admin/workflow.html", {
        "county": county, "settings": settings, "defn": settings.workflow,
        "described": describe(settings.workflow.definition),
        "policy": describe_policy(settings.policy), "versions": _versions(county),
        "presets": _presets(), "current_preset": load_preset(settings.preset),
        "crumbs": _crumbs(county),
    })


@login_required
def version_detail(request, county_id: int, version_id: int):
    county = _county(request, county_id)
    defn = get_object_or_404(WorkflowDefinition.objects.filter(county=county), pk=version_id)
    settings = matter_settings(county)
    return render(request, "matters/admin/version.html", {
        "county": county, "defn": defn, "is_current": defn.pk == settings.workflow_id,
        "described": describe(defn.definition),
        "definition_json": json.dumps(defn.definition, ensure_ascii=False, indent=2),
        "matters": Matter.objects.filter(workflow=defn).count(),
        "crumbs": _crumbs(county, (_("第%(v)s版") % {"v": defn.version}, None)),
    })


@login_required
@require_POST
def adopt(request, county_id: int):
    county = _county(request, county_id)
    key = request.POST.get("preset", "")
    try:
        settings = do_adopt_preset(county, key, acting_user=request.user)
    except ActionError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("matters_admin:workflow", county.pk)
    messages.success(request, _("已改用“%(p)s”模板（流程第%(v)s版）。新登记的事项按新流程办理，"
                                "已有事项按原流程版本继续办理。")
                     % {"p": load_preset(key)["name"], "v": settings.workflow.version})
    return redirect("matters_admin:workflow", county.pk)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, county_id: int):
    county = _county(request, county_id)
    settings = matter_settings(county)
    current = settings.workflow
    text = json.dumps(_unnumbered(current.definition), ensure_ascii=False, indent=2)
    errors: list[str] = []
    if request.method == "POST":
        text = request.POST.get("definition", "")
        definition, errors = parse_definition(text)
        if not errors and definition == _unnumbered(current.definition):
            messages.info(request, _("流程没有改动，未保存新版本。"))
            return redirect("matters_admin:workflow", county.pk)
        if not errors:
            try:
                defn = do_save_workflow(county, definition, acting_user=request.user)
            except ActionError as exc:
                errors = list(exc.messages)
            else:
                messages.success(request, _("流程已保存为第%(v)s版。新登记的事项按新版本办理，"
                                            "已有事项按原版本继续办理。") % {"v": defn.version})
                return redirect("matters_admin:workflow", county.pk)
    return render(request, "matters/admin/edit.html", {
        "county": county, "defn": current, "text": text, "errors": errors,
        "kinds": StageKind.choices, "roles": [(r.value, r.label) for r in Role],
        "fields": [(f, field_label(f)) for f in sorted(workflow.REQUIRABLE_FIELDS)],
        "crumbs": _crumbs(county, (_("编辑流程"), None)),
    }, status=400 if errors else 200)


def _unnumbered(definition: dict[str, Any]) -> dict[str, Any]:
    """Versions are numbered by the system (``WorkflowDefinition.version``); a number typed
    into the JSON would only contradict it."""
    return {k: v for k, v in definition.items() if k != "version"}


def parse_definition(text: str) -> tuple[dict | None, list[str]]:
    """The JSON an administrator typed, or the problems with it as sentences."""
    if len(text.encode("utf-8")) > MAX_DEFINITION_BYTES:
        return None, [_("流程定义过长（超过200KB）。")]
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [_("第%(line)s行第%(col)s列附近不是有效的 JSON，请检查引号、逗号和括号。")
                      % {"line": exc.lineno, "col": exc.colno}]
    errors = workflow.validate(definition)
    return (_unnumbered(definition) if not errors else None), errors


# --- categories ----------------------------------------------------------------------------------


def _category_rows(county: Place) -> list[dict]:
    cats = list(Category.objects.filter(county=county).order_by("sort_order", "id"))
    counts = dict(Matter.objects.filter(county=county, category__isnull=False)
                  .values_list("category").annotate(n=Count("id")).values_list("category", "n"))
    children: dict[int | None, list[Category]] = defaultdict(list)
    for c in cats:
        children[c.parent_id].append(c)
    rows: list[dict] = []

    def walk(parent_id, depth):
        for c in children.get(parent_id, []):
            rows.append({"cat": c, "depth": depth, "indent": "　" * depth,
                         "matters": counts.get(c.pk, 0)})
            walk(c.pk, depth + 1)

    walk(None, 0)
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def categories(request, county_id: int):
    county = _county(request, county_id)
    form = {"code": "", "name": "", "parent": "", "description": ""}
    error = ""
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in form}
        parent = None
        if form["parent"]:
            parent = Category.objects.filter(county=county, pk=_int(form["parent"])).first()
            if parent is None:
                error = _("所选上级分类不存在。")
        if not error:
            try:
                cat = do_add_category(county, code=form["code"], name=form["name"],
                                      parent=parent, description=form["description"],
                                      acting_user=request.user)
            except ActionError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, _("已添加分类“%(n)s”。") % {"n": cat.name})
                return redirect("matters_admin:categories", county.pk)
    rows = _category_rows(county)
    return render(request, "matters/admin/categories.html", {
        "county": county, "rows": rows, "form": form, "error": error,
        "parents": [r for r in rows if r["cat"].is_active],
        "crumbs": _crumbs(county, (_("事项分类"), None)),
    }, status=400 if error else 200)


@login_required
@require_POST
def category_update(request, county_id: int, category_id: int):
    county = _county(request, county_id)
    category = get_object_or_404(Category.objects.filter(county=county), pk=category_id)
    op = request.POST.get("op")
    try:
        if op == "rename":
            do_rename_category(category, request.POST.get("name", ""),
                               description=request.POST.get("description"),
                               acting_user=request.user)
            messages.success(request, _("分类已更新。"))
        elif op in ("deactivate", "activate"):
            do_set_category_active(category, op == "activate", acting_user=request.user)
            messages.success(request, _("已启用分类“%(n)s”。") % {"n": category.name}
                             if op == "activate" else
                             _("已停用分类“%(n)s”，登记新事项时不再显示。") % {"n": category.name})
        else:
            messages.error(request, _("未知的操作。"))
    except ActionError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("matters_admin:categories", county.pk)


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- the working-day calendar -----------------------------------------------------------------

WORKDAY_WORDS = {"班": True, "上班": True, "工作日": True, "workday": True,
                 "休": False, "休息": False, "假": False, "放假": False, "holiday": False}


def parse_calendar_lines(text: str) -> tuple[list[tuple[dt.date, bool, str]], list[str]]:
    """Lines like ``2027-02-06 休 春节`` or ``2027-02-14 班 春节调休``."""
    entries, errors = [], []
    lines = [line.strip() for line in text.splitlines()]
    if len([line for line in lines if line]) > MAX_CALENDAR_LINES:
        return [], [_("一次最多录入%(n)s天。") % {"n": MAX_CALENDAR_LINES}]
    seen = set()
    for number, line in enumerate(lines, start=1):
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=2)
        try:
            day = dt.date.fromisoformat(parts[0])
        except ValueError:
            errors.append(_("第%(n)s行：日期应写成 2027-02-06 这样的格式。") % {"n": number})
            continue
        if len(parts) < 2 or parts[1] not in WORKDAY_WORDS:
            errors.append(_("第%(n)s行：请在日期后写“休”或“班”。") % {"n": number})
            continue
        if day in seen:
            errors.append(_("第%(n)s行：日期%(d)s重复。") % {"n": number, "d": day.isoformat()})
            continue
        seen.add(day)
        note = parts[2] if len(parts) > 2 else ""
        if len(note) > 80:
            errors.append(_("第%(n)s行：说明不能超过80个字。") % {"n": number})
            continue
        entries.append((day, WORKDAY_WORDS[parts[1]], note))
    if not entries and not errors:
        errors.append(_("请至少填写一行。"))
    return entries, errors


@login_required
@require_http_methods(["GET", "POST"])
def calendar_overrides(request):
    if not has_permission(request.user, "calendar.change"):
        raise PermissionDenied(_("只有系统管理员可以调整工作日历。"))
    text, errors = "", []
    if request.method == "POST":
        text = request.POST.get("days", "")
        entries, errors = parse_calendar_lines(text)
        if not errors:
            try:
                do_set_calendar_days(entries, acting_user=request.user)
            except ActionError as exc:
                errors = list(exc.messages)
            else:
                messages.success(request, _("已录入%(n)s天的工作日调整。") % {"n": len(entries)})
                return redirect("matters_admin:calendar")
    this_year = timezone.localdate().year
    overrides = list(CalendarOverride.objects.filter(date__year__gte=this_year - 1))
    by_year: dict[int, list[CalendarOverride]] = defaultdict(list)
    for o in overrides:
        by_year[o.date.year].append(o)
    years = []
    for year in range(min(this_year, calendar.KNOWN_LAST_YEAR + 1), this_year + 2):
        known = calendar.KNOWN_FIRST_YEAR <= year <= calendar.KNOWN_LAST_YEAR
        years.append({"year": year, "package": known, "overrides": len(by_year.get(year, [])),
                      "certain": known or bool(by_year.get(year))})
    uncertain = Matter.objects.restrict(request.user, "view").filter(
        is_closed=False, deadline_uncertain=True).count()
    return render(request, "matters/admin/calendar.html", {
        "years": years, "by_year": sorted(by_year.items()), "text": text, "errors": errors,
        "known_last": calendar.KNOWN_LAST_YEAR, "uncertain": uncertain,
        "counties": _counties(request.user),
        "crumbs": _crumbs(None, (_("工作日历"), None)),
    }, status=400 if errors else 200)
