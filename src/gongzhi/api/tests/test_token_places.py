"""Tokens limited to places: the user's roles hold only there; elsewhere is 404."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from gongzhi.accounts.actions import do_create_token
from gongzhi.core.errors import ActionError
from gongzhi.matters.actions import do_raise_matter


def bearer(user, places=None, scopes=None):
    _token, raw = do_create_token(user, "integration", acting_user=None, places=places,
                                  scopes=scopes)
    return {"Authorization": f"Bearer {raw}"}


def get(url, headers, **params):
    return Client().get(f"/api/v1{url}", params, headers=headers)


@pytest.fixture
def two_matters(tree):
    staff = tree.user("county_office")
    here = do_raise_matter(place=tree.grid, title="路灯不亮", text="请处理", channel="visit",
                           ledger="claim", acting_user=staff)
    there = do_raise_matter(place=tree.other_grid, title="井盖缺失", text="请处理",
                            channel="visit", ledger="claim", acting_user=staff)
    return here, there


def test_a_county_user_token_limited_to_a_town_sees_only_that_town(tree, two_matters):
    here, there = two_matters
    headers = bearer(tree.user("county_office"), places=[tree.town])
    listed = get("/matters", headers).json()
    assert [m["id"] for m in listed["items"]] == [here.pk]
    assert get(f"/matters/{here.pk}", headers).status_code == 200
    assert get(f"/matters/{there.pk}", headers).status_code == 404
    assert get(f"/places/{tree.other_village.pk}", headers).status_code == 404
    assert get(f"/places/{tree.village.pk}", headers).status_code == 200
    assert get("/figures", headers, place=tree.county.pk).status_code == 404
    assert get("/figures", headers).json()["scope"]["id"] == tree.town.pk

    me = get("/me", headers).json()
    assert me["token"]["place_ids"] == [tree.town.pk]
    assert {(g["role"], g["place_id"]) for g in me["grants"]} == {
        ("county_office", tree.town.pk)}

    # The same user's unlimited token still sees both.
    assert get("/matters", bearer(tree.user("county_office"))).json()["count"] == 2


def test_a_write_outside_the_places_is_404(tree, two_matters):
    _here, there = two_matters
    headers = bearer(tree.user("county_office"), places=[tree.town])
    response = Client().post(f"/api/v1/matters/{there.pk}/notes", {"text": "已联系"},
                             content_type="application/json", headers=headers)
    assert response.status_code == 404
    response = Client().post("/api/v1/matters", {
        "place_id": tree.other_grid.pk, "title": "新事项", "text": "内容", "channel": "visit",
        "ledger": "claim"}, content_type="application/json", headers=headers)
    assert response.status_code == 404


def test_places_never_widen_a_grant(tree, two_matters):
    # A grid worker's token "limited" to the whole county still holds only the grid.
    headers = bearer(tree.user("grid_worker"), places=[tree.county, tree.other_town])
    ids = [m["id"] for m in get("/matters", headers).json()["items"]]
    assert ids == [two_matters[0].pk]
    # Limited to a place where the user holds nothing: nothing at all.
    headers = bearer(tree.user("grid_worker"), places=[tree.other_village])
    assert get("/matters", headers).json()["count"] == 0


def test_places_and_scopes_combine(tree, two_matters):
    headers = bearer(tree.user("county_office"), places=[tree.other_town],
                     scopes=["places.view"])
    assert get("/matters", headers).json()["count"] == 0
    assert get(f"/places/{tree.other_village.pk}", headers).status_code == 200
    assert get(f"/places/{tree.village.pk}", headers).status_code == 404


def test_a_superusers_token_cannot_be_limited(tree, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", password="x")
    with pytest.raises(ActionError):
        do_create_token(boss, "x", acting_user=None, places=[tree.town])


def test_the_command_takes_places(tree, two_matters):
    out = StringIO()
    call_command("token", "create", "u_county_office", "12345 bridge",
                 "--place", str(tree.other_town.pk), stdout=out)
    headers = {"Authorization": f"Bearer {out.getvalue().strip()}"}
    assert [m["id"] for m in get("/matters", headers).json()["items"]] == [two_matters[1].pk]
    listing = StringIO()
    call_command("token", "list", stdout=listing)
    assert listing.getvalue().rstrip().endswith(f"\t{tree.other_town.pk}")
