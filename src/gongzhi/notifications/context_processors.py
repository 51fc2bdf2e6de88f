from .models import Notification


def unread(request):
    """The unread count for the bell in the top bar (one indexed count per page)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Notification.objects.filter(
        user=user, read_at__isnull=True).count()}
