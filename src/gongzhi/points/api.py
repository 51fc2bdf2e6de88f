"""积分 through /api/v1/: balances, rules, deeds and their review, month close, redemptions,
rankings.

Objects are loaded through ``restrict`` (404 outside the caller's places); the actions check
the rest (403 when the caller may see but not act, 400 with a sentence when refused).
Evidence files are uploaded on the pages; items that require evidence cannot be declared
through the JSON API.

``POST /points/redemptions`` is idempotent: the client sends an ``idempotency_key`` (8–80
characters, e.g. a UUID made when the sale starts). The first call answers 201; any repeat with
the same key answers 200 with the same redemption and spends nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import MAX_LIMIT, Pagination
from gongzhi.api.params import MAX_OFFSET
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError
from gongzhi.places.models import Place, PlaceKind

from . import actions, ledger, queries
from .labels import row_labels
from .models import (
    Account,
    AccountKind,
    Claim,
    ClaimStatus,
    RankingSnapshot,
    Redemption,
    Shop,
)
from .periods import parse_month
from .rules import current_version, policy_for

router = Router(tags=["points"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class BalanceOut(Schema):
    household_id: int
    balance: int
    earned_this_year: int
    stars: int


class RuleItemOut(Schema):
    id: int
    code: str
    klass: str
    category: str
    description: str
    points: int
    evidence_required: bool
    cap_period: str
    cap_count: int | None
    cap_points: int | None
    recorders: list[str]


class RulesOut(Schema):
    book: str
    version: int
    policy: dict
    classes: list[dict]
    items: list[RuleItemOut]


class ClaimIn(In):
    household: int | None = Field(None, description="a household (residents: their own)")
    account: int | None = Field(None, description="or a person's account in a class")
    rule: int
    occurred_on: date
    occurred_time: time | None = None
    location: str = Field(..., max_length=200)
    reason: str = Field(..., max_length=2000)


class ClaimOut(Schema):
    id: int
    account_id: int
    household_id: int | None
    rule_id: int
    rule_code: str
    points: int
    occurred_on: date
    location: str
    reason: str
    channel: str
    status: str
    review_reason: str
    posted_points: int | None
    transaction_id: int | None
    created_at: datetime


class ReviewIn(In):
    reason: str = Field("", max_length=300)


class MonthCloseIn(In):
    village: int
    month: str = Field(..., description="YYYY-MM", pattern=r"^\d{4}-\d{2}$")


class MonthCloseOut(Schema):
    village_id: int
    month: date
    posting_count: int
    earned_total: int


class LineIn(In):
    good: int
    quantity: int = Field(..., ge=1, le=999)


class RedemptionIn(In):
    shop: int
    card_code: str = Field(..., max_length=80)
    lines: list[LineIn] = Field(..., min_length=1, max_length=20)
    idempotency_key: str = Field(..., min_length=8, max_length=80)


class LineOut(Schema):
    good_id: int
    name: str
    quantity: int
    unit_price: int
    amount: int


class RedemptionOut(Schema):
    id: int
    receipt_no: str
    shop_id: int
    household_id: int
    total: int
    status: str
    transaction_id: int
    created_at: datetime
    balance_after: int
    lines: list[LineOut]


class RowOut(Schema):
    rank: int
    label: str
    total: int
    households: int
    average: float


class ShopOut(Schema):
    id: int
    name: str
    notes: str
    is_active: bool
    village_id: int = Field(..., alias="place_id")
    village_name: str = Field(..., alias="place.name")


class GoodOut(Schema):
    id: int
    name: str
    unit: str
    price: int = Field(..., description="points per unit")
    is_active: bool
    stock: int


class CancelIn(In):
    reason: str = Field(..., max_length=200)


class RankingOut(Schema):
    id: int
    title: str
    place_id: int
    year: int
    quarter: int
    unit: str
    status: str
    notice_until: date | None
    rows: list[RowOut]


def _claim_out(c: Claim) -> dict:
    return {"id": c.pk, "account_id": c.account_id, "household_id": c.household_id,
            "rule_id": c.rule_id, "rule_code": c.rule.code, "points": c.points,
            "occurred_on": c.occurred_on, "location": c.location, "reason": c.reason,
            "channel": c.channel, "status": c.status, "review_reason": c.review_reason,
            "posted_points": c.posted_points, "transaction_id": c.transaction_id,
            "created_at": c.created_at}


def _redemption_out(r: Redemption) -> dict:
    return {"id": r.pk, "receipt_no": r.receipt_no, "shop_id": r.shop_id,
            "household_id": r.household_id, "total": r.total, "status": r.status,
            "transaction_id": r.transaction_id, "created_at": r.created_at,
            "balance_after": ledger.balance(r.account_id),
            "lines": [{"good_id": line.good_id, "name": line.name, "quantity": line.quantity,
                       "unit_price": line.unit_price, "amount": line.amount}
                      for line in r.lines.all()]}


@router.get("/points/households/{household_id}/balance", response={200: BalanceOut, 404: ErrorOut})
def household_balance(request, household_id: int):
    """A household's balance, its earned points this year and its stars."""
    place = get_object_or_404(Place.objects.restrict(request.auth, "view"), pk=household_id,
                              kind=PlaceKind.HOUSEHOLD)
    if not has_permission(request.auth, "points.view", place):
        raise Http404
    account = Account.objects.filter(kind=AccountKind.HOUSEHOLD, household=place).first()
    if account is None:
        return {"household_id": household_id, "balance": 0, "earned_this_year": 0, "stars": 0}
    summary = queries.account_summary(account, timezone.localdate().year)
    return {"household_id": household_id, "balance": summary["balance"],
            "earned_this_year": summary["earned"],
            "stars": queries.stars_for(summary["earned"],
                                       policy_for(place).get("stars", []))}


