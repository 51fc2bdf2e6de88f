"""The access path itself: grants hold beneath their place, tokens' scopes narrow them."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from gongzhi.accounts.actions import do_grant_role, do_revoke_role
from gongzhi.accounts.models import RoleGrant
from gongzhi.core.access import grants_with, has_permission, token_allows, user_grants
from gongzhi.places.models import Household, Organisation, Person, Place


def scoped(user, *scopes):
    """The user as the API's token authentication leaves it."""
    user.api_token = SimpleNamespace(scopes=list(scopes))
    return user


def test_a_grant_holds_at_its_place_and_beneath_it_only(tree):
    worker = tree.user("grid_worker")
    assert has_permission(worker, "people.change", tree.grid)
    assert has_permission(worker, "people.change", tree.household.place)
    assert not has_permission(worker, "people.change", tree.grid2)
    assert not has_permission(worker, "people.change", tree.village)
    assert not has_permission(worker, "places.change", tree.grid)
    assert has_permission(worker, "people.change")  # somewhere
    assert not has_permission(worker, "places.change")


def test_a_resident_sees_their_household_and_not_the_village(tree):
    resident = tree.user("resident")
    assert list(Place.objects.restrict(resident)) == [tree.household.place]
    assert list(Household.objects.restrict(resident)) == [tree.household]
    assert {p.name for p in Person.objects.restrict(resident)} == {"张建国", "李秀英"}
    assert not Organisation.objects.restrict(resident).exists()
    assert not has_permission(resident, "places.view", tree.village)


def test_a_department_liaison_sees_organisations_not_people(tree):
    liaison = tree.user("department_liaison")
    assert list(Organisation.objects.restrict(liaison)) == [tree.department]
    assert not Person.objects.restrict(liaison).exists()
    assert not Household.objects.restrict(liaison).exists()
    assert Place.objects.restrict(liaison).filter(pk=tree.other_village.pk).exists()


def test_anonymous_and_none_hold_nothing(tree):
    for nobody in (None, AnonymousUser()):
        assert not Place.objects.restrict(nobody).exists()
        assert not has_permission(nobody, "places.view")
        assert user_grants(nobody) == []


def test_unknown_actions_hold_nowhere(tree):
    admin = tree.user("administrator")
    assert not Place.objects.restrict(admin, "launch").exists()


def test_revoked_grants_stop_holding(tree):
    worker = tree.user("grid_worker")
    grant = RoleGrant.objects.get(user=worker)
    do_revoke_role(grant, acting_user=None)
    fresh = type(worker).objects.get(pk=worker.pk)  # grants are cached per user object
    assert not Place.objects.restrict(fresh).exists()


def test_grants_are_read_once_per_user_object(tree, django_assert_num_queries):
    user = type(tree.user("village_cadre")).objects.get(pk=tree.user("village_cadre").pk)
    with django_assert_num_queries(1):
        for _ in range(3):
            user_grants(user)
            has_permission(user, "people.view", tree.grid)
    do_grant_role(user, "village_secretary", tree.village, acting_user=None)
    assert has_permission(user, "people.view_sensitive", tree.grid)  # cache refreshed


@pytest.mark.parametrize("scopes, permission, allowed", [
    ((), "people.view", True),  # no scopes: the user's own permissions
    (("people.view",), "people.view", True),
    (("places.view",), "people.view", False),
])
def test_token_allows(scopes, permission, allowed):
    user = SimpleNamespace(api_token=SimpleNamespace(scopes=list(scopes)))
    assert token_allows(user, permission) is allowed
    assert token_allows(SimpleNamespace(), permission)  # a session: no token


def test_scopes_narrow_restrict_and_has_permission(tree):
    secretary = scoped(tree.user("village_secretary"), "places.view", "people.view")
    assert Place.objects.restrict(secretary).exists()
    assert Person.objects.restrict(secretary).exists()
    assert not Place.objects.restrict(secretary, "change").exists()
    assert not has_permission(secretary, "people.view_sensitive", tree.village)
    assert grants_with(secretary, "people.change") == []
    assert has_permission(secretary, "people.view", tree.village)


def test_scopes_narrow_a_superuser(tree):
    root = scoped(tree.user("administrator"), "places.view")
    root.is_superuser = True
    assert Place.objects.restrict(root).count() == Place.objects.count()
    assert not Person.objects.restrict(root).exists()
    assert not has_permission(root, "people.view", tree.village)
    assert has_permission(root, "places.view", tree.village)
