"""Pages of 说 and of the matter itself: the staff side (workbench, lists, the matter page,
the three ledgers, raising on a resident's behalf) and the resident side (raise from a phone
without an account, track by code).

Views translate: they load matters only through ``Matter.objects.restrict`` (a matter outside
it is a 404), parse the form, call one action and render. An htmx request gets the partial
(one view, two renderings); a refused action shows its sentence and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.core.htmx import render_htmx
from gongzhi.core.privacy import mask_phone
from gongzhi.places.models import Person, Place, PlaceKind

from . import queries, workflow
from .actions import do_add_note, do_merge_matters, do_raise_matter, similar_open_matters
from .forms import (
    LEDGER_HELP,
    URGENCY_HELP,
    BulkAssignForm,
    NoteForm,
    RaiseForm,
    StaffRaiseForm,
    TransitionForm,
    raise_villages,
)
from .models import (
    Category,
    Channel,
    HandlingMode,
    Ledger,
    Matter,
    MatterEvent,
    MatterFile,
    Outcome,
    Urgency,
    reporter_visible_to,
)
from .panels import panels_for
from .reporter_actions import do_view_reporter, reporter_of

PAGE_SIZE = 30
LAST_RAISED = "matters_last_raised"


def _errors(exc: ActionError) -> str:
    return " ".join(exc.messages)


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


# =============================================================================================
# Places: the cascading town → village → grid picker (public and staff)


def picker_context(county: Place, villages, *, town_id=None, village_id=None, grid_id=None,
                   url: str, fixed: Place | None = None) -> dict[str, Any]:
    """Towns, the villages (grouped by town, or of the chosen town) and the chosen village's
    grids. Without JavaScript the village list holds every village, grouped by town."""
    villages = list(villages.select_related("town").order_by("town_id", "sort_order", "pk"))
    towns: dict[int, Place] = {}
    for v in villages:
        if v.town is not None:
            towns.setdefault(v.town.pk, v.town)
    town_id = _int(town_id)
    village_id = _int(village_id)
    chosen = next((v for v in villages if v.pk == village_id), None)
    if chosen is None and not village_id and len(villages) == 1:
        chosen = villages[0]  # nothing to choose
    if chosen is not None and town_id and chosen.town_id != town_id:
        chosen = None  # the town changed: choose the village again
    if chosen is not None and not town_id:
        town_id = chosen.town_id
    shown = [v for v in villages if not town_id or v.town_id == town_id]
    groups: list[tuple[Place | None, list[Place]]] = []
    for v in shown:
        if groups and groups[-1][0] is not None and groups[-1][0].pk == v.town_id:
            groups[-1][1].append(v)
        else:
            groups.append((towns.get(v.town_id), [v]))
    grids = []
    if chosen is not None:
        grids = list(Place.objects.filter(parent=chosen, kind=PlaceKind.GRID, is_active=True)
                     .order_by("sort_order", "pk"))
    return {"towns": sorted(towns.values(), key=lambda t: (t.sort_order, t.pk)),
            "town_id": town_id, "village_groups": groups, "village": chosen,
            "grids": grids, "grid_id": _int(grid_id), "picker_url": url, "fixed": fixed,
            "single_town": len(towns) <= 1}


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# =============================================================================================
# Resident pages: no account, phone first


def _public_counties():
    return Place.objects.filter(kind=PlaceKind.COUNTY, is_active=True).order_by("sort_order", "pk")


@require_GET
def public_index(request):
    """The residents' front door: say something, or look up what became of it."""
    counties = list(_public_counties())
    return render(request, "matters/public/index.html", {
        "counties": counties, "via": request.GET.get("via", ""),
    })


@require_GET
def public_raise_start(request):
    counties = list(_public_counties()[:2])
    if len(counties) == 1:
        url = reverse("matters_public:raise", args=[counties[0].pk])
        if request.GET.urlencode():
            url += "?" + request.GET.urlencode()
        return redirect(url)
    return redirect("matters_public:index")


def _public_county(county_id: int) -> Place:
    return get_object_or_404(Place, pk=county_id, kind=PlaceKind.COUNTY, is_active=True)


