"""Errors an action raises when its preconditions fail. Messages are whole, translated sentences."""

from django.core.exceptions import PermissionDenied, ValidationError


class ActionError(ValidationError):
    """A request that cannot be carried out as asked; nothing was changed."""


class ActionForbidden(PermissionDenied):
    """The acting user may not do this here; nothing was changed."""
