"""Small pieces the matter pages repeat: the deadline badge, masked free text."""

from django import template
from django.utils import timezone

from gongzhi.matters import queries

register = template.Library()


@register.inclusion_tag("matters/partials/deadline_badge.html")
def deadline_badge(matter, state=None, now=None):
    """Overdue (red), due within 24 hours (amber), 时限待核 when the calendar is unknown."""
    if state is None:
        state = queries.deadline_state(matter, now or timezone.now())
    return {"matter": matter, "state": state}


@register.filter
def masked(text):
    """Phones and ID numbers in free text, masked, for public pages."""
    return queries.mask_free_text(text or "")


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None
