"""The points shop: stock, redemptions at the counter, refusals, idempotent resubmission,
receipts on both sides, cancellation, the API."""

from __future__ import annotations

import pytest
from django.test import Client

from gongzhi.core.errors import ActionError
from gongzhi.points import actions, ledger
from gongzhi.points.models import Redemption, RedemptionStatus, StockMove, Transaction, TxnKind
from gongzhi.testing import api_client, login_client

from .helpers import adopt, grant_points, stocked_shop


@pytest.fixture
def shop(tree):
    adopt(tree)
    grant_points(tree, tree.household.place, 20)
    return stocked_shop(tree, price=5, stock=3)


def balance(tree) -> int:
    return ledger.balance(ledger.household_account(tree.household.place))


def redeem(client, shop, card, key, **qty):
    data = {"card": card, "key": key}
    data.update({f"qty_{gid}": str(q) for gid, q in qty.items()})
    return client.post(f"/points/shops/{shop.pk}/redeem/", data)


def test_stock_in_is_idempotent_and_never_below_zero(tree, shop):
    shop, good = shop
    keeper = tree.user("shop_keeper")
    client = login_client(keeper)
    data = {"quantity": "4", "kind": "stock_in", "key": "stock-form-0001"}
    assert client.post(f"/points/shops/{shop.pk}/goods/{good.pk}/stock/", data).status_code == 302
    assert client.post(f"/points/shops/{shop.pk}/goods/{good.pk}/stock/", data).status_code == 302
    assert actions.stock_of(good) == 7
    r = client.post(f"/points/shops/{shop.pk}/goods/{good.pk}/stock/",
                    {"quantity": "-8", "kind": "adjustment", "note": "盘亏", "key": "adj-0001"})
    assert r.status_code == 400 and "库存不能为负" in r.content.decode()
    r = client.post(f"/points/shops/{shop.pk}/goods/{good.pk}/stock/",
                    {"quantity": "-2", "kind": "adjustment", "note": "破损", "key": "adj-0002"})
    assert r.status_code == 302 and actions.stock_of(good) == 5
    page = client.get(f"/points/shops/{shop.pk}/").content.decode()
    assert "洗衣粉" in page and "盘点调整" in page


def test_redemption_and_receipts_on_both_sides(tree, shop):
    shop, good = shop
    keeper = login_client(tree.user("shop_keeper"))
    card = tree.household.card_code
    counter = keeper.get(f"/points/shops/{shop.pk}/redeem/?card={card}").content.decode()
    assert "高城寨村1号 · 张**" in counter and "可用积分 <strong>20</strong>" in counter
    r = redeem(keeper, shop, card, "sale-form-0001", **{str(good.pk): 2})
    assert r.status_code == 302
    redemption = Redemption.objects.get()
    assert r["Location"] == f"/points/redemptions/{redemption.pk}/"
    assert (redemption.total, balance(tree), actions.stock_of(good)) == (10, 10, 1)
    shop_copy = keeper.get(f"/points/redemptions/{redemption.pk}/").content.decode()
    assert "超市联" in shop_copy and "农户联" in shop_copy and redemption.receipt_no in shop_copy
    resident = login_client(tree.user("resident"))
    own = resident.get(f"/points/redemptions/{redemption.pk}/").content.decode()
    assert "农户联" in own and "超市联" not in own and "撤销兑换" not in own
    assert redemption.receipt_no in resident.get("/points/").content.decode()
    # Nobody else's household sees it.
    assert login_client(tree.user("grid_worker")).get(
        f"/points/redemptions/{redemption.pk}/").status_code == 200  # the grid's worker does
    from gongzhi.accounts.actions import do_create_user, do_grant_role

    neighbour = do_create_user("u_neighbour", acting_user=None, password="x" * 12)
    do_grant_role(neighbour, "resident", tree.household2.place, acting_user=None)
    assert login_client(neighbour).get(
        f"/points/redemptions/{redemption.pk}/").status_code == 404


