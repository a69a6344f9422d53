from notifications.models import InAppNotification


def unread(request):
    """The unread count shown on every page: one query on the partial index of unread rows."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": InAppNotification.objects.filter(recipient=user, read_at__isnull=True).count()}
