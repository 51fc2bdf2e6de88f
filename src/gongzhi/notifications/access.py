"""Who sees which outgoing messages: county-level grants of the permission, by county."""

from gongzhi.core.access import grants_with

from .models import OutboxMessage


def outbox_for(user, permission: str = "notifications.view_outbox"):
    if user.is_superuser:
        return OutboxMessage.objects.all()
    counties = {g.county_id for g in grants_with(user, permission) if g.kind == "county"}
    return OutboxMessage.objects.filter(county_id__in=counties)
