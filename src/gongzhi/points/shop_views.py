"""Pages of the points shop: shops and goods, stock, redeeming at the counter, receipts.

The counter page takes a household's card code (typed, or read by a scanner from the card's
QR code, which carries ``gongzhi:card:<code>``), shows its balance and the goods, and posts
the chosen quantities with a one-time key rendered into the form: submitting the same form
twice (a double tap, a reload) returns the first redemption's receipt and spends nothing more.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionForbidden
from gongzhi.places.models import PlaceKind

from . import actions, ledger
from .forms import GoodForm, ShopForm, StockForm, error_text
from .labels import household_labels
from .models import Good, Redemption, RedemptionStatus, Shop, StockMove
from .rules import policy_for
from .views import _crumbs, _error, _int, _places


def _shops(user):
    return Shop.objects.restrict(user, "view").select_related("place")


def _require_shop(user, shop: Shop) -> None:
    if not has_permission(user, "points.shop", shop.place):
        raise PermissionDenied(_("您没有管理该积分超市的权限。"))


@login_required
@require_http_methods(["GET", "POST"])
def shops(request):
    user = request.user
    if not has_permission(user, "points.shop"):
        raise PermissionDenied(_("您没有管理积分超市的权限。"))
    villages = _places(user, "points.shop", [PlaceKind.VILLAGE])
    form = ShopForm(request.POST or None, villages=villages)
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            village = next(v for v in villages if v.pk == d["village"])
            try:
                shop = actions.do_create_shop(village, name=d["name"], notes=d["notes"],
                                              acting_user=user)
            except ActionForbidden as exc:
                raise PermissionDenied(str(exc)) from exc
            except ValidationError as exc:
                messages.error(request, _error(exc))
            else:
                messages.success(request, _("积分超市已开设。"))
                return redirect("points:shop", pk=shop.pk)
        else:
            messages.error(request, error_text(form))
    return render(request, "points/shop/shops.html", {
        "shops": _shops(user).order_by("village_id", "name"), "form": form,
        "crumbs": _crumbs((_("积分超市"), "")),
    })


def _shop_page(request, shop: Shop, *, good_form=None, error: str = "", status: int = 200):
    goods = list(shop.goods.order_by("sort_order", "pk"))
    stock = actions.stocks(g.pk for g in goods)
    moves = StockMove.objects.filter(good__shop=shop).select_related("good", "created_by") \
        .order_by("-id")[:20]
    redemptions = shop.redemptions.select_related("place").order_by("-created_at", "-id")[:20]
    return render(request, "points/shop/shop.html", {
        "shop": shop, "goods": [{"g": g, "stock": stock.get(g.pk, 0)} for g in goods],
        "good_form": good_form or GoodForm(),
        "stock_key": secrets.token_urlsafe(12),
        "moves": moves, "redemptions": redemptions, "error": error,
        "crumbs": _crumbs((_("积分超市"), reverse("points:shops")), (shop.name, "")),
    }, status=status)


@login_required
@require_GET
def shop_detail(request, pk: int):
    shop = get_object_or_404(_shops(request.user), pk=pk)
    _require_shop(request.user, shop)
    return _shop_page(request, shop)


@login_required
@require_POST
def good_save(request, pk: int, good_id: int | None = None):
    user = request.user
    shop = get_object_or_404(_shops(user), pk=pk)
    good = get_object_or_404(Good, pk=good_id, shop=shop) if good_id else None
    form = GoodForm(request.POST)
    if not form.is_valid():
        return _shop_page(request, shop, good_form=form, error=error_text(form), status=400)
    d = form.cleaned_data
    try:
        actions.do_save_good(shop, name=d["name"], unit=d["unit"], price=d["price"],
                             is_active=d["is_active"], good=good, acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        return _shop_page(request, shop, good_form=form, error=_error(exc), status=400)
    messages.success(request, _("商品已保存。"))
    return redirect("points:shop", pk=shop.pk)


@login_required
@require_POST
def good_stock(request, pk: int, good_id: int):
    user = request.user
    shop = get_object_or_404(_shops(user), pk=pk)
    good = get_object_or_404(Good.objects.select_related("shop", "shop__place"), pk=good_id,
                             shop=shop)
    form = StockForm(request.POST)
    if not form.is_valid():
        return _shop_page(request, shop, error=error_text(form), status=400)
    d = form.cleaned_data
    try:
        actions.do_stock_in(good, d["quantity"], note=d["note"], key=d["key"], kind=d["kind"],
                            acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        return _shop_page(request, shop, error=_error(exc), status=400)
    messages.success(request, _("库存已登记。"))
    return redirect("points:shop", pk=shop.pk)


def _counter(request, shop: Shop, *, card: str, key: str, quantities: dict[int, int],
             error: str = "", status: int = 200):
    household = actions.household_by_card(card) if card else None
    if household is not None and household.village_id != shop.village_id:
        household = None
        error = error or _("该积分卡不属于本村（社区）。")
    elif card and household is None:
        error = error or _("没有找到该积分卡，请核对卡号。")
    balance, label = None, ""
    if household is not None:
        account = ledger.Account.objects.filter(kind="household", household=household).first()
        balance = ledger.balance(account) if account else 0
        label = household_labels([household.pk], policy_for(household))[household.pk]
    goods = list(shop.goods.filter(is_active=True).order_by("sort_order", "pk"))
    stock = actions.stocks(g.pk for g in goods)
    return render(request, "points/shop/redeem.html", {
        "shop": shop, "card": card, "household": household, "label": label,
        "balance": balance, "key": key or secrets.token_urlsafe(16), "error": error,
        "goods": [{"g": g, "stock": stock.get(g.pk, 0), "qty": quantities.get(g.pk, 0)}
                  for g in goods],
        "crumbs": _crumbs((_("积分超市"), reverse("points:shops")),
                          (shop.name, reverse("points:shop", args=[shop.pk])), (_("兑换"), "")),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def redeem(request, pk: int):
    user = request.user
    shop = get_object_or_404(_shops(user), pk=pk)
    _require_shop(user, shop)
    if request.method == "GET":
        return _counter(request, shop, card=(request.GET.get("card") or "").strip(), key="",
                        quantities={})
    card = (request.POST.get("card") or "").strip()
    key = (request.POST.get("key") or "").strip()
    quantities: dict[int, int] = {}
    for name, value in request.POST.items():
        if name.startswith("qty_") and (gid := _int(name[4:])) is not None:
            qty = _int(value)
            if qty is None or qty < 0:
                return _counter(request, shop, card=card, key=key, quantities=quantities,
                                error=_("兑换数量应为不小于零的整数。"), status=400)
            quantities[gid] = qty
    try:
        redemption, created = actions.do_redeem(shop, card_code=card, key=key,
                                                lines=list(quantities.items()),
                                                acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        return _counter(request, shop, card=card, key=key, quantities=quantities,
                        error=_error(exc), status=400)
    if created:
        messages.success(request, _("兑换成功。"))
    else:
        messages.info(request, _("这张兑换单已经提交过，没有重复扣分。"))
    return redirect("points:receipt", pk=redemption.pk)


@login_required
@require_GET
def receipt(request, pk: int):
    """The receipt: the shop's copy and the household's. A resident sees their own."""
    user = request.user
    redemption = get_object_or_404(Redemption.objects.restrict(user, "view").select_related(
        "shop", "place", "transaction", "created_by", "cancelled_by"), pk=pk)
    staff = has_permission(user, "points.shop", redemption.shop.place)
    label = household_labels([redemption.household_id], policy_for(redemption.place))[
        redemption.household_id]
    return render(request, "points/shop/receipt.html", {
        "r": redemption, "lines": list(redemption.lines.all()), "label": label,
        "staff": staff, "balance_after": ledger.balance(redemption.account_id),
        "can_cancel": staff and redemption.status == RedemptionStatus.DONE,
        "crumbs": _crumbs((_("兑换凭证 %(no)s") % {"no": redemption.receipt_no}, "")),
    })


@login_required
@require_POST
def redemption_cancel(request, pk: int):
    user = request.user
    redemption = get_object_or_404(Redemption.objects.restrict(user, "view").select_related(
        "shop", "shop__place"), pk=pk)
    try:
        actions.do_cancel_redemption(redemption, reason=request.POST.get("reason", ""),
                                     acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        messages.error(request, _error(exc))
    else:
        messages.success(request, _("兑换已撤销，积分已退回，商品已退回库存。"))
    return redirect("points:receipt", pk=pk)


@login_required
@require_GET
def redemptions(request):
    user = request.user
    if not has_permission(user, "points.view"):
        raise PermissionDenied(_("您没有查看积分的权限。"))
    qs = Redemption.objects.restrict(user, "view").select_related("shop", "place")
    page = Paginator(qs.order_by("-created_at", "-id"), 30).get_page(request.GET.get("page"))
    return render(request, "points/shop/redemptions.html", {
        "page": page, "redemptions": page.object_list,
        "crumbs": _crumbs((_("兑换记录"), "")),
    })