def _fixed_place(county: Place, value) -> Place | None:
    """A village or grid named in the address (a QR code on the village notice board)."""
    pid = _int(value)
    if not pid:
        return None
    return Place.objects.filter(pk=pid, county=county, is_active=True,
                                kind__in=[PlaceKind.VILLAGE, PlaceKind.GRID]).first()


def _raise_context(request, county: Place, form, *, staff: bool, fixed: Place | None = None,
                   files_lost: bool = False) -> dict[str, Any]:
    data = form.data if form.is_bound else {}
    if fixed is not None:
        village_id = fixed.pk if fixed.kind == PlaceKind.VILLAGE else fixed.village_id
        grid_id = fixed.pk if fixed.kind == PlaceKind.GRID else data.get("grid")
        town_id = fixed.town_id
    else:
        village_id, grid_id, town_id = data.get("village"), data.get("grid"), data.get("town")
    url = (reverse("matters:places", args=[county.pk]) if staff
           else reverse("matters_public:places", args=[county.pk]))
    picker = picker_context(county, form.villages(), town_id=town_id, village_id=village_id,
                            grid_id=grid_id, url=url, fixed=fixed)
    ledgers = [{"value": v, "label": label, "help": LEDGER_HELP[v]} for v, label in Ledger.choices]
    urgencies = [{"value": v, "label": label, "help": URGENCY_HELP[v]}
                 for v, label in Urgency.choices]
    return {"form": form, "county": county, "picker": picker, "ledgers": ledgers, "staff": staff,
            "urgencies": urgencies, "files_lost": files_lost,
            "via": request.GET.get("via") or request.POST.get("via", ""),
            "similar_url": (reverse("matters:similar", args=[county.pk]) if staff
                            else reverse("matters_public:similar", args=[county.pk]))}


@require_http_methods(["GET", "POST"])
def public_raise(request, county_id: int):
    """我要说事: a resident raises a matter without an account and gets a tracking code."""
    county = _public_county(county_id)
    fixed = _fixed_place(county, request.GET.get("place"))
    via = request.GET.get("via") or request.POST.get("via", "")
    if request.method == "POST":
        form = RaiseForm(county, request.POST)
        uploads = request.FILES.getlist("attachments")
        if form.is_valid():
            d = form.cleaned_data
            same = form.same_as_matter()
            try:
                matter = do_raise_matter(
                    place=form.place, title=d["title"], text=d["text"],
                    channel=form.channel(via), ledger=d["ledger"], acting_user=None,
                    category=d["category"], urgency=d["urgency"],
                    reporter_name=d["name"], reporter_phone=d["phone"],
                    is_anonymous=d["is_anonymous"],
                    attributes={"same_as": same.tracking_code} if same else None,
                    attachments=uploads or None,
                )
            except ActionError as exc:
                _attach_error(form, exc, uploads)
            else:
                request.session[LAST_RAISED] = matter.tracking_code
                return redirect("matters_public:done")
        ctx = _raise_context(request, county, form, staff=False, fixed=fixed,
                             files_lost=bool(uploads))
        return render(request, "matters/public/raise.html", ctx, status=400)
    form = RaiseForm(county, initial={"urgency": Urgency.NORMAL})
    return render(request, "matters/public/raise.html",
                  _raise_context(request, county, form, staff=False, fixed=fixed))


def _attach_error(form, exc: ActionError, uploads) -> None:
    """An action's refusal, next to the field it is about (the attachments, mostly)."""
    text = _errors(exc)
    if uploads and "附件" in text:
        form.add_error(None, text)
        form.attachment_error = text
    elif "电话" in text:
        form.add_error("phone", text)
    else:
        form.add_error(None, text)


@require_GET
def public_places(request, county_id: int):
    county = _public_county(county_id)
    villages = Place.objects.filter(county=county, kind=PlaceKind.VILLAGE, is_active=True)
    ctx = picker_context(county, villages, town_id=request.GET.get("town"),
                         village_id=request.GET.get("village"), grid_id=request.GET.get("grid"),
                         url=reverse("matters_public:places", args=[county.pk]))
    return render(request, "matters/partials/place_picker.html", {"picker": ctx})


