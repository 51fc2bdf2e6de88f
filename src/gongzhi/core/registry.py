"""Modules declare themselves here: their permissions and which roles hold them by default.

Each app calls :func:`register_permission` from its ``AppConfig.ready``; the role table in
``accounts.roles`` and the access path in ``core.access`` read from this one place. Later
apps add their statistics and exports the same way.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Permission:
    code: str  # "<area>.<action>", e.g. "people.view_sensitive"
    label: str  # translatable label for admin pages


@dataclass
class Registry:
    permissions: dict[str, Permission] = field(default_factory=dict)
    role_permissions: dict[str, set[str]] = field(default_factory=dict)

    def register_permission(self, code: str, label: str,
                            roles: list[str] | tuple[str, ...]) -> None:
        self.permissions[code] = Permission(code, label)
        for role in roles:
            self.role_permissions.setdefault(role, set()).add(code)

    def roles_with(self, code: str) -> set[str]:
        return {role for role, perms in self.role_permissions.items() if code in perms}


registry = Registry()
register_permission = registry.register_permission
