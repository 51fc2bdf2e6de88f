from gongzhi.accounts.roles import FOUNDATION_PERMISSIONS, Role
from gongzhi.core.registry import Registry, registry


def test_register_and_look_up():
    reg = Registry()
    reg.register_permission("matters.view", "查看", ["resident", "grid_worker"])
    reg.register_permission("matters.close", "办结", ["grid_worker"])
    assert reg.roles_with("matters.view") == {"resident", "grid_worker"}
    assert reg.roles_with("matters.close") == {"grid_worker"}
    assert reg.roles_with("matters.delete") == set()
    assert set(reg.permissions) == {"matters.view", "matters.close"}


def test_foundation_permissions_are_registered_for_known_roles():
    for code, _label, roles in FOUNDATION_PERMISSIONS:
        assert code in registry.permissions
        assert set(roles) <= set(Role.values), code
        assert registry.roles_with(code) >= set(roles), code


def test_every_role_can_see_some_place():
    assert registry.roles_with("places.view") == set(Role.values)