def _similar_place(county: Place, data, villages) -> Place | None:
    village = villages.filter(pk=_int(data.get("village"))).first()
    if village is None:
        return None
    grid = Place.objects.filter(pk=_int(data.get("grid")), parent=village,
                                kind=PlaceKind.GRID).first()
    return grid or village


@require_POST
def public_similar(request, county_id: int):
    """Open matters like the one being written (htmx): shown, never merged by a resident."""
    county = _public_county(county_id)
    villages = Place.objects.filter(county=county, kind=PlaceKind.VILLAGE, is_active=True)
    rows = _similar_rows(county, request.POST, villages)
    rows = [r for r in rows if r["matter"].ledger != Ledger.COMPLAINT]
    return render(request, "matters/partials/similar_public.html", {
        "rows": rows, "same_as": _int(request.POST.get("same_as"))})


def _similar_rows(county: Place, data, villages, *, exclude: int | None = None):
    place = _similar_place(county, data, villages)
    text = f"{data.get('title', '')} {data.get('text', '')}".strip()
    if place is None or len(text) < 4:
        return []
    category = Category.objects.filter(pk=_int(data.get("category")), county=county).first()
    found = [(m, score) for m, score in similar_open_matters(place, category, text)
             if m.pk != exclude]
    ids = [m.pk for m, _s in found]
    full = {m.pk: m for m in Matter.objects.filter(pk__in=ids).select_related("workflow")}
    return [{"matter": full[m.pk], "score": round(score * 100),
             "stage_name": _stage_name(full[m.pk])} for m, score in found if m.pk in full]


def _stage_name(matter: Matter) -> str:
    try:
        return workflow.workflow_of(matter.workflow).stage(matter.stage).get("name", matter.stage)
    except KeyError:
        return matter.stage


@require_GET
def public_done(request):
    code = request.session.get(LAST_RAISED)
    if not code:
        return redirect("matters_public:track")
    track_url = request.build_absolute_uri(reverse("matters_public:track_code", args=[code]))
    return render(request, "matters/public/done.html", {"code": code, "track_url": track_url})


def _clean_code(value: str) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())[:12]


@require_GET
def public_track(request):
    """查询进度: enter the tracking code."""
    raw = request.GET.get("code", "")
    if raw:
        code = _clean_code(raw)
        if code and Matter.objects.filter(tracking_code=code).exists():
            return redirect("matters_public:track_code", code=code)
        return render(request, "matters/public/track.html",
                      {"code": raw, "not_found": True}, status=404)
    return render(request, "matters/public/track.html", {"code": ""})


def _public_matter(code: str) -> Matter | None:
    return (Matter.objects.filter(tracking_code=_clean_code(code))
            .select_related("workflow", "place", "category", "merged_into").first())


@require_GET
def public_track_code(request, code: str):
    """What the holder of a tracking code sees: no names, no phones, no evaluation link."""
    matter = _public_matter(code)
    if matter is None:
        return render(request, "matters/public/track.html",
                      {"code": code, "not_found": True}, status=404)
    places = [*matter.place.ancestors(), matter.place]
    return render(request, "matters/public/matter.html", {
        "matter": matter, "stage_name": _stage_name(matter),
        "places": [p for p in places if p.kind != PlaceKind.HOUSEHOLD],
        "events": queries.public_events(matter),
        "files": list(matter.files.filter(is_public=True)),
        "deadline_state": queries.deadline_state(matter),
        "outcome_shown": bool(matter.outcome and matter.feedback_at),
    })


@require_GET
def public_file(request, code: str, file_id: int):
    matter = _public_matter(code)
    if matter is None:
        raise Http404
    f = get_object_or_404(MatterFile, pk=file_id, matter=matter, is_public=True)
    return _file_response(f)


def _file_response(f: MatterFile) -> FileResponse:
    inline = f.content_type.startswith("image/") or f.content_type == "application/pdf"
    response = FileResponse(f.file.open("rb"), content_type=f.content_type,
                            as_attachment=not inline, filename=f.name)
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


# =============================================================================================
# Staff: raise on a resident's behalf


def _raise_counties(user) -> list[Place]:
    ids = queries.county_ids_of(user, "matters.raise")
    return list(Place.objects.filter(pk__in=ids, kind=PlaceKind.COUNTY).order_by("pk"))


