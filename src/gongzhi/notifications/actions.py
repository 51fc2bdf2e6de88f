"""Writes owned by notifications: marking a user's notifications read."""

from django.db import transaction
from django.utils import timezone

from gongzhi.audit.log import record

from .models import Notification


@transaction.atomic
def do_mark_read(user, *, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications read (all of them, or those in ``ids``)."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    marked = qs.update(read_at=timezone.now())
    if marked:
        record("notifications.read", actor=user, county_id=user.county_id,
               object_type="notifications.notification", object_id=user.pk,
               after={"marked": marked, "ids": ids or "all"})
    return marked
