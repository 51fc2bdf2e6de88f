"""Pages of 积分 for residents and staff: my points, declaring and recording deeds, the review
queue, month closes, accounts and fixes, rule books, rankings, year ends.

Views translate: parse the request, load objects through ``restrict`` (404 outside the
user's places), call one action, render. A refused action shows its sentence (400); a
forbidden one answers 403. The shop's pages are in ``shop_views.py``, the public board's in
``public_views.py``.
"""

from __future__ import annotations

import secrets
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core.access import grants_with, has_permission, scope_q
from gongzhi.core.errors import ActionForbidden
from gongzhi.places.models import Person, Place, PlaceKind

from . import actions, ledger, queries
from .forms import (
    AnswerForm,
    CorrectionForm,
    DeedForm,
    ItemFormSet,
    PresetForm,
    RankingForm,
    RulesPolicyForm,
    error_text,
)
from .labels import row_labels
from .models import (
    HOUSEHOLD_CLASS,
    Account,
    AccountKind,
    Claim,
    ClaimStatus,
    MonthClose,
    Objection,
    ObjectionStatus,
    Posting,
    RankingSnapshot,
    RankingStatus,
    Redemption,
    RuleBook,
    Transaction,
    TxnKind,
    YearClose,
)
from .periods import month_start, parse_month, quarter_of
from .rules import BOOK_LEVELS, current_version, item_dict, policy_for, rule_book_for

PER_PAGE = 30


