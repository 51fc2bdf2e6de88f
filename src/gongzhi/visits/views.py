"""Pages of 大走访: record a visit from a phone, a visit's page (turn a need into a matter),
the visits list, the secretary's weekly standing of cadres, coverage, and the quota settings.

Views translate: they parse, load through the access functions (anything outside the user's
scope is a 404), call one action and render.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.accounts.roles import Role
from gongzhi.board.anonymise import mask_numbers
from gongzhi.core.access import grants_with, has_permission
from gongzhi.core.errors import ActionError
from gongzhi.matters.models import Category, Ledger
from gongzhi.places.models import Household, Person, Place, PlaceKind, Relation

from . import actions, coverage, quota
from .access import (
    holds_over,
    households_for,
    matters_shown,
    may_see_numbers,
    root_places,
    scope_place,
)
from .forms import CoverageForm, QuotaForm, VisitForm, VisitMatterForm
from .models import Visit, VisitKind, VisitQuota

PAGE_SIZE = 30
SEARCH_LIMIT = 20
SUGGESTIONS = 8


def _errors(exc: ActionError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _members(household_id: int) -> list[Person]:
    return sorted(Person.objects.filter(household_id=household_id, is_active=True),
                  key=lambda p: (p.relation != Relation.HEAD, p.pk))


def _crumbs(user, place: Place, permission: str, url_name: str) -> list[dict]:
    """From the highest place where the permission holds down to ``place``."""
    chain = [*place.ancestors(), place]
    crumbs = []
    for p in chain:
        if has_permission(user, permission, p):
            crumbs.append({"label": p.name,
                           "url": None if p.pk == place.pk else
                           f"{reverse(url_name)}?place={p.pk}"})
    return crumbs


def _visit_rows(user, visits) -> list[dict]:
    rows = []
    for v in visits:
        notes = v.notes if holds_over(user, "people.view_sensitive", v) else mask_numbers(v.notes)
        rows.append({"visit": v, "notes": notes})
    return rows


def _visits_qs(user):
    return (Visit.objects.restrict(user, "view")
            .select_related("household__household_record", "grid", "visitor")
            .prefetch_related("met"))


# ---------------------------------------------------------------------------------------------
# The list


@never_cache
@login_required
def index(request):
    """My standing this week, and the visits I may see, newest first, with filters."""
    user = request.user
    can_record = has_permission(user, "visits.record")
    can_view = has_permission(user, "visits.view")
    if not (can_record or can_view):
        raise PermissionDenied(_("您没有查看入户走访的权限。"))
    qs = _visits_qs(user)
    get = request.GET
    scope = None
    if get.get("place"):
        scope = scope_place(user, "visits.view", get.get("place"))
        qs = qs.filter(scope.scope_q())
    if get.get("mine") == "1" or not can_view:
        qs = qs.filter(visitor=user)
    if get.get("kind") in VisitKind.values:
        qs = qs.filter(kind=get["kind"])
    start, end = _date(get.get("from")), _date(get.get("to"))
    if start:
        qs = qs.filter(visited_on__gte=start)
    if end:
        qs = qs.filter(visited_on__lte=end)
    page = Paginator(qs.order_by("-visited_on", "-pk"), PAGE_SIZE).get_page(get.get("page"))
    return render(request, "visits/index.html", {
        "standing": quota.own_standing(user) if can_record else None,
        "page": page, "rows": _visit_rows(user, page.object_list),
        "kinds": VisitKind.choices, "scope": scope,
        "can_record": can_record, "can_view": can_view,
        "can_oversee": has_permission(user, "visits.oversee"),
        "can_configure": has_permission(user, "visits.configure"),
        "filters": {"kind": get.get("kind", ""), "from": get.get("from", ""),
                    "to": get.get("to", ""), "mine": get.get("mine") == "1"},
        "week": _week_label(timezone.localdate()),
    })


def _date(text: str | None) -> dt.date | None:
    try:
        return parse_date(text or "")
    except ValueError:  # well formed but no such day
        return None


def _week_label(day: dt.date) -> dict:
    monday = quota.week_start(day)
    return {"start": monday, "end": monday + dt.timedelta(days=6),
            "last_start": monday - dt.timedelta(days=7),
            "last_end": monday - dt.timedelta(days=1)}


# ---------------------------------------------------------------------------------------------
# Recording a visit (made for a phone)


def _household(user, household_id) -> Household:
    try:
        pk = int(household_id)
    except (TypeError, ValueError):
        raise Http404 from None
    return get_object_or_404(households_for(user).select_related("place", "place__grid"), pk=pk)


def _searchable(user):
    return (households_for(user).select_related("place", "place__grid")
            .annotate(head=coverage.head_name(), last_visit=coverage.last_visit(),
                      is_special=coverage.special_member()))


def _suggestions(user) -> list[Household]:
    """With nothing typed: the households most due for a visit, for a cadre whose scope is a
    village or a grid (a larger scope would be a long list to sort)."""
    grants = grants_with(user, "visits.record")
    if not grants or any(g.kind in (PlaceKind.COUNTY, PlaceKind.TOWN) for g in grants):
        return []
    return list(_searchable(user).order_by(
        "-is_special", F("last_visit").asc(nulls_first=True), "pk")[:SUGGESTIONS])


def _search(user, text: str) -> list[Household]:
    text = text.strip()[:60]
    if not text:
        return _suggestions(user)
    people = Person.objects.filter(name__icontains=text, is_active=True).values("household_id")
    return list(_searchable(user).filter(
        Q(address__icontains=text) | Q(card_code__icontains=text) | Q(place__name__icontains=text)
        | Q(pk__in=people)).order_by("address", "pk")[:SEARCH_LIMIT])


@never_cache
@login_required
def household_search(request):
    """The household picker's results (htmx): by address, head's name or card code."""
    if not has_permission(request.user, "visits.record"):
        raise PermissionDenied(_("您没有录入走访的权限。"))
    text = request.GET.get("q", "")
    return render(request, "visits/partials/household_results.html", {
        "households": _search(request.user, text), "q": text.strip(),
    })


@never_cache
@login_required
def record(request):
    user = request.user
    if not has_permission(user, "visits.record"):
        raise PermissionDenied(_("您没有录入走访的权限。"))
    household = None
    q = request.GET.get("q", "").strip() if request.method == "GET" else ""
    if request.method == "POST":
        household = _household(user, request.POST.get("household")) if request.POST.get(
            "household") else None
        members = _members(household.pk) if household else []
        form = VisitForm(request.POST, member_ids=[m.pk for m in members])
        if form.is_valid() and household is not None:
            d = form.cleaned_data
            need = None
            if d["raise_matter"]:
                need = {"title": d["matter_title"], "ledger": d["matter_ledger"],
                        "category": _category(household.county_id, d.get("matter_category"))}
            try:
                visit = actions.do_record_visit(
                    household, acting_user=user, kind=d["kind"], visited_on=d["visited_on"],
                    met=d["met"], nobody_home=d["nobody_home"], notes=d["notes"],
                    photos=request.FILES.getlist("photos"), need=need)
            except ActionError as exc:
                form.add_error(None, _errors(exc))
            else:
                link = visit.visit_matters.select_related("matter").first()
                if link:
                    messages.success(request, _("走访已记录，需求已登记为事项 %(code)s。") % {
                        "code": link.matter.tracking_code})
                else:
                    messages.success(request, _("走访已记录。"))
                return redirect("visits:detail", visit.pk)
        status = 400
    else:
        if request.GET.get("household"):
            household = _household(user, request.GET["household"])
        members = _members(household.pk) if household else []
        form = VisitForm(member_ids=[m.pk for m in members])
        status = 200
    county_id = household.county_id if household else user.county_id
    return render(request, "visits/record.html", {
        "form": form, "household": household, "members": members,
        "met": [int(x) for x in form["met"].value() or [] if str(x).isdigit()],
        "kinds": VisitKind.choices, "ledgers": Ledger.choices,
        "categories": _categories(county_id) if county_id else [],
        "q": q, "households": _search(user, q) if household is None else [],
        "today": timezone.localdate(),
        "standing": quota.own_standing(user),
    }, status=status)


def _categories(county_id: int) -> list[Category]:
    return list(Category.objects.filter(county_id=county_id, is_active=True)
                .order_by("sort_order", "pk"))


def _category(county_id: int, category_id) -> Category | None:
    if not category_id:
        return None
    return Category.objects.filter(county_id=county_id, pk=category_id, is_active=True).first()


# ---------------------------------------------------------------------------------------------
# One visit


def _load(request, pk: int) -> Visit:
    return get_object_or_404(Visit.objects.restrict(request.user, "view").select_related(
        "household__household_record", "grid", "village", "visitor", "visitor_place"), pk=pk)


def _may_raise(user, visit: Visit) -> bool:
    return ((visit.visitor_id == user.pk or holds_over(user, "visits.record", visit))
            and holds_over(user, "matters.raise", visit))


@never_cache
@login_required
def detail(request, pk: int):
    user = request.user
    visit = _load(request, pk)
    links = list(visit.visit_matters.select_related("matter__place").order_by("created_at",
                                                                              "pk"))
    shown = matters_shown(user, links)
    met = sorted(visit.met.all(), key=lambda p: (p.relation != Relation.HEAD, p.pk))
    return render(request, "visits/detail.html", {
        "visit": visit, "household": visit.household.household_record, "met": met,
        "notes": visit.notes if may_see_numbers(user, visit.household) else mask_numbers(
            visit.notes),
        "photos": list(visit.photos.all()),
        "links": [{"link": link, "url": reverse("matters:detail", args=[link.matter_id])}
                  for link in links if link.matter_id in shown],
        "may_raise": _may_raise(user, visit),
        "ledgers": Ledger.choices,
        "categories": _categories(visit.county_id),
        "reporter": actions.default_reporter(visit) if met else None,
        "form": VisitMatterForm(initial={"ledger": Ledger.CLAIM}),
    })


@require_POST
@login_required
def raise_matter(request, pk: int):
    """这条需求转为事项: one step, linked both ways."""
    user = request.user
    visit = _load(request, pk)
    form = VisitMatterForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
        return redirect("visits:detail", visit.pk)
    d = form.cleaned_data
    reporter = None
    if d.get("reporter_person"):
        reporter = visit.met.filter(pk=d["reporter_person"]).first()
        if reporter is None:
            messages.error(request, _("反映人应是这次走访见到的人。"))
            return redirect("visits:detail", visit.pk)
    try:
        matter = actions.do_raise_visit_matter(
            visit, acting_user=user, title=d["title"], text=d["text"], ledger=d["ledger"],
            category=_category(visit.county_id, d.get("category")), reporter_person=reporter)
    except ActionError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("已登记为事项 %(code)s，并与这次走访关联。") % {
            "code": matter.tracking_code})
    return redirect("visits:detail", visit.pk)


@never_cache
@login_required
def photo(request, pk: int, photo_id: int):
    """A visit's photo, for those who may see the visit (never straight from MEDIA_URL)."""
    visit = _load(request, pk)
    p = get_object_or_404(visit.photos, pk=photo_id)
    response = FileResponse(p.file.open("rb"), content_type=p.content_type, filename=p.name)
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