def _staff_county(request, county_id: int | None = None) -> Place:
    counties = _raise_counties(request.user)
    if not counties:
        raise PermissionDenied(_("您没有代群众登记事项的权限。"))
    if county_id is None:
        return counties[0]
    for c in counties:
        if c.pk == county_id:
            return c
    raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def staff_raise(request):
    """代群众登记: staff raise a matter for a resident, by any channel."""
    county = _staff_county(request, _int(request.GET.get("county")))
    can_merge = has_permission(request.user, "matters.merge")
    if request.method == "POST":
        form = StaffRaiseForm(county, request.user, request.POST)
        uploads = request.FILES.getlist("attachments")
        if form.is_valid():
            d = form.cleaned_data
            try:
                target = form.merge_target()
                matter = do_raise_matter(
                    place=form.place, title=d["title"], text=d["text"],
                    channel=d["channel_choice"], ledger=d["ledger"], acting_user=request.user,
                    category=d["category"], urgency=d["urgency"],
                    reporter_person=d["reporter_person"], reporter_name=d["name"],
                    reporter_phone=d["phone"], is_anonymous=d["is_anonymous"],
                    accused_organisation=d["accused_organisation"],
                    accused_user=d["accused_user"], attachments=uploads or None,
                    merge_into=target,
                )
            except ActionForbidden as exc:
                form.add_error(None, str(exc))
            except ActionError as exc:
                _attach_error(form, exc, uploads)
            else:
                if target is not None:  # registered, then merged into the open one
                    messages.success(request, _("已登记并并入事项 %(code)s。") % {
                        "code": target.tracking_code})
                    return redirect("matters:detail", pk=target.pk)
                messages.success(request, _("已登记，查询码 %(code)s。") % {
                    "code": matter.tracking_code})
                return redirect("matters:detail", pk=matter.pk)
        ctx = _raise_context(request, county, form, staff=True, files_lost=bool(uploads))
        ctx.update(_staff_raise_extras(request, county, form, can_merge))
        return render(request, "matters/raise.html", ctx, status=400)
    form = StaffRaiseForm(county, request.user, initial={"urgency": Urgency.NORMAL,
                                                         "channel_choice": Channel.WALK_IN})
    ctx = _raise_context(request, county, form, staff=True)
    ctx.update(_staff_raise_extras(request, county, form, can_merge))
    return render(request, "matters/raise.html", ctx)


def _staff_raise_extras(request, county, form, can_merge) -> dict[str, Any]:
    person = None
    if form.is_bound:
        pid = _int(form.data.get("reporter_person"))
        if pid:
            person = Person.objects.restrict(request.user, "view").filter(pk=pid).first()
    return {"channels": Channel.choices, "counties": _raise_counties(request.user),
            "chosen_person": person, "can_merge": can_merge,
            "organisations": form.fields["accused_organisation"].queryset,
            "accused_users": form.fields["accused_user"].queryset[:300]}


@login_required
@require_GET
def staff_places(request, county_id: int):
    county = _staff_county(request, county_id)
    ctx = picker_context(county, raise_villages(request.user, county),
                         town_id=request.GET.get("town"), village_id=request.GET.get("village"),
                         grid_id=request.GET.get("grid"),
                         url=reverse("matters:places", args=[county.pk]))
    return render(request, "matters/partials/place_picker.html", {"picker": ctx})


@login_required
@require_POST
def staff_similar(request, county_id: int):
    county = _staff_county(request, county_id)
    rows = _similar_rows(county, request.POST, raise_villages(request.user, county))
    visible = set(Matter.objects.restrict(request.user, "view")
                  .filter(pk__in=[r["matter"].pk for r in rows]).values_list("pk", flat=True))
    rows = [r for r in rows if r["matter"].pk in visible]
    place = _similar_place(county, request.POST, raise_villages(request.user, county))
    can_merge = place is not None and has_permission(request.user, "matters.merge", place)
    return render(request, "matters/partials/similar_staff.html", {
        "rows": rows, "can_merge": can_merge, "merge_into": _int(request.POST.get("merge_into"))})


