"""Bearer tokens: made by ``gongzhi token``, checked on every API request, narrowed by scopes."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from gongzhi.accounts.models import ApiToken
from gongzhi.audit.models import AuditEvent
from gongzhi.places.models import Household, Person
from gongzhi.testing import login_client

UNAUTHORISED = {"detail": "请先登录或提供有效的令牌。"}


def create_token(*args: str) -> str:
    out = StringIO()
    call_command("token", "create", *args, stdout=out)
    return out.getvalue().strip()


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def get(url: str, raw: str | None = None):
    return Client().get(f"/api/v1{url}", headers=bearer(raw) if raw else {})


def post(url: str, data: dict, raw: str):
    return Client().post(f"/api/v1{url}", data=json.dumps(data),
                         content_type="application/json", headers=bearer(raw))


def assert_unauthorised(response):
    assert response.status_code == 401
    assert response.json() == UNAUTHORISED
    assert response["WWW-Authenticate"] == "Bearer"


def test_command_creates_a_token_that_works_on_me(tree):
    raw = create_token("u_grid_worker", "巡查终端")
    assert raw.startswith("gz_")
    token = ApiToken.objects.get()
    assert token.key_hash != raw and raw not in token.key_hash  # only the hash is kept
    assert token.expires_at is None and token.scopes == []

    response = get("/me", raw)
    assert response.status_code == 200
    me = response.json()
    assert me["username"] == "u_grid_worker"
    assert me["grants"] == [{"role": "grid_worker", "role_label": "网格员",
                             "place_id": tree.grid.pk, "place_name": "第一网格",
                             "place_kind": "grid"}]
    assert "people.change" in me["permissions"] and "places.change" not in me["permissions"]
    assert me["token"]["name"] == "巡查终端" and me["token"]["scopes"] == []
    assert AuditEvent.objects.filter(action="accounts.token.create",
                                     object_id=str(token.pk)).exists()


def test_expires_days(tree):
    raw = create_token("u_grid_worker", "临时", "--expires-days", "7")
    token = ApiToken.objects.get()
    assert abs(token.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    assert get("/me", raw).status_code == 200

    with pytest.raises(CommandError):
        create_token("u_grid_worker", "坏", "--expires-days", "0")


def test_command_refuses_unknown_users_and_scopes(tree):
    with pytest.raises(CommandError, match="no user"):
        create_token("nobody", "x")
    with pytest.raises(CommandError, match="unknown permission"):
        create_token("u_grid_worker", "x", "--scope", "people.everything")
    assert not ApiToken.objects.exists()


def test_anonymous_and_bad_tokens_are_401(tree):
    for url in ("/me", "/places", "/people", f"/people/{Person.objects.first().pk}"):
        assert_unauthorised(get(url))
    assert_unauthorised(get("/me", "not-a-token"))
    assert_unauthorised(get("/me", "gz_" + "x" * 43))
    response = Client().post("/api/v1/households", data="{}", content_type="application/json")
    assert_unauthorised(response)


def test_revoked_token_is_401(tree):
    raw = create_token("u_village_secretary", "x")
    assert get("/me", raw).status_code == 200
    out = StringIO()
    call_command("token", "revoke", raw[:10], stdout=out)
    assert out.getvalue().strip() == "revoked"
    assert_unauthorised(get("/me", raw))
    assert_unauthorised(get("/places", raw))

    out = StringIO()
    call_command("token", "list", stdout=out)
    assert "\trevoked\t" in out.getvalue()


def test_expired_token_is_401(tree):
    raw = create_token("u_village_secretary", "x", "--expires-days", "1")
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_unauthorised(get("/me", raw))
    out = StringIO()
    call_command("token", "list", stdout=out)
    assert "\texpired\t" in out.getvalue()


def test_token_of_a_deactivated_user_is_401(tree):
    raw = create_token("u_village_secretary", "x")
    user = tree.user("village_secretary")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_unauthorised(get("/me", raw))


def test_a_places_view_token_cannot_read_people(tree):
    """Scopes narrow: a places.view token lists no people (empty, as for a role without the
    permission) and a person's URL is a 404 — the same answers the access path gives anyone
    for rows outside their scope. Writes the token's scopes leave out are refused (403)."""
    raw = create_token("u_village_secretary", "地图", "--scope", "places.view")
    assert get("/places", raw).json()["count"] == 5
    assert get("/people", raw).json() == {"items": [], "count": 0}
    assert get("/households", raw).json() == {"items": [], "count": 0}
    head = Person.objects.get(name="张建国")
    assert get(f"/people/{head.pk}", raw).status_code == 404
    assert post(f"/people/{head.pk}/reveal", {}, raw).status_code == 404
    assert get("/me", raw).json()["permissions"] == ["places.view"]

    before = (Household.objects.count(), AuditEvent.objects.count())
    response = post("/households", {"parent": tree.grid.pk, "address": "9号"}, raw)
    assert response.status_code == 403 and response.json()["detail"]
    response = Client().patch(f"/api/v1/places/{tree.grid.pk}", data='{"name": "改"}',
                              content_type="application/json", headers=bearer(raw))
    assert response.status_code == 403
    assert (Household.objects.count(), AuditEvent.objects.count()) == before


def test_scopes_never_add_to_the_role(tree):
    """A resident's token scoped to people.view_sensitive still cannot reveal anyone."""
    raw = create_token("u_resident", "x", "--scope", "people.view",
                       "--scope", "people.view_sensitive")
    head = Person.objects.get(name="张建国")
    assert get(f"/people/{head.pk}", raw).status_code == 200
    assert post(f"/people/{head.pk}/reveal", {}, raw).status_code == 403
    assert get("/me", raw).json()["permissions"] == ["people.view"]


def test_scoped_token_of_a_secretary_cannot_reveal(tree):
    head = Person.objects.get(name="张建国")
    full = create_token("u_village_secretary", "full")
    scoped = create_token("u_village_secretary", "read", "--scope", "people.view")
    assert post(f"/people/{head.pk}/reveal", {}, full).status_code == 200
    assert post(f"/people/{head.pk}/reveal", {}, scoped).status_code == 403


def test_scopes_bind_a_superuser_too(tree):
    admin = tree.user("administrator")
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    raw = create_token("u_administrator", "x", "--scope", "organisations.view")
    assert get("/organisations", raw).json()["count"] == 1
    assert get("/places", raw).json()["count"] == 0
    assert get("/me", raw).json()["permissions"] == ["organisations.view"]


def test_session_login_works_on_the_api(tree):
    client = login_client(tree.user("town_staff"))
    me = client.get("/api/v1/me").json()
    assert me["username"] == "u_town_staff" and me["token"] is None


def test_last_used_at_is_written_at_most_once_a_minute(tree, django_assert_num_queries):
    raw = create_token("u_grid_worker", "x")
    token = ApiToken.objects.get()
    assert token.last_used_at is None

    get("/me", raw)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None

    # The token with its user, then /me's two reads of the grants; no write.
    with django_assert_num_queries(3):
        get("/me", raw)
    token.refresh_from_db()
    assert token.last_used_at == first

    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    get("/me", raw)
    token.refresh_from_db()
    assert token.last_used_at > first