# ---------------------------------------------------------------------------------------------
# The secretary's page: each cadre's week against the quota


@never_cache
@login_required
def quota_standing(request):
    user = request.user
    if not has_permission(user, "visits.oversee"):
        raise PermissionDenied(_("您没有查看干部走访任务完成情况的权限。"))
    scope = scope_place(user, "visits.oversee", request.GET.get("place"))
    today = timezone.localdate()
    rows = quota.standings(quota.cadres(quota.grants_under(scope)), today)
    children = (list(Place.objects.filter(parent=scope, is_active=True).order_by(
        "sort_order", "pk")) if scope.kind in (PlaceKind.COUNTY, PlaceKind.TOWN) else [])
    return render(request, "visits/quota.html", {
        "scope": scope, "rows": rows, "week": _week_label(today), "children": children,
        "behind": sum(1 for r in rows if r.behind), "met": sum(1 for r in rows if not r.behind),
        "crumbs": _crumbs(user, scope, "visits.oversee", "visits:quota"),
        "can_configure": has_permission(user, "visits.configure"),
    })


# ---------------------------------------------------------------------------------------------
# Coverage: households not visited for N days


@never_cache
@login_required
def coverage_page(request):
    user = request.user
    if not has_permission(user, "visits.view"):
        raise PermissionDenied(_("您没有查看走访覆盖情况的权限。"))
    scope = scope_place(user, "visits.view", request.GET.get("place"))
    form = CoverageForm(request.GET)
    days, special = coverage.DAY_CHOICES[0], False
    if form.is_valid():
        days = form.cleaned_data["other"] or form.cleaned_data["days"] or days
        special = form.cleaned_data["special"]
    today = timezone.localdate()
    qs = coverage.not_visited(scope, days, today, special_only=special)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    households = list(page.object_list)
    labels = coverage.group_labels([h.pk for h in households])
    return render(request, "visits/coverage.html", {
        "scope": scope, "days": days, "special": special, "day_choices": coverage.DAY_CHOICES,
        "since": coverage.cutoff(days, today), "today": today, "page": page,
        "rows": [{"household": h, "groups": labels.get(h.pk, []),
                  "days_ago": (today - h.last_visit).days if h.last_visit else None}
                 for h in households],
        "summary": coverage.summary(scope, days, today),
        "child_kind": coverage.child_kind(scope),
        "crumbs": _crumbs(user, scope, "visits.view", "visits:coverage"),
        "can_record": has_permission(user, "visits.record"),
        "form_errors": form.errors,
    })


