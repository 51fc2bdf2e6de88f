"""The points shop through the API: shops, the shelf with stock, redeeming and cancelling."""

import pytest
from django.test import Client

from gongzhi.accounts.actions import do_create_token
from gongzhi.points.tests.helpers import adopt, grant_points, stocked_shop
from gongzhi.testing import api_client


@pytest.fixture
def shop(tree):
    adopt(tree)
    grant_points(tree, tree.household.place, 20)
    return stocked_shop(tree, price=5, stock=3)


def test_shelf_redeem_and_cancel(tree, shop, django_assert_max_num_queries):
    shop, good = shop
    client, headers = api_client(tree.user("shop_keeper"))
    with django_assert_max_num_queries(6):
        listed = client.get("/api/v1/points/shops", headers=headers)
    assert listed.json() == {"count": 1, "items": [{
        "id": shop.pk, "name": shop.name, "notes": "", "is_active": True,
        "village_id": tree.village.pk, "village_name": "高城寨村"}]}
    shelf = client.get(f"/api/v1/points/shops/{shop.pk}/goods", headers=headers).json()
    assert shelf == [{"id": good.pk, "name": "洗衣粉", "unit": "件", "price": 5,
                      "is_active": True, "stock": 3}]

    sale = client.post("/api/v1/points/redemptions", {
        "shop": shop.pk, "card_code": tree.household.card_code,
        "lines": [{"good": good.pk, "quantity": 2}], "idempotency_key": "api-shop-1"},
        content_type="application/json", headers=headers)
    assert sale.status_code == 201, sale.content
    shelf = client.get(f"/api/v1/points/shops/{shop.pk}/goods", headers=headers).json()
    assert shelf[0]["stock"] == 1

    cancel = client.post(f"/api/v1/points/redemptions/{sale.json()['id']}/cancel",
                         {"reason": "顾客退回"}, content_type="application/json",
                         headers=headers)
    assert cancel.status_code == 200, cancel.content
    assert cancel.json()["status"] != sale.json()["status"]
    assert cancel.json()["balance_after"] == 20
    shelf = client.get(f"/api/v1/points/shops/{shop.pk}/goods", headers=headers).json()
    assert shelf[0]["stock"] == 3


def test_a_shop_out_of_scope_is_404(tree, shop):
    shop, _good = shop
    _token, raw = do_create_token(tree.user("county_office"), "other town", acting_user=None,
                                  places=[tree.other_town])
    headers = {"Authorization": f"Bearer {raw}"}
    client = Client()
    assert client.get(f"/api/v1/points/shops/{shop.pk}/goods", headers=headers).status_code == 404
    assert client.get("/api/v1/points/shops", headers=headers).json()["count"] == 0
    response = client.post("/api/v1/points/redemptions/999999/cancel", {"reason": "x"},
                           content_type="application/json", headers=headers)
    assert response.status_code == 404