@router.get("/points/rules", response={200: RulesOut, 404: ErrorOut})
def rules(request, place: int):
    """The rules that apply at a place (its own book, or the nearest one above it)."""
    where = get_object_or_404(Place.objects.restrict(request.auth, "view"), pk=place)
    version = current_version(where)
    if version is None:
        return Status(404, {"detail": _("该地还没有积分细则。")})
    return {"book": version.book.name, "version": version.number, "policy": version.policy,
            "classes": version.classes, "items": list(version.items.all())}


def _rule(version, rule_id: int):
    rule = version.items.filter(pk=rule_id).first() if version else None
    if rule is None:
        raise ActionError(_("请按最新的积分细则选择项目。"))
    return rule


@router.post("/points/claims", response={201: ClaimOut, **ERRORS})
def create_claim(request, payload: ClaimIn):
    """A resident declares a deed of their household, or a collector records one."""
    user = request.auth
    common = {"occurred_on": payload.occurred_on, "occurred_time": payload.occurred_time,
              "location": payload.location, "reason": payload.reason, "acting_user": user}
    if payload.account is not None:
        account = get_object_or_404(Account.objects.restrict(user, "view").exclude(
            kind=AccountKind.POOL), pk=payload.account)
        claim = actions.do_record_deed(account, _rule(current_version(account.place),
                                                      payload.rule), **common)
        return Status(201, _claim_out(claim))
    if payload.household is None:
        raise ActionError(_("请指定户或个人账户。"))
    household = get_object_or_404(Place.objects.restrict(user, "view"), pk=payload.household,
                                  kind=PlaceKind.HOUSEHOLD)
    rule = _rule(current_version(household), payload.rule)
    if actions.resident_households(user).filter(pk=household.pk).exists():
        claim = actions.do_declare_deed(household, rule, **common)
    else:
        claim = actions.do_record_deed(ledger.household_account(household), rule, **common)
    return Status(201, _claim_out(claim))


@router.get("/points/claims", response=list[ClaimOut])
@paginate(Pagination)
def list_claims(request, status: str | None = None, village: int | None = None):
    qs = Claim.objects.restrict(request.auth, "view").select_related("rule")
    if status in ClaimStatus.values:
        qs = qs.filter(status=status)
    if village:
        qs = qs.filter(village_id=village)
    return [_claim_out(c) for c in qs.order_by("occurred_on", "id")]


def _claim(request, claim_id: int) -> Claim:
    return get_object_or_404(Claim.objects.restrict(request.auth, "view").select_related(
        "rule", "place"), pk=claim_id)


@router.post("/points/claims/{claim_id}/approve", response={200: ClaimOut, **ERRORS})
def approve_claim(request, claim_id: int, payload: ReviewIn):
    claim = actions.do_approve_claim(_claim(request, claim_id), acting_user=request.auth,
                                     reason=payload.reason)
    return _claim_out(claim)