# ---------------------------------------------------------------------------------------------
# The quota settings


def _configurable_places(user) -> list[Place]:
    """Where the user may set quotas: their grant places and, beneath, towns and villages."""
    roots = root_places(user, "visits.configure")
    q = Q(pk__in=[p.pk for p in roots])
    for p in roots:
        q |= p.scope_q() & Q(kind__in=[PlaceKind.TOWN, PlaceKind.VILLAGE])
    return list(Place.objects.filter(q, is_active=True).order_by("county_id", "town_id",
                                                                 "village_id", "pk")[:1000])


@never_cache
@login_required
def quotas(request):
    user = request.user
    if not has_permission(user, "visits.configure"):
        raise PermissionDenied(_("您没有设置走访任务量的权限。"))
    places = _configurable_places(user)
    by_id = {p.pk: p for p in places}
    counties = sorted({p.county_id for p in places})
    form = QuotaForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("remove"):
            row = get_object_or_404(VisitQuota, pk=request.POST["remove"],
                                    county_id__in=counties)
            try:
                actions.do_remove_visit_quota(row, acting_user=user)
            except ActionError as exc:
                messages.error(request, _errors(exc))
            else:
                messages.success(request, _("已删除这条任务量设置。"))
            return redirect("visits:quotas")
        if form.is_valid():
            d = form.cleaned_data
            place = by_id.get(d["place"]) if d.get("place") else None
            if d.get("place") and place is None:
                raise Http404
            county = Place.objects.get(pk=place.county_id if place else counties[0])
            if place is not None and place.kind == PlaceKind.COUNTY:
                place = None
            try:
                actions.do_set_visit_quota(county, d["role"], d["per_week"], acting_user=user,
                                           place=place)
            except ActionError as exc:
                messages.error(request, _errors(exc))
            else:
                messages.success(request, _("走访任务量已保存。"))
                return redirect("visits:quotas")
    rows = list(VisitQuota.objects.filter(county_id__in=counties)
                .select_related("place", "county").order_by("role", "place_id"))
    return render(request, "visits/quotas.html", {
        "rows": rows, "form": form, "places": places,
        "roles": [(r, label) for r, label in Role.choices if r in quota.recording_roles()],
        "default_per_week": quota.DEFAULT_PER_WEEK,
        "default_roles": [Role(r).label for r in quota.DEFAULT_QUOTA_ROLES],
    }, status=400 if form.errors else 200)

