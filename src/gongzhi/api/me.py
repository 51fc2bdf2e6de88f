"""``GET /me``: who the caller is, where their roles hold, and what the request may do."""

from datetime import datetime

from ninja import Field, Router, Schema

from gongzhi.accounts.roles import Role
from gongzhi.core.access import token_allows, user_grants
from gongzhi.core.registry import registry
from gongzhi.places.models import Place

router = Router(tags=["me"])


class GrantOut(Schema):
    role: str
    role_label: str
    place_id: int
    place_name: str
    place_kind: str


class TokenOut(Schema):
    name: str
    prefix: str
    scopes: list[str]
    place_ids: list[int] = Field(..., description="the places the token is limited to; empty: "
                                                  "wherever its user's roles hold")
    expires_at: datetime | None


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    county_id: int | None
    person_id: int | None
    organisation_id: int | None
    is_superuser: bool
    grants: list[GrantOut]
    permissions: list[str]
    token: TokenOut | None


def effective_permissions(user) -> list[str]:
    """The permissions this request holds somewhere (after a token's scopes)."""
    if user.is_superuser:
        codes = set(registry.permissions)
    else:
        roles = {g.role for g in user_grants(user)}
        codes = {code for role in roles for code in registry.role_permissions.get(role, ())}
    return sorted(code for code in codes if token_allows(user, code))


@router.get("/me", response=MeOut)
def me(request):
    """The caller, the grants this request holds (a token limited to places holds its user's
    roles only there), the permissions after the token's scopes, and the token in use."""
    user = request.auth
    grants = sorted(user_grants(user), key=lambda g: (g.kind, g.place_id, g.role))
    places = Place.objects.in_bulk({g.place_id for g in grants})
    labels = dict(Role.choices)
    token = getattr(user, "api_token", None)
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": str(user),
        "county_id": user.county_id,
        "person_id": user.person_id,
        "organisation_id": user.organisation_id,
        "is_superuser": user.is_superuser,
        "grants": [
            {"role": g.role, "role_label": str(labels.get(g.role, g.role)),
             "place_id": g.place_id, "place_name": places[g.place_id].name,
             "place_kind": g.kind}
            for g in grants if g.place_id in places
        ],
        "permissions": effective_permissions(user),
        "token": (
            {"name": token.name, "prefix": token.prefix, "scopes": token.scopes,
             "place_ids": [p.pk for p in getattr(token, "place_list", [])],
             "expires_at": token.expires_at}
            if token is not None else None
        ),
    }
