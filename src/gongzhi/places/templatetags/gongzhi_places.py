"""Template filters for the registry's pages."""

from __future__ import annotations

from datetime import date

from django import template
from django.utils import timezone

register = template.Library()


def birth_date_of(person) -> date | None:
    """The recorded birth date, else the one an 18-digit ID number carries (digits 7–14)."""
    if getattr(person, "birth_date", None):
        return person.birth_date
    number = getattr(person, "id_number", None) or ""
    if len(number) == 18 and number[6:14].isdigit():
        try:
            return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            return None
    return None


@register.filter
def age(person) -> int | None:
    """Age in whole years today, or None when unknown (``{{ m|age|default_if_none:"—" }}``)."""
    born = birth_date_of(person)
    if born is None:
        return None
    today = timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