def _error(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _places(user, permission: str, kinds) -> list[Place]:
    """Active places of ``kinds`` at or under the user's grants holding ``permission``."""
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    if user.is_superuser:
        qs = Place.objects.filter(kind__in=kinds, is_active=True)
    else:
        q = scope_q(user, permission)
        if q is None:
            return []
        qs = Place.objects.filter(q, kind__in=kinds, is_active=True)
    return list(qs.order_by("county_id", "town_id", "village_id", "sort_order", "pk")[:500])


def _require_any(user, permission: str, message: str) -> None:
    if not has_permission(user, permission):
        raise PermissionDenied(message)


def _crumbs(*pairs) -> list[dict[str, str]]:
    crumbs = [{"label": _("积分"), "url": reverse("points:index")}]
    for label, url in pairs:
        crumbs.append({"label": label, "url": url})
    crumbs[-1]["url"] = ""
    return crumbs


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# =============================================================================================
# Index: my points (residents) and the staff's overview


@login_required
@require_GET
def index(request):
    user = request.user
    if not has_permission(user, "points.view"):
        raise PermissionDenied(_("您没有查看积分的权限。"))
    households = list(actions.resident_households(user))
    mine = []
    year = timezone.localdate().year
    for h in households:
        account = Account.objects.filter(kind=AccountKind.HOUSEHOLD, household=h).first()
        summary = queries.account_summary(account, year) if account else None
        policy = policy_for(h)
        mine.append({
            "place": h, "account": account,
            "balance": summary["balance"] if summary else 0,
            "earned": summary["earned"] if summary else 0,
            "stars": queries.stars_for(summary["earned"] if summary else 0,
                                       policy.get("stars", [])),
            "postings": list(Posting.objects.filter(account=account).select_related(
                "transaction").order_by("-id")[:10]) if account else [],
            "claims": list(Claim.objects.filter(household=h).select_related("rule")
                           .order_by("-created_at", "-id")[:10]),
            "redemptions": list(Redemption.objects.filter(household=h).select_related("shop")
                                .order_by("-created_at")[:10]),
        })
    staff = None
    if any(has_permission(user, p) for p in ("points.record", "points.review", "points.rank",
                                             "points.rules", "points.export")):
        staff = {
            "pending": Claim.objects.restrict(user, "view").filter(
                status=ClaimStatus.PENDING).count(),
            "can_record": has_permission(user, "points.record"),
            "can_review": has_permission(user, "points.review"),
            "can_close": has_permission(user, "points.close"),
            "can_rules": has_permission(user, "points.rules"),
            "can_rank": has_permission(user, "points.rank"),
            "can_year": has_permission(user, "points.year") or has_permission(
                user, "points.export"),
            "can_shop": has_permission(user, "points.shop"),
            "accounts": Account.objects.restrict(user, "view").exclude(
                kind=AccountKind.POOL).count(),
        }
    return render(request, "points/index.html", {
        "mine": mine, "staff": staff, "year": year,
        "crumbs": [{"label": _("积分"), "url": ""}],
    })


# =============================================================================================
# 一日一记录: declaring (residents) and recording (collectors)


def _uploads(request) -> list:
    return request.FILES.getlist("files")


@login_required
@require_http_methods(["GET", "POST"])
def declare(request):
    """A resident declares a deed of their household, from a phone."""
    user = request.user
    households = list(actions.resident_households(user))
    if not households:
        raise PermissionDenied(_("只有居民可以为本户申报积分事项。"))
    household = households[0]
    if len(households) > 1 and _int(request.POST.get("household") or request.GET.get(
            "household")):
        household = next((h for h in households if h.pk == _int(
            request.POST.get("household") or request.GET.get("household"))), household)
    version = current_version(household)
    rules = [r for r in (version.items.all() if version else [])
             if r.klass == HOUSEHOLD_CLASS and "resident" in r.recorders]
    form = DeedForm(request.POST or None, rules=rules)
    context = {"form": form, "households": households, "household": household,
               "version": version, "rules": rules,
               "crumbs": _crumbs((_("申报积分事项"), ""))}
    return _deed_form(request, "points/declare.html", context, form, rules,
                      lambda rule, **kw: actions.do_declare_deed(household, rule, **kw),
                      _("申报已提交，审核后计入积分。"))


def _record_target(request) -> Account | None:
    """The account a collector records for: ?account=, ?household= or ?card=."""
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    account_id, household_id = _int(data.get("account")), _int(data.get("household"))
    card = (data.get("card") or "").strip()
    if account_id:
        return get_object_or_404(Account.objects.restrict(user, "view").exclude(
            kind=AccountKind.POOL).select_related("place", "person"), pk=account_id)
    household = None
    if household_id:
        household = get_object_or_404(Place.objects.restrict(user, "view"), pk=household_id,
                                      kind=PlaceKind.HOUSEHOLD)
    elif card:
        found = actions.household_by_card(card)
        if found is None or not has_permission(user, "points.view", found):
            raise Http404
        household = found
    if household is None:
        return None
    if request.method == "POST":
        return ledger.household_account(household)  # opened on the first deed
    account = Account.objects.filter(kind=AccountKind.HOUSEHOLD, household=household).first()
    if account is None:  # shown, not yet opened: a GET changes nothing
        account = Account(kind=AccountKind.HOUSEHOLD)
        account.set_place(household)
    return account


@login_required
@require_http_methods(["GET", "POST"])
def record(request):
    """A collector (网格员) records a deed for a household or a person in a class."""
    user = request.user
    _require_any(user, "points.record", _("您没有记录积分事项的权限。"))
    account = _record_target(request)
    context = {"account": account, "crumbs": _crumbs((_("记录积分事项"), ""))}
    if account is None:
        grids = _places(user, "points.record", [PlaceKind.GRID])
        households = Place.objects.filter(kind=PlaceKind.HOUSEHOLD, is_active=True,
                                          grid__in=grids).order_by("grid_id", "sort_order",
                                                                   "pk")[:300]
        persons = Account.objects.restrict(user, "view").filter(
            kind=AccountKind.PERSON).select_related("person").order_by("klass", "pk")[:300]
        context.update({"households": households, "persons": persons})
        return render(request, "points/record_pick.html", context)
    version = current_version(account.place)
    rules = [r for r in (version.items.all() if version else [])
             if r.klass == account.klass and actions.may_record(user, account.place, r)]
    form = DeedForm(request.POST or None, rules=rules)
    context.update({"form": form, "version": version, "rules": rules,
                    "balance": ledger.balance(account) if account.pk else 0})
    return _deed_form(request, "points/record.html", context, form, rules,
                      lambda rule, **kw: actions.do_record_deed(account, rule, **kw),
                      _("已记录，待审核后计入积分。"))


def _deed_form(request, template, context, form, rules, submit, success):
    """The shared form flow of declaring and recording a deed: show, validate, call the action."""
    if request.method == "GET":
        return render(request, template, context)
    if not form.is_valid():
        context["error"] = error_text(form)
        return render(request, template, context, status=400)
    d = form.cleaned_data
    rule = next((r for r in rules if r.pk == d["rule"]), None)
    if rule is None:
        context["error"] = _("请选择积分项目。")
        return render(request, template, context, status=400)
    try:
        claim = submit(rule, occurred_on=d["occurred_on"], occurred_time=d["occurred_time"],
                       location=d["location"], reason=d["reason"], files=_uploads(request),
                       acting_user=request.user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        context["error"] = _error(exc)
        return render(request, template, context, status=400)
    messages.success(request, success)
    return redirect("points:claim", pk=claim.pk)


# =============================================================================================
# 一月一审核: the review queue, one claim, month close


def _claims(user, action: str = "view"):
    return Claim.objects.restrict(user, action).select_related(
        "rule", "account", "account__person", "place", "created_by", "reviewed_by")


@login_required
@require_GET
def claims(request):
    user = request.user
    _require_any(user, "points.view", _("您没有查看积分的权限。"))
    qs = _claims(user)
    status = request.GET.get("status", "pending")
    if status in ClaimStatus.values:
        qs = qs.filter(status=status)
    else:
        status = "all"
    month = parse_month(request.GET.get("month", ""))
    if month:
        qs = qs.filter(occurred_on__gte=month, occurred_on__lt=_next(month))
    village = _int(request.GET.get("village"))
    if village:
        qs = qs.filter(village_id=village)
    page = Paginator(qs.order_by("occurred_on", "id") if status == "pending"
                     else qs.order_by("-occurred_on", "-id"), PER_PAGE).get_page(
        request.GET.get("page"))
    reviewable = {c.pk for c in page.object_list
                  if c.status == ClaimStatus.PENDING
                  and has_permission(user, "points.review", c.place)
                  and c.created_by_id != user.pk}
    return render(request, "points/claims.html", {
        "page": page, "claims": page.object_list, "status": status,
        "statuses": ClaimStatus.choices, "month": month.strftime("%Y-%m") if month else "",
        "village": village, "reviewable": reviewable,
        "villages": _places(user, "points.view", [PlaceKind.VILLAGE]),
        "crumbs": _crumbs((_("积分事项"), "")),
    })


def _next(month: date) -> date:
    from .periods import next_month

    return next_month(month)


def _claim_page(request, claim: Claim, *, error: str = "", status: int = 200):
    user = request.user
    can_review = (claim.status == ClaimStatus.PENDING
                  and has_permission(user, "points.review", claim.place))
    cap = None
    if claim.rule.cap_period:
        cap = dict(zip(("count", "points"), actions.cap_use(
            claim.account, claim.rule, claim.occurred_on, include_pending=False), strict=True))
    return render(request, "points/claim.html", {
        "claim": claim, "files": list(claim.files.all()), "error": error,
        "can_review": can_review, "own": claim.created_by_id == user.pk,
        "cap": cap, "balance": ledger.balance(claim.account),
        "fixes": list(claim.transaction.fixes.all()) if claim.transaction_id else [],
        "crumbs": _crumbs((_("积分事项"), reverse("points:claims")),
                          (_("事项 #%(id)d") % {"id": claim.pk}, "")),
    }, status=status)


@login_required
@require_GET
def claim_detail(request, pk: int):
    claim = get_object_or_404(_claims(request.user), pk=pk)
    return _claim_page(request, claim)


@login_required
@require_POST
def claim_review(request, pk: int):
    user = request.user
    claim = get_object_or_404(_claims(user), pk=pk)
    decision, reason = request.POST.get("decision"), request.POST.get("reason", "")
    try:
        if decision == "approve":
            actions.do_approve_claim(claim, acting_user=user, reason=reason)
            messages.success(request, _("已认定，积分已入账。"))
        elif decision == "reject":
            actions.do_reject_claim(claim, acting_user=user, reason=reason)
            messages.success(request, _("已不予认定。"))
        else:
            return _claim_page(request, claim, error=_("请选择认定或不予认定。"), status=400)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        claim.refresh_from_db()
        if request.htmx:
            return HttpResponse(_error(exc), status=400)
        return _claim_page(request, claim, error=_error(exc), status=400)
    if request.htmx:
        claim = get_object_or_404(_claims(user), pk=pk)
        return render(request, "points/partials/claim_row.html",
                      {"c": claim, "reviewable": set()})
    nxt = request.POST.get("next", "")
    if nxt.startswith("/points/"):
        return redirect(nxt)
    return redirect("points:claim", pk=pk)


@login_required
@require_GET
def claim_file(request, pk: int, file_id: int):
    """Evidence, for those who may see the claim (never straight from MEDIA_URL)."""
    claim = get_object_or_404(_claims(request.user), pk=pk)
    f = get_object_or_404(claim.files, pk=file_id)
    inline = f.content_type.startswith("image/") or f.content_type == "application/pdf"
    response = FileResponse(f.file.open("rb"), content_type=f.content_type,
                            as_attachment=not inline, filename=f.name)
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@login_required
@require_GET
def months(request):
    """Month closes per village: pending deeds and closed months for the last year."""
    user = request.user
    _require_any(user, "points.close", _("您没有月度结账的权限。"))
    villages = _places(user, "points.close", [PlaceKind.VILLAGE])
    today = timezone.localdate()
    recent = []
    m = month_start(today)
    for _i in range(12):
        m = date(m.year - (m.month == 1), (m.month - 2) % 12 + 1, 1)
        recent.append(m)
    closed = set(MonthClose.objects.filter(village__in=villages, month__in=recent)
                 .values_list("village_id", "month"))
    pending: dict[tuple[int, date], int] = {}
    for r in Claim.objects.filter(village__in=villages, status=ClaimStatus.PENDING,
                                  occurred_on__gte=recent[-1]).values("village_id",
                                                                      "occurred_on"):
        key = (r["village_id"], month_start(r["occurred_on"]))
        pending[key] = pending.get(key, 0) + 1
    rows = [{"village": v, "months": [
        {"month": mm, "closed": (v.pk, mm) in closed, "pending": pending.get((v.pk, mm), 0)}
        for mm in recent]} for v in villages]
    return render(request, "points/months.html", {
        "rows": rows, "crumbs": _crumbs((_("月度审核结账"), "")),
    })


@login_required
@require_POST
def month_close(request):
    user = request.user
    village = get_object_or_404(Place.objects.restrict(user, "view"),
                                pk=_int(request.POST.get("village")), kind=PlaceKind.VILLAGE)
    month = parse_month(request.POST.get("month", ""))
    if month is None:
        messages.error(request, _("请选择月份。"))
        return redirect("points:months")
    try:
        actions.do_close_month(village, month, acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        messages.error(request, _error(exc))
        return redirect("points:months")
    messages.success(request, _("%(v)s %(m)s 已结账。") % {"v": village.name,
                                                        "m": month.strftime("%Y-%m")})
    return redirect("points:months")


# =============================================================================================
# Accounts, transactions and fixes


@login_required
@require_GET
def accounts(request):
    user = request.user
    _require_any(user, "points.view", _("您没有查看积分的权限。"))
    qs = Account.objects.restrict(user, "view").exclude(kind=AccountKind.POOL).select_related(
        "place", "person", "grid")
    village = _int(request.GET.get("village"))
    if village:
        qs = qs.filter(village_id=village)
    kind = request.GET.get("kind", "")
    if kind in (AccountKind.HOUSEHOLD, AccountKind.PERSON):
        qs = qs.filter(kind=kind)
    page = Paginator(qs.order_by("village_id", "grid_id", "kind", "pk"), PER_PAGE).get_page(
        request.GET.get("page"))
    totals = ledger.balances(a.pk for a in page.object_list)
    rows = [{"a": a, "balance": totals.get(a.pk, 0)} for a in page.object_list]
    return render(request, "points/accounts.html", {
        "page": page, "rows": rows, "village": village, "kind": kind,
        "villages": _places(user, "points.view", [PlaceKind.VILLAGE]),
        "crumbs": _crumbs((_("积分账户"), "")),
    })


def _account_page(request, account: Account, *, form=None, error: str = "", status=200):
    user = request.user
    postings = Posting.objects.filter(account=account).select_related("transaction")
    page = Paginator(postings.order_by("-id"), PER_PAGE).get_page(request.GET.get("page"))
    year = timezone.localdate().year
    summary = queries.account_summary(account, year)
    version = current_version(account.place)
    return render(request, "points/account.html", {
        "account": account, "page": page, "postings": page.object_list, "summary": summary,
        "year": year, "class_label": version.class_label(account.klass) if version else "",
        "stars": queries.stars_for(summary["earned"], policy_for(account.place).get("stars",
                                                                                    [])),
        "can_correct": has_permission(user, "points.correct", account.place),
        "form": form or CorrectionForm(initial={"key": secrets.token_urlsafe(12)}),
        "error": error,
        "crumbs": _crumbs((_("积分账户"), reverse("points:accounts")), (str(account), "")),
    }, status=status)


@login_required
@require_GET
def account_detail(request, pk: int):
    account = get_object_or_404(Account.objects.restrict(request.user, "view").select_related(
        "place", "person"), pk=pk)
    return _account_page(request, account)


@login_required
@require_POST
def account_correct(request, pk: int):
    user = request.user
    account = get_object_or_404(Account.objects.restrict(user, "view").select_related(
        "place", "person"), pk=pk)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        return _account_page(request, account, form=form, error=error_text(form), status=400)
    d = form.cleaned_data
    original = None
    if d["original"]:
        original = get_object_or_404(Transaction.objects.restrict(user, "view"),
                                     pk=d["original"])
    try:
        actions.do_post_correction(account, d["amount"], reason=d["reason"], original=original,
                                   key=d["key"], acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        return _account_page(request, account, form=form, error=_error(exc), status=400)
    messages.success(request, _("更正已入账。"))
    return redirect("points:account", pk=account.pk)


@login_required
@require_GET
def transaction_detail(request, pk: int):
    user = request.user
    txn = get_object_or_404(Transaction.objects.restrict(user, "view").select_related(
        "original", "created_by", "place"), pk=pk)
    postings = list(txn.postings.select_related("account", "account__place",
                                                "account__person"))
    return render(request, "points/transaction.html", {
        "txn": txn, "postings": postings, "fixes": list(txn.fixes.all()),
        "closed": ledger.month_closed(txn.village_id, txn.posted_on) if txn.village_id
        else False,
        "can_reverse": (has_permission(user, "points.correct", txn.place)
                        and txn.kind not in (TxnKind.REVERSAL, TxnKind.REDEMPTION)
                        and not txn.fixes.filter(kind=TxnKind.REVERSAL).exists()),
        "crumbs": _crumbs((_("积分记录 #%(id)d") % {"id": txn.pk}, "")),
    })


@login_required
@require_POST
def transaction_reverse(request, pk: int):
    user = request.user
    txn = get_object_or_404(Transaction.objects.restrict(user, "view"), pk=pk)
    try:
        reversal = actions.do_reverse_transaction(txn, reason=request.POST.get("reason", ""),
                                                  acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        messages.error(request, _error(exc))
        return redirect("points:transaction", pk=pk)
    messages.success(request, _("已冲销。"))
    return redirect("points:transaction", pk=reversal.pk)


# =============================================================================================
# Rule books


@login_required
@require_GET
def rules_index(request):
    user = request.user
    _require_any(user, "points.view", _("您没有查看积分的权限。"))
    editable = _places(user, "points.rules", BOOK_LEVELS)
    visible = _places(user, "points.view", BOOK_LEVELS)
    books = {b.place_id: b for b in RuleBook.objects.filter(place__in=visible)}
    rows = [{"place": p, "book": books.get(p.pk), "can_edit": p in editable,
             "applies": rule_book_for(p)} for p in visible[:100]]
    return render(request, "points/rules_index.html", {
        "rows": rows, "crumbs": _crumbs((_("积分细则"), "")),
    })


def _rules_place(request, place_id: int) -> Place:
    """A county, town or village the user can see, or one above their own places (a
    resident reads the rules of their village)."""
    user = request.user
    place = Place.objects.restrict(user, "view").filter(pk=place_id,
                                                        kind__in=BOOK_LEVELS).first()
    if place is not None:
        return place
    place = get_object_or_404(Place, pk=place_id, kind__in=BOOK_LEVELS, is_active=True)
    own = [g.place_id for g in grants_with(user, "points.view")]
    if not Place.objects.filter(pk__in=own, **{f"{place.kind}_id": place.pk}).exists():
        raise Http404
    return place


@login_required
@require_GET
def rules_detail(request, place_id: int):
    user = request.user
    place = _rules_place(request, place_id)
    _require_any(user, "points.view", _("您没有查看积分的权限。"))
    book = RuleBook.objects.filter(place=place).first()
    applies = rule_book_for(place)
    number = _int(request.GET.get("version"))
    shown = book or applies
    version = None
    if shown is not None:
        version = (shown.versions.filter(number=number).first() if number else shown.current())
    items = list(version.items.all()) if version else []
    classes = version.class_map() if version else {}
    return render(request, "points/rules.html", {
        "place": place, "book": book, "applies": applies, "version": version, "items": items,
        "classes": classes, "policy": {**(version.policy if version else {})},
        "versions": list(shown.versions.all()) if shown else [],
        "can_edit": has_permission(user, "points.rules", place),
        "preset_form": PresetForm(),
        "crumbs": _crumbs((_("积分细则"), reverse("points:rules")), (place.name, "")),
    })


@login_required
@require_POST
def rules_adopt(request, place_id: int):
    user = request.user
    place = _rules_place(request, place_id)
    form = PresetForm(request.POST)
    if not form.is_valid():
        messages.error(request, error_text(form))
        return redirect("points:rules_place", place_id=place.pk)
    try:
        actions.do_adopt_rules(place, form.cleaned_data["preset"], acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        messages.error(request, _error(exc))
        return redirect("points:rules_place", place_id=place.pk)
    messages.success(request, _("已采用积分模板，生成新版本。"))
    return redirect("points:rules_place", place_id=place.pk)


def _policy_initial(version) -> dict:
    policy = {**(version.policy if version else {})}
    return {
        "year_end": policy.get("year_end", "carry_over"),
        "notice_days": policy.get("notice_days", 7),
        "public_label": policy.get("public_label", "both"),
        "shop_name": policy.get("shop_name", "积分超市"),
        "stars": ", ".join(f"{t['stars']}:{t['min']}" for t in policy.get("stars", [])),
        "classes": "\n".join(f"{c['key']}|{c['label']}|{c['subject']}"
                             for c in (version.classes if version else [])),
    }


def _item_initial(version) -> list[dict]:
    out = []
    for item in (version.items.all() if version else []):
        d = item_dict(item)
        out.append({"code": d["code"], "klass": d["klass"], "category": d["category"],
                    "description": d["description"], "points": d["points"],
                    "evidence": d["evidence"], "cap_period": d["cap"]["period"],
                    "cap_count": d["cap"]["count"], "cap_points": d["cap"]["points"],
                    "recorders": d["recorders"]})
    return out


@login_required
@require_http_methods(["GET", "POST"])
def rules_edit(request, place_id: int):
    """Edit the place's own rule book: saving makes a new version."""
    user = request.user
    place = _rules_place(request, place_id)
    if not has_permission(user, "points.rules", place):
        raise PermissionDenied(_("您没有维护该地积分细则的权限。"))
    book = RuleBook.objects.filter(place=place).first()
    if book is None:
        messages.warning(request, _("该地还没有自己的积分细则，请先采用一个模板。"))
        return redirect("points:rules_place", place_id=place.pk)
    version = book.current()
    classes = version.classes if version else []
    if request.method == "GET":
        policy_form = RulesPolicyForm(initial=_policy_initial(version))
        formset = ItemFormSet(initial=_item_initial(version), classes=classes, prefix="items")
        return render(request, "points/rules_edit.html", {
            "place": place, "book": book, "version": version, "policy_form": policy_form,
            "formset": formset,
            "crumbs": _crumbs((_("积分细则"), reverse("points:rules")),
                              (place.name, reverse("points:rules_place", args=[place.pk])),
                              (_("修订"), "")),
        })
    policy_form = RulesPolicyForm(request.POST)
    new_classes = classes
    if policy_form.is_valid() and policy_form.cleaned_data["classes"]:
        new_classes = policy_form.cleaned_data["classes"]
    formset = ItemFormSet(request.POST, classes=new_classes, prefix="items")
    context = {"place": place, "book": book, "version": version, "policy_form": policy_form,
               "formset": formset,
               "crumbs": _crumbs((_("积分细则"), reverse("points:rules")),
                                 (place.name, reverse("points:rules_place", args=[place.pk])),
                                 (_("修订"), ""))}
    if not policy_form.is_valid() or not formset.is_valid():
        parts = [error_text(policy_form)] if policy_form.errors else []
        parts += [error_text(f) for f in formset.forms if f.errors]
        context["error"] = " ".join(p for p in parts if p) or _("请检查填写的内容。")
        return render(request, "points/rules_edit.html", context, status=400)
    p = policy_form.cleaned_data
    items = [i for i in (f.item() for f in formset.forms if f.cleaned_data) if i]
    try:
        actions.do_save_rules(
            book, items=items, classes=new_classes,
            policy={"year_end": p["year_end"], "notice_days": p["notice_days"],
                    "public_label": p["public_label"], "shop_name": p["shop_name"],
                    "stars": p["stars"]},
            note=p["note"], acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        context["error"] = _error(exc)
        return render(request, "points/rules_edit.html", context, status=400)
    messages.success(request, _("积分细则已保存为新版本；此前记录的事项仍按原版本计分。"))
    return redirect("points:rules_place", place_id=place.pk)


@login_required
@require_http_methods(["GET", "POST"])
def classes(request, village_id: int):
    """People scored in classes (富源: cadres and party members): enrol them."""
    user = request.user
    village = get_object_or_404(Place.objects.restrict(user, "view"), pk=village_id,
                                kind=PlaceKind.VILLAGE)
    version = current_version(village)
    person_classes = [c for c in (version.classes if version else [])
                      if c["subject"] == "person"]
    if request.method == "POST":
        person = get_object_or_404(Person.objects.restrict(user, "view"),
                                   pk=_int(request.POST.get("person")), village=village)
        try:
            actions.do_enrol_person(person, request.POST.get("klass", ""), acting_user=user)
        except ActionForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except ValidationError as exc:
            messages.error(request, _error(exc))
        else:
            messages.success(request, _("已编入计分类别。"))
        return redirect("points:classes", village_id=village.pk)
    accounts_qs = Account.objects.restrict(user, "view").filter(
        kind=AccountKind.PERSON, village=village).select_related("person").order_by("klass",
                                                                                    "pk")
    totals = ledger.balances(a.pk for a in accounts_qs)
    enrolled = [{"a": a, "balance": totals.get(a.pk, 0)} for a in accounts_qs]
    people = Person.objects.restrict(user, "view").filter(village=village, is_active=True) \
        .order_by("-is_party_member", "name")[:500]
    return render(request, "points/classes.html", {
        "village": village, "classes": person_classes, "enrolled": enrolled,
        "people": people, "can_enrol": has_permission(user, "points.rules", village),
        "labels": {c["key"]: c["label"] for c in person_classes},
        "crumbs": _crumbs((_("计分类别"), ""), ),
    })


# =============================================================================================
# 一季一评议: rankings and objections


def _snapshots(user):
    return RankingSnapshot.objects.restrict(user, "view").select_related("place")


@login_required
@require_GET
def rankings(request):
    user = request.user
    _require_any(user, "points.view", _("您没有查看积分的权限。"))
    qs = _snapshots(user).annotate(open_objections=Count(
        "objections", filter=Q(objections__status=ObjectionStatus.OPEN)))
    page = Paginator(qs.order_by("-year", "-quarter", "-pk"), PER_PAGE).get_page(
        request.GET.get("page"))
    today = timezone.localdate()
    year, quarter = (today.year, quarter_of(today) - 1) if quarter_of(today) > 1 else (
        today.year - 1, 4)
    rank_places = _places(user, "points.rank", ["county", "town", "village", "grid"])
    form = RankingForm(places=rank_places, initial={"year": year, "quarter": quarter,
                                                    "unit": "household"})
    return render(request, "points/rankings.html", {
        "page": page, "snapshots": page.object_list, "form": form,
        "can_rank": bool(rank_places),
        "crumbs": _crumbs((_("季度排名"), "")),
    })


@login_required
@require_POST
def ranking_new(request):
    user = request.user
    rank_places = _places(user, "points.rank", ["county", "town", "village", "grid"])
    form = RankingForm(request.POST, places=rank_places)
    if not form.is_valid():
        messages.error(request, error_text(form))
        return redirect("points:rankings")
    d = form.cleaned_data
    place = next(p for p in rank_places if p.pk == d["place"])
    try:
        snap = actions.do_compute_ranking(place, d["year"], d["quarter"], unit=d["unit"],
                                          klass=d["klass"] or HOUSEHOLD_CLASS,
                                          acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        messages.error(request, _error(exc))
        return redirect("points:rankings")
    messages.success(request, _("排名已生成（草稿）。"))
    return redirect("points:ranking", pk=snap.pk)


def _ranking_page(request, snap: RankingSnapshot, *, error: str = "", status: int = 200):
    user = request.user
    page = Paginator(snap.rows.order_by("rank", "place_id"), 50).get_page(
        request.GET.get("page"))
    labels = row_labels(snap, page.object_list)
    rows = [{"r": r, "label": labels.get(r.pk, "")} for r in page.object_list]
    can_rank = has_permission(user, "points.rank", snap.place)
    objections = list(snap.objections.select_related("row", "household", "answered_by")
                      .order_by("created_at"))
    return render(request, "points/ranking.html", {
        "snap": snap, "page": page, "rows": rows, "error": error,
        "objections": objections, "can_rank": can_rank,
        "place_unit": snap.unit in ("grid", "village", "town"),
        "can_publish": can_rank and snap.status == RankingStatus.DRAFT,
        "missing": actions.open_months(snap.place, snap.year, snap.quarter)[:12]
        if snap.status == RankingStatus.DRAFT else [],
        "can_finalise": can_rank and snap.status == RankingStatus.PUBLISHED,
        "can_honour": can_rank and snap.status in (RankingStatus.PUBLISHED,
                                                   RankingStatus.FINAL)
        and not snap.honour_list_id and has_permission(user, "board.change"),
        "public_url": reverse("points:public_ranking", args=[snap.place_id, snap.pk])
        if snap.status != RankingStatus.DRAFT else "",
        "answer_form": AnswerForm(),
        "crumbs": _crumbs((_("季度排名"), reverse("points:rankings")), (snap.title, "")),
    }, status=status)


@login_required
@require_GET
def ranking_detail(request, pk: int):
    snap = get_object_or_404(_snapshots(request.user), pk=pk)
    return _ranking_page(request, snap)


@login_required
@require_POST
def ranking_step(request, pk: int, step: str):
    user = request.user
    snap = get_object_or_404(_snapshots(user), pk=pk)
    try:
        if step == "publish":
            actions.do_publish_ranking(snap, acting_user=user)
            messages.success(request, _("排名已发布到公示栏。"))
        elif step == "finalise":
            actions.do_finalise_ranking(snap, acting_user=user)
            messages.success(request, _("排名已定稿。"))
        elif step == "honour":
            hl = actions.do_propose_honour_list(snap, top=_int(request.POST.get("top")) or 10,
                                                acting_user=user)
            messages.success(request, _("红榜草稿已生成，请在红黑榜中提交审批后发布。"))
            return redirect("board:manage_list", pk=hl.pk)
        else:
            raise Http404
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        snap.refresh_from_db()
        return _ranking_page(request, snap, error=_error(exc), status=400)
    return redirect("points:ranking", pk=pk)


@login_required
@require_POST
def objection_answer(request, pk: int):
    user = request.user
    obj = get_object_or_404(Objection.objects.filter(
        snapshot__in=RankingSnapshot.objects.restrict(user, "view")), pk=pk)
    try:
        actions.do_answer_objection(obj, answer=request.POST.get("answer", ""),
                                    acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        messages.error(request, _error(exc))
    else:
        messages.success(request, _("异议已答复。"))
    return redirect("points:ranking", pk=obj.snapshot_id)


# =============================================================================================
# 一年一核算


@login_required
@require_GET
def year(request):
    user = request.user
    if not (has_permission(user, "points.year") or has_permission(user, "points.export")):
        raise PermissionDenied(_("您没有年度核算的权限。"))
    villages = _places(user, "points.export", [PlaceKind.VILLAGE]) or _places(
        user, "points.year", [PlaceKind.VILLAGE])
    this_year = timezone.localdate().year
    years = [this_year - 1, this_year - 2, this_year]
    closes = {(c.village_id, c.year): c for c in YearClose.objects.filter(
        village__in=villages, year__in=years)}
    rows = []
    for v in villages:
        policy = policy_for(v)
        rows.append({"village": v, "policy": policy["year_end"],
                     "can_close": has_permission(user, "points.year", v),
                     "can_stars": has_permission(user, "points.rank", v)
                     and has_permission(user, "board.change", v) and bool(policy.get("stars")),
                     "years": [{"year": y, "close": closes.get((v.pk, y)),
                                "over": y < this_year} for y in years]})
    return render(request, "points/year.html", {
        "rows": rows, "crumbs": _crumbs((_("年度核算"), "")),
    })


def _year_village(request, village_id: int) -> Place:
    return get_object_or_404(Place.objects.restrict(request.user, "view"), pk=village_id,
                             kind=PlaceKind.VILLAGE)


@login_required
@require_POST
def year_close(request, village_id: int, year: int):
    user = request.user
    village = _year_village(request, village_id)
    try:
        yc = actions.do_close_year(village, year, acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        messages.error(request, _error(exc))
        return redirect("points:year")
    messages.success(request, _("%(v)s %(y)d年度核算完成：全年净得分 %(e)d，清零 %(x)d 分。") % {
        "v": village.name, "y": year, "e": yc.earned_total, "x": yc.expired_total})
    return redirect("points:year")


@login_required
@require_GET
def year_export(request, village_id: int, year: int):
    from .export import year_workbook

    user = request.user
    village = _year_village(request, village_id)
    if not has_permission(user, "points.export", village):
        raise PermissionDenied(_("您没有导出积分台账的权限。"))
    if not 2000 <= year <= 2100:
        raise Http404
    content = year_workbook(village, year, acting_user=user)
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="points-{village.pk}-{year}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def year_stars(request, village_id: int, year: int):
    user = request.user
    village = _year_village(request, village_id)
    try:
        hl = actions.do_propose_star_list(village, year, acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        messages.error(request, _error(exc))
        return redirect("points:year")
    messages.success(request, _("星级文明户红榜草稿已生成，请在红黑榜中提交审批后发布。"))
    return redirect("board:manage_list", pk=hl.pk)