@router.post("/points/claims/{claim_id}/reject", response={200: ClaimOut, **ERRORS})
def reject_claim(request, claim_id: int, payload: ReviewIn):
    claim = actions.do_reject_claim(_claim(request, claim_id), acting_user=request.auth,
                                    reason=payload.reason)
    return _claim_out(claim)


@router.post("/points/months/close", response={201: MonthCloseOut, **ERRORS})
def close_month(request, payload: MonthCloseIn):
    village = get_object_or_404(Place.objects.restrict(request.auth, "view"),
                                pk=payload.village, kind=PlaceKind.VILLAGE)
    month = parse_month(payload.month)
    if month is None:
        raise ActionError(_("月份格式应为 YYYY-MM。"))
    mc = actions.do_close_month(village, month, acting_user=request.auth)
    return Status(201, mc)


@router.post("/points/redemptions", response={200: RedemptionOut, 201: RedemptionOut,
                                              **ERRORS})
def redeem(request, payload: RedemptionIn):
    """Redeem goods for a household by card code; idempotent on ``idempotency_key``."""
    shop = get_object_or_404(Shop.objects.restrict(request.auth, "view"), pk=payload.shop)
    redemption, created = actions.do_redeem(
        shop, card_code=payload.card_code, key=payload.idempotency_key,
        lines=[(line.good, line.quantity) for line in payload.lines], acting_user=request.auth)
    return Status(201 if created else 200, _redemption_out(redemption))


@router.get("/points/redemptions/{redemption_id}", response={200: RedemptionOut, 404: ErrorOut})
def get_redemption(request, redemption_id: int):
    r = get_object_or_404(Redemption.objects.restrict(request.auth, "view"), pk=redemption_id)
    return _redemption_out(r)


@router.get("/points/rankings/{ranking_id}", response={200: RankingOut, 404: ErrorOut})
def get_ranking(request, ranking_id: int, limit: int = Query(100, ge=1, le=MAX_LIMIT),
                offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    snap = get_object_or_404(RankingSnapshot.objects.restrict(request.auth, "view")
                             .select_related("place"), pk=ranking_id)
    rows = list(snap.rows.order_by("rank", "place_id")[max(0, offset):max(0, offset)
                                                       + max(1, min(limit, 500))])
    labels = row_labels(snap, rows)
    return {"id": snap.pk, "title": snap.title, "place_id": snap.place_id, "year": snap.year,
            "quarter": snap.quarter, "unit": snap.unit, "status": snap.status,
            "notice_until": snap.notice_until,
            "rows": [{"rank": r.rank, "label": labels.get(r.pk, ""), "total": r.total,
                      "households": r.households, "average": r.average} for r in rows]}


# ---------------------------------------------------------------- the shop


@router.get("/points/shops", response=list[ShopOut])
@paginate(Pagination)
def list_shops(request, village: int | None = None, active: bool | None = None):
    """The points shops (积分超市) of the villages the caller may see."""
    qs = Shop.objects.restrict(request.auth, "view").select_related("place")
    if village is not None:
        qs = qs.filter(place_id=village)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("village_id", "name", "pk")


@router.get("/points/shops/{shop_id}/goods", response={200: list[GoodOut], 404: ErrorOut})
def shop_goods(request, shop_id: int, include_inactive: bool = False):
    """The shelf: each good with its price and the stock left."""
    shop = get_object_or_404(Shop.objects.restrict(request.auth, "view"), pk=shop_id)
    goods = shop.goods.order_by("sort_order", "pk")
    if not include_inactive:
        goods = goods.filter(is_active=True)
    goods = list(goods)
    stock = actions.stocks(g.pk for g in goods)
    return [{"id": g.pk, "name": g.name, "unit": g.unit, "price": g.price,
             "is_active": g.is_active, "stock": stock.get(g.pk, 0)} for g in goods]


@router.post("/points/redemptions/{redemption_id}/cancel",
             response={200: RedemptionOut, **ERRORS})
def cancel_redemption(request, redemption_id: int, payload: CancelIn):
    """Undo a redemption (``points.shop``): the points come back and the goods go back on
    the shelf."""
    r = get_object_or_404(Redemption.objects.restrict(request.auth, "view"), pk=redemption_id)
    actions.do_cancel_redemption(r, reason=payload.reason, acting_user=request.auth)
    r.refresh_from_db()
    return _redemption_out(r)