@login_required
@require_GET
def person_search(request):
    """Registered residents by name or phone, within the user's scope (htmx)."""
    term = (request.GET.get("person_q") or request.GET.get("q") or "").strip()[:30]
    visible = Person.objects.restrict(request.user, "view").filter(is_active=True)
    chosen_id = _int(request.GET.get("reporter_person"))
    chosen = (visible.select_related("household", "place").filter(pk=chosen_id).first()
              if chosen_id else None)
    people = []
    if term:
        cond = Q(name__icontains=term)
        if term.isdigit() and len(term) >= 4:
            cond |= Q(phone__endswith=term)
        people = list(visible.filter(cond).select_related("household", "grid", "village")
                      .order_by("name", "pk")[:10])
    return render(request, "matters/partials/person_results.html", {
        "people": people, "term": term, "chosen_person": chosen,
        "chosen": chosen.pk if chosen else None})


# =============================================================================================
# The workbench (我的待办) and the full list (全部事项)


def _filters(request, user) -> tuple[queries.Filters, dict[str, Any]]:
    g = request.GET
    places = queries.filter_places(user)
    place = None
    pid = _int(g.get("place"))
    if pid:
        place = next((p for p in places if p.pk == pid), None)
    counties = queries.county_ids_of(user)
    categories = list(Category.objects.filter(county_id__in=counties, parent__isnull=True,
                                              is_active=True).order_by("county_id", "sort_order",
                                                                       "pk"))
    category = _int(g.get("category"))
    if category not in {c.pk for c in categories}:
        category = None
    f = queries.Filters(
        q=(g.get("q") or "").strip()[:100],
        ledger=g.get("ledger") if g.get("ledger") in Ledger.values else "",
        category=category, place=place,
        channel=g.get("channel") if g.get("channel") in Channel.values else "",
        stage=(g.get("stage") or "")[:40],
        urgency=g.get("urgency") if g.get("urgency") in Urgency.values else "",
        overdue=g.get("overdue") == "1",
        status=g.get("status") if g.get("status") in ("open", "closed", "overdue") else "",
    )
    choices = {"places": places, "categories": categories, "ledgers": Ledger.choices,
               "channels": Channel.choices, "urgencies": Urgency.choices,
               "multi_county": len(counties) > 1}
    return f, choices


def _matter_rows(page_matters, workflows, now) -> list[dict[str, Any]]:
    return [{"matter": m, "stage_name": queries.stage_name(workflows, m.workflow_id, m.stage),
             "deadline": queries.deadline_state(m, now)} for m in page_matters]


