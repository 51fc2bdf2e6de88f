from django import template

from gongzhi.core.access import has_permission

register = template.Library()


@register.simple_tag(takes_context=True)
def holds(context, permission: str) -> bool:
    """Whether the signed-in user holds ``permission`` somewhere (for showing links)."""
    request = context.get("request")
    return bool(request is not None and has_permission(request.user, permission))
