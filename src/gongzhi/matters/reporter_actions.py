"""Showing who raised a complaint: allowed to few, and every showing is in the audit chain."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.errors import ActionForbidden

from .models import Matter, reporter_visible_to


def reporter_of(matter: Matter) -> dict[str, Any]:
    person = matter.reporter_person
    return {
        "anonymous": matter.is_anonymous,
        "person": person,
        "name": matter.reporter_name or (person.name if person else ""),
        "phone": matter.reporter_phone or (person.phone if person else ""),
        "address": person.place.name if person and person.household_id else "",
    }


@transaction.atomic
def do_view_reporter(matter: Matter, *, acting_user, reason: str = "") -> dict[str, Any]:
    """The reporter of ``matter`` for ``acting_user``; a complaint's reporter only to the roles
    the locality allows, never to the person or unit complained about, and audited."""
    if not reporter_visible_to(acting_user, matter):
        raise ActionForbidden(_("投诉举报人的身份受保护，您无权查看。"))
    if matter.is_complaint:
        record("matters.reporter.view", actor=acting_user, obj=matter,
               after={"ledger": matter.ledger, "reason": (reason or "")[:200]})
    return reporter_of(matter)