def _list_page(request, *, base, template: str, partial: str, extra: dict[str, Any]):
    user = request.user
    now = timezone.now()
    f, choices = _filters(request, user)
    filtered = queries.apply_filters(base, f, include_stage=False, now=now)
    by_pair = queries.stage_counts(filtered)
    workflows = queries.workflows_by_id(w for w, _s in by_pair)
    counts: dict[str, int] = {}
    for (_w, stage), n in by_pair.items():
        counts[stage] = counts.get(stage, 0) + n
    rows_qs = queries.apply_filters(filtered, queries.Filters(stage=f.stage), now=now)
    paginator = Paginator(queries.with_row_relations(queries.ordered_by_deadline(rows_qs)),
                          PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    names = queries.stage_names_by_key(workflows)
    order = queries.stage_order(workflows)
    tabs = sorted(({"stage": s, "name": names.get(s, s), "count": n} for s, n in counts.items()),
                  key=lambda t: (order.get(t["stage"], 999), t["stage"]))
    active = bool(f.ledger or f.category or f.place or f.channel or f.urgency or f.overdue
                  or f.status)
    ctx = {"page": page, "rows": _matter_rows(page.object_list, workflows, now), "filters": f,
           "filters_active": active,
           "tabs": tabs, "total": sum(counts.values()), "now": now,
           "perms_raise": has_permission(user, "matters.raise"),
           "perms_ledgers": has_permission(user, "matters.assign"), **choices, **extra}
    return render_htmx(request, template, partial, ctx)


def _bulk_assign_action():
    try:
        from gongzhi.handling.actions import do_bulk_assign
    except ImportError:  # the handling app is not installed
        return None
    return do_bulk_assign


def _require_matter_user(user) -> None:
    """Staff who read or handle matters, and the units' staff (who see their unit's matters)."""
    if not (has_permission(user, "matters.view") or has_permission(user, "matters.handle")
            or getattr(user, "organisation_id", None)):
        raise PermissionDenied(_("您没有查看事项的权限。"))


@login_required
@require_GET
def workbench(request):
    """我的待办: what the user can act on now, overdue first."""
    user = request.user
    _require_matter_user(user)
    scope = Matter.objects.restrict(user, "view").open()
    base = scope.filter(queries.actionable_q(user, scope))
    can_bulk = _bulk_assign_action() is not None and has_permission(user, "matters.assign")
    extra: dict[str, Any] = {"can_bulk": can_bulk, "mode": "workbench"}
    if can_bulk:
        counties = queries.county_ids_of(user)
        form = BulkAssignForm(counties)
        extra.update(bulk_modes=HandlingMode.choices,
                     bulk_orgs=form.fields["responsible_org"].queryset.order_by("kind", "name"),
                     bulk_users=form.fields["responsible_user"].queryset.order_by("username")[:300])
    return _list_page(request, base=base, template="matters/workbench.html",
                      partial="matters/partials/matter_table.html", extra=extra)


@login_required
@require_GET
def matter_list(request):
    """全部事项: everything the user may see, open and closed."""
    _require_matter_user(request.user)
    base = Matter.objects.restrict(request.user, "view").filter(merged_into__isnull=True)
    return _list_page(request, base=base, template="matters/list.html",
                      partial="matters/partials/matter_table.html",
                      extra={"can_bulk": False, "mode": "list"})


@login_required
@require_POST
def bulk_assign(request):
    do_bulk_assign = _bulk_assign_action()
    back = _safe_next(request, reverse("matters:workbench"))
    if do_bulk_assign is None:
        raise Http404
    ids = [i for i in (_int(v) for v in request.POST.getlist("matters")) if i]
    matters = list(Matter.objects.restrict(request.user, "view").filter(pk__in=ids))
    form = BulkAssignForm(queries.county_ids_of(request.user), request.POST)
    if not form.is_valid():
        messages.error(request, form.error_text())
        return redirect(back)
    if not matters:
        messages.error(request, _("请至少选择一件事项。"))
        return redirect(back)
    d = form.cleaned_data
    try:
        done = do_bulk_assign(matters, acting_user=request.user, mode=d["mode"],
                              responsible_user=d["responsible_user"],
                              responsible_org=d["responsible_org"], due_at=d["due_at"],
                              instructions=d["instructions"])
    except (ActionError, ActionForbidden) as exc:
        text = _errors(exc) if isinstance(exc, ActionError) else str(exc)
        messages.error(request, _("没有交办任何事项：%(error)s") % {"error": text})
    else:
        messages.success(request, _("已交办 %(n)d 件事项。") % {"n": len(done)})
    return redirect(back)


# =============================================================================================
# The three ledgers (三本账)


@login_required
@require_GET
def ledgers(request):
    scopes = queries.ledger_scopes(request.user)
    if not scopes:
        raise PermissionDenied(_("您没有查看事项的权限。"))
    place = scopes[0]
    pid = _int(request.GET.get("place"))
    if pid:
        chosen = Place.objects.filter(pk=pid).first()
        if chosen is None or not any(chosen.ancestor_id(s.kind) == s.pk for s in scopes):
            raise Http404
        place = chosen
    columns, _names = queries.ledger_counts(request.user, place)
    return render(request, "matters/ledgers.html", {
        "place": place, "scopes": scopes, "columns": columns,
        "breakdown": queries.ledger_breakdown(request.user, place),
        "ledger_labels": [label for _v, label in Ledger.choices],
        "trail": [*place.ancestors(), place],
    })


# =============================================================================================
# The matter page


def _load(request, pk: int) -> Matter:
    return get_object_or_404(
        Matter.objects.restrict(request.user, "view").select_related(
            "place", "village", "queue_place", "category", "workflow", "responsible_user",
            "responsible_org", "reporter_person", "accused_organisation", "accused_user",
            "merged_into", "created_by"),
        pk=pk,
    )


def _transition_rows(matter: Matter, user) -> list[dict[str, Any]]:
    wf = workflow.workflow_of(matter.workflow)
    rows = []
    for t in workflow.available_transitions(matter, user):
        requires = t.get("requires") or {}
        fields = list(requires.get("fields") or [])
        if "outcome" in fields and "explanation" not in fields:
            fields.append("explanation")
        try:
            target = wf.stage(t["to"]).get("name", t["to"])
        except KeyError:
            target = t["to"]
        rows.append({"key": t["key"], "name": t.get("name", t["key"]), "target": target,
                     "comment_required": bool(requires.get("comment")),
                     "attachment_required": bool(requires.get("attachment")),
                     "fields": fields, "required_fields": set(requires.get("fields") or []),
                     "simple": not fields and not requires.get("attachment")})
    return rows


def _reporter_context(user, matter: Matter) -> dict[str, Any]:
    visible = reporter_visible_to(user, matter)
    ctx: dict[str, Any] = {"reporter_visible": visible, "reporter": None}
    if visible and not matter.is_complaint:
        reporter = reporter_of(matter)
        if not queries.reporter_may_be_shown(user, matter):
            reporter["phone"] = mask_phone(reporter["phone"])
        ctx["reporter"] = reporter
    return ctx


def _can_note(user, matter: Matter) -> bool:
    if matter.is_closed or matter.merged_into_id:
        return False
    return has_permission(user, "matters.handle", matter.place) or workflow.role_holds(
        user, "responsible", matter)


def detail_context(request, matter: Matter, *, error: str = "", notice: str = "",
                   open_form: str = "", form_data=None) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    transitions = _transition_rows(matter, user)
    needs = {f for t in transitions for f in t["fields"]}
    events = list(MatterEvent.objects.filter(matter=matter)
                  .select_related("actor", "actor__organisation").prefetch_related("files")
                  .order_by("at", "pk"))
    if not reporter_visible_to(user, matter):  # return-visit notes may name the reporter
        for e in events:
            if e.kind == "return_visit":
                e.comment = ""
    files = [f for f in matter.files.all().order_by("uploaded_at", "pk")]
    can_merge = (not matter.is_closed and not matter.merged_into_id
                 and has_permission(user, "matters.merge", matter.place))
    similar = []
    if can_merge:
        visible = Matter.objects.restrict(user, "view")
        found = similar_open_matters(matter.place, matter.category, f"{matter.title} {matter.text}")
        ids = [m.pk for m, _s in found if m.pk != matter.pk]
        by_id = {m.pk: m for m in visible.filter(pk__in=ids)}
        similar = [{"matter": by_id[m.pk], "score": round(s * 100)}
                   for m, s in found if m.pk in by_id]
    same_as = None
    code = (matter.attributes or {}).get("same_as")
    if code:
        same_as = Matter.objects.restrict(user, "view").filter(tracking_code=code).first()
    panels = [mark_safe(render_to_string(panel.template, {"matter": matter, **ctx},  # noqa: S308
                                         request=request))
              for panel, ctx in panels_for(request, matter)]
    return {
        "matter": matter, "now": now, "stage_name": _stage_name(matter),
        "deadline_state": queries.deadline_state(matter, now),
        "trail": [*matter.place.ancestors(), matter.place],
        "transitions": transitions, "events": events, "files": files,
        "outcomes": Outcome.choices, "modes": HandlingMode.choices,
        "organisations": (list(TransitionForm(matter).fields["responsible_org"].queryset)
                          if "responsible_org" in needs else []),
        "users": (list(TransitionForm(matter).fields["responsible_user"].queryset[:300])
                  if "responsible_user" in needs else []),
        "categories": (list(Category.objects.filter(county_id=matter.county_id, is_active=True))
                       if "category" in needs else []),
        "can_note": _can_note(user, matter), "can_merge": can_merge, "similar": similar,
        "same_as": same_as, "panels": panels, "error": error, "notice": notice,
        "open_form": open_form, "form_data": form_data or {},
        **_reporter_context(user, matter),
    }


def _render_detail(request, matter: Matter, *, status: int = 200, **kw):
    ctx = detail_context(request, matter, **kw)
    response = render_htmx(request, "matters/detail.html", "matters/partials/matter_body.html",
                           ctx)
    if not request.htmx:
        response.status_code = status
    return response


@login_required
@require_GET
def detail(request, pk: int):
    return _render_detail(request, _load(request, pk))


def _after_write(request, pk: int, notice: str):
    if request.htmx:
        return _render_detail(request, _load(request, pk), notice=notice)
    messages.success(request, notice)
    return redirect("matters:detail", pk=pk)


def _refused(request, matter: Matter, text: str, *, open_form: str = ""):
    """A refused write: the sentence on the page, the form still filled in, nothing changed."""
    return _render_detail(request, matter, error=text, open_form=open_form,
                          form_data=request.POST, status=400)


@login_required
@require_POST
def transition(request, pk: int):
    matter = _load(request, pk)
    form = TransitionForm(matter, request.POST)
    key = request.POST.get("transition", "")
    if not form.is_valid():
        return _refused(request, matter, form.error_text(), open_form=key)
    d = form.cleaned_data
    try:
        matter = workflow.do_transition(matter, d["transition"], acting_user=request.user,
                                        comment=d["comment"], fields=form.engine_fields(),
                                        attachments=request.FILES.getlist("attachments") or None)
    except (ActionError, ActionForbidden) as exc:
        text = _errors(exc) if isinstance(exc, ActionError) else str(exc)
        return _refused(request, _load(request, pk), text, open_form=key)
    return _after_write(request, pk, _("已执行“%(name)s”，事项进入“%(stage)s”环节。") % {
        "name": _transition_name(matter, d["transition"]),
        "stage": _stage_name(matter)})


def _transition_name(matter: Matter, key: str) -> str:
    for t in workflow.workflow_of(matter.workflow).definition.get("transitions", []):
        if t.get("key") == key:
            return t.get("name", key)
    return key


@login_required
@require_POST
def note(request, pk: int):
    matter = _load(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _refused(request, matter, form.error_text(), open_form="note")
    try:
        do_add_note(matter, form.cleaned_data["text"], acting_user=request.user,
                    is_public=form.cleaned_data["is_public"],
                    attachments=request.FILES.getlist("attachments") or None)
    except (ActionError, ActionForbidden) as exc:
        text = _errors(exc) if isinstance(exc, ActionError) else str(exc)
        return _refused(request, matter, text, open_form="note")
    return _after_write(request, pk, _("已记录办理进展。"))


@login_required
@require_POST
def merge(request, pk: int):
    """Merge this matter into another open one (the duplicate closes, pointing at it)."""
    matter = _load(request, pk)
    into = Matter.objects.restrict(request.user, "view").filter(
        pk=_int(request.POST.get("into"))).first()
    if into is None:
        return _refused(request, matter, _("要并入的事项不存在或已办结。"))
    try:
        do_merge_matters(matter, into, acting_user=request.user)
    except ActionForbidden as exc:
        return _refused(request, matter, str(exc))
    except ActionError as exc:
        return _refused(request, matter, _errors(exc))
    messages.success(request, _("已并入事项 %(code)s。") % {"code": into.tracking_code})
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("matters:detail", args=[into.pk])
        return response
    return redirect("matters:detail", pk=into.pk)


@login_required
@require_POST
def reveal_reporter(request, pk: int):
    """Show a complaint's reporter to a role allowed to see it; every showing is audited."""
    matter = _load(request, pk)
    try:
        reporter = do_view_reporter(matter, acting_user=request.user,
                                    reason=request.POST.get("reason", ""))
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    if not matter.is_complaint and not queries.reporter_may_be_shown(request.user, matter):
        reporter["phone"] = mask_phone(reporter["phone"])
    ctx = {"matter": matter, "reporter": reporter, "reporter_visible": True,
           "revealed": matter.is_complaint}
    if request.htmx:
        return render(request, "matters/partials/reporter.html", ctx)
    full = detail_context(request, matter)
    full.update(ctx)
    return render(request, "matters/detail.html", full)


@login_required
@require_GET
def attachment(request, pk: int, file_id: int):
    """A matter's file, for those who may see the matter (never straight from MEDIA_URL)."""
    matter = _load(request, pk)
    f = get_object_or_404(MatterFile, pk=file_id, matter=matter)
    return _file_response(f)
