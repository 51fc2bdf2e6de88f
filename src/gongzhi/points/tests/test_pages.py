"""Who sees what, every page rendering, the htmx review row, the workbench panel."""

from __future__ import annotations

import pytest
from django.test import Client

from gongzhi.points import actions, ledger
from gongzhi.points.models import Claim, RankingSnapshot, Redemption
from gongzhi.testing import login_client

from .helpers import adopt, award, deed, grant_points, photo, stocked_shop


@pytest.fixture
def world(tree, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    adopt(tree)
    claim = award(tree, tree.household.place, "A01")
    pending = deed(tree, tree.household2.place, "A02")
    grant_points(tree, tree.household.place, 10)
    shop, good = stocked_shop(tree, price=2, stock=5)
    redemption, _ = actions.do_redeem(shop, card_code=tree.household.card_code,
                                      lines=[(good.pk, 1)], key="world-sale-0001",
                                      acting_user=tree.user("shop_keeper"))
    snap = actions.do_compute_ranking(tree.village, claim.occurred_on.year,
                                      (claim.occurred_on.month - 1) // 3 + 1,
                                      unit="household", acting_user=tree.user("points_reviewer"))
    # Elsewhere: the other town's village, out of the village staff's scope.
    admin = tree.user("administrator")
    actions.do_adopt_rules(tree.other_village, "shiquan", acting_user=admin)
    far = actions.do_record_deed(
        ledger.household_account(tree.other_household.place),
        actions.current_version(tree.other_village).items.get(code="P01"),
        occurred_on=claim.occurred_on, location="东关", reason="巡逻", files=[photo()],
        acting_user=admin)
    return {"claim": claim, "pending": pending, "shop": shop, "good": good,
            "redemption": redemption, "snap": snap, "far": far}


def test_every_page_renders_for_the_administrator(tree, world):
    admin = login_client(tree.user("administrator"))
    v, claim = tree.village, world["claim"]
    urls = [
        "/points/", "/points/record/", f"/points/record/?household={tree.household.place.pk}",
        f"/points/record/?card={tree.household.card_code}", "/points/claims/",
        "/points/claims/?status=all&month=2026-01", f"/points/claims/{claim.pk}/",
        f"/points/claims/{claim.pk}/files/{claim.files.first().pk}/", "/points/months/",
        "/points/accounts/", f"/points/accounts/{claim.account_id}/",
        f"/points/transactions/{claim.transaction_id}/", "/points/rules/",
        f"/points/rules/{v.pk}/", f"/points/rules/{v.pk}/?version=1",
        f"/points/rules/{v.pk}/edit/", f"/points/classes/{v.pk}/", "/points/rankings/",
        f"/points/rankings/{world['snap'].pk}/", "/points/year/", "/points/shops/",
        f"/points/shops/{world['shop'].pk}/", f"/points/shops/{world['shop'].pk}/redeem/",
        "/points/redemptions/", f"/points/redemptions/{world['redemption'].pk}/",
        f"/points/public/{v.pk}/", f"/points/rules/{tree.town.pk}/",
    ]
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, (url, response.status_code)
    assert admin.get(f"/points/year/{v.pk}/2025/export.xlsx").status_code == 200
    assert "积分" in admin.get("/").content.decode()


def test_residents_see_their_own_household_only(tree, world):
    resident = login_client(tree.user("resident"))
    home = resident.get("/points/").content.decode()
    assert "高城寨村1号的积分" in home and "申报积分事项" in home
    assert resident.get(f"/points/claims/{world['claim'].pk}/").status_code == 200
    assert resident.get(f"/points/claims/{world['pending'].pk}/").status_code == 404
    assert resident.get(f"/points/accounts/{world['claim'].account_id}/").status_code == 200
    for url in ("/points/months/", "/points/record/", "/points/shops/"):
        assert resident.get(url).status_code == 403, url
    assert resident.post(f"/points/claims/{world['pending'].pk}/review/",
                         {"decision": "approve"}).status_code == 404
    listing = resident.get("/points/claims/?status=all").content.decode()
    assert "高城寨村2号" not in listing
    panel = resident.get("/").content.decode()
    assert "可用积分" in panel


def test_staff_of_one_village_do_not_see_another(tree, world):
    reviewer = login_client(tree.user("points_reviewer"))
    far = world["far"]
    assert reviewer.get(f"/points/claims/{far.pk}/").status_code == 404
    assert reviewer.post(f"/points/claims/{far.pk}/review/",
                         {"decision": "approve"}).status_code == 404
    assert reviewer.get(f"/points/accounts/{far.account_id}/").status_code == 404
    assert "东关" not in reviewer.get("/points/claims/?status=all").content.decode()
    assert Claim.objects.get(pk=far.pk).status == "pending"
    county = login_client(tree.user("county_office"))
    assert county.get(f"/points/claims/{far.pk}/").status_code == 200
    assert county.post(f"/points/claims/{far.pk}/review/",
                       {"decision": "approve"}).status_code == 403  # may see, not review
    assert Client().get("/points/").status_code == 302  # login first


def test_review_from_the_queue_with_htmx(tree, world):
    reviewer = login_client(tree.user("points_reviewer"))
    pending = world["pending"]
    queue = reviewer.get("/points/claims/").content.decode()
    assert f'hx-post="/points/claims/{pending.pk}/review/"' in queue
    row = reviewer.post(f"/points/claims/{pending.pk}/review/",
                        {"decision": "approve", "reason": "属实"}, headers={"HX-Request": "true"})
    assert row.status_code == 200
    html = row.content.decode()
    assert html.startswith("<tr") and "已认定" in html
    refused = reviewer.post(f"/points/claims/{pending.pk}/review/", {"decision": "approve"},
                            headers={"HX-Request": "true"})
    assert refused.status_code == 400 and "已经审核过" in refused.content.decode()


def test_public_ranking_needs_no_login_but_drafts_stay_hidden(tree, world):
    snap: RankingSnapshot = world["snap"]
    anonymous = Client()
    assert anonymous.get(f"/points/public/{tree.village.pk}/").status_code == 200
    assert anonymous.get(f"/points/public/{tree.village.pk}/rankings/{snap.pk}/").status_code \
        == 404
    assert anonymous.get(f"/points/public/{tree.grid.pk}/").status_code == 404  # no board
    r = anonymous.post(f"/points/public/{tree.village.pk}/rankings/{snap.pk}/object/",
                       {"text": "x"})
    assert r.status_code == 404
    assert Redemption.objects.count() == 1
