"""Bearer tokens (``Authorization: Bearer gz_...``) and the session, for the JSON API.

A token acts as its user. Its ``scopes`` narrow the permissions (checked in
``gongzhi.core.access``); its ``places`` narrow where the user's roles hold: the request's
grants are the user's grants cut down to those places, put on the user object before anything
loads through ``restrict()``, so an object outside them answers 404 like any object out of
scope.
"""

from django.db.models import Count
from django.utils import timezone
from ninja.security import HttpBearer, django_auth

from gongzhi.accounts.models import ApiToken, hash_token
from gongzhi.core.access import Grant, user_grants
from gongzhi.places.models import Place


def narrowed_grants(grants: list[Grant], places: list[Place]) -> list[Grant]:
    """The grants as they hold within ``places``: a grant at or above a token place holds at
    that place; a grant beneath a token place holds as it is; any other is dropped."""
    if not grants or not places:
        return []
    granted_at = {p.pk: p for p in Place.objects.filter(pk__in={g.place_id for g in grants})}
    result: list[Grant] = []
    for g in grants:
        for place in places:
            if place.ancestor_id(g.kind) == g.place_id:
                narrowed = Grant(g.role, place.kind, place.pk, place.county_id or place.pk)
            elif (at := granted_at.get(g.place_id)) and at.ancestor_id(place.kind) == place.pk:
                narrowed = g
            else:
                continue
            if narrowed not in result:
                result.append(narrowed)
    return result


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        if not token or not token.startswith("gz_"):
            return None
        api_token = (
            ApiToken.objects.select_related("user").annotate(place_count=Count("places"))
            .filter(key_hash=hash_token(token)).first()
        )
        if api_token is None or not api_token.is_valid() or not api_token.user.is_active:
            return None
        user = api_token.user
        places = list(api_token.places.all()) if api_token.place_count else []
        if places:
            if user.is_superuser:
                return None  # refused when created; a user made superuser later loses it
            user._gongzhi_grants = narrowed_grants(user_grants(user), places)
        now = timezone.now()
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        api_token.place_list = places
        user.api_token = api_token
        request.user = user
        return user


token_auth = TokenAuth()
# Session login works too (htmx pages calling the API), with Django's CSRF check.
AUTH = [token_auth, django_auth]