def test_insufficient_balance_and_out_of_stock_change_nothing(tree, shop):
    shop, good = shop
    keeper = login_client(tree.user("shop_keeper"))
    card = tree.household.card_code
    r = redeem(keeper, shop, card, "sale-form-0002", **{str(good.pk): 4})
    assert r.status_code == 400 and "库存不足" in r.content.decode()
    rich = actions.do_save_good(shop, name="电饭煲", price=50, acting_user=tree.user("shop_keeper"))
    actions.do_stock_in(rich, 2, acting_user=tree.user("shop_keeper"))
    r = redeem(keeper, shop, card, "sale-form-0003", **{str(rich.pk): 1})
    assert r.status_code == 400 and "积分余额不足：现有 20 分，需要 50 分" in r.content.decode()
    assert not Redemption.objects.exists()
    assert not Transaction.objects.filter(kind=TxnKind.REDEMPTION).exists()
    assert balance(tree) == 20 and actions.stock_of(good) == 3
    r = redeem(keeper, shop, "NO-SUCH-CARD", "sale-form-0004", **{str(good.pk): 1})
    assert r.status_code == 400 and "积分卡" in r.content.decode()
    r = redeem(keeper, shop, tree.other_household.card_code, "sale-form-0005",
               **{str(good.pk): 1})
    assert r.status_code == 400
    r = redeem(keeper, shop, card, "sale-form-0006")
    assert r.status_code == 400 and "至少选择一件" in r.content.decode()


def test_repeated_submission_spends_once(tree, shop):
    shop, good = shop
    keeper = login_client(tree.user("shop_keeper"))
    card = f"gongzhi:card:{tree.household.card_code}"  # as a scanner reads the QR code
    first = redeem(keeper, shop, card, "sale-form-0007", **{str(good.pk): 1})
    again = redeem(keeper, shop, card, "sale-form-0007", **{str(good.pk): 1})
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Redemption.objects.count() == 1 and balance(tree) == 15
    assert actions.stock_of(good) == 2
    assert StockMove.objects.filter(kind="redemption").count() == 1
    # A form without its key is refused rather than risk spending twice.
    r = redeem(keeper, shop, card, "", **{str(good.pk): 1})
    assert r.status_code == 400 and Redemption.objects.count() == 1
    assert ledger.reconcile() == []


def test_cancelling_returns_points_and_goods(tree, shop):
    shop, good = shop
    redemption, created = actions.do_redeem(shop, card_code=tree.household.card_code,
                                            lines=[(good.pk, 3)], key="sale-cancel-0001",
                                            acting_user=tree.user("shop_keeper"))
    assert created and balance(tree) == 5 and actions.stock_of(good) == 0
    keeper = login_client(tree.user("shop_keeper"))
    assert keeper.post(f"/points/redemptions/{redemption.pk}/cancel/",
                       {"reason": "商品有破损"}).status_code == 302
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED
    assert balance(tree) == 20 and actions.stock_of(good) == 3
    with pytest.raises(ActionError, match="撤销过"):
        actions.do_cancel_redemption(redemption, reason="again",
                                     acting_user=tree.user("shop_keeper"))
    assert login_client(tree.user("resident")).post(
        f"/points/redemptions/{redemption.pk}/cancel/", {"reason": "x"}).status_code == 403
    assert ledger.reconcile() == []


def test_redemption_api_is_idempotent(tree, shop):
    shop, good = shop
    client, headers = api_client(tree.user("shop_keeper"))
    body = {"shop": shop.pk, "card_code": tree.household.card_code,
            "lines": [{"good": good.pk, "quantity": 2}], "idempotency_key": "api-sale-0001"}
    first = client.post("/api/v1/points/redemptions", body, content_type="application/json",
                        headers=headers)
    assert first.status_code == 201, first.content
    again = client.post("/api/v1/points/redemptions", body, content_type="application/json",
                        headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert first.json()["balance_after"] == 10 and first.json()["total"] == 10
    body["idempotency_key"] = "api-sale-0002"
    body["lines"] = [{"good": good.pk, "quantity": 2}]
    refused = client.post("/api/v1/points/redemptions", body, content_type="application/json",
                          headers=headers)
    assert refused.status_code == 400 and "库存不足" in refused.json()["detail"]
    resident, rh = api_client(tree.user("resident"))
    assert resident.post("/api/v1/points/redemptions", body, content_type="application/json",
                         headers=rh).status_code == 404  # the shop is not theirs to see
    got = resident.get(f"/api/v1/points/redemptions/{first.json()['id']}", headers=rh)
    assert got.status_code == 200 and got.json()["lines"][0]["name"] == "洗衣粉"
    assert Client().get(f"/api/v1/points/redemptions/{first.json()['id']}").status_code == 401
