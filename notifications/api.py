"""The notification centre over the API (``/api/v1/notifications/``): the current user's in-app
notifications, newest first, cursor-paged; marking one or all read. Another user's notification does
not exist for you (404). Its own module, because ``processes`` must not import ``notifications``."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from notifications.centre import notification_mark_read, notifications_mark_all_read, notifications_of
from notifications.models import InAppNotification
from processes import converters  # noqa: F401  (registers <id:…>)
from processes.api.decisions import RefusalSerializer


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = InAppNotification
        fields = ["id", "title", "body", "link", "created_at", "read_at", "read"]

    def get_read(self, row) -> bool:
        return row.read_at is not None


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text=_("How many were unread and are now read."))


class NotificationListView(generics.ListAPIView):
    """Your notifications, newest first."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        return notifications_of(self.request.user)


class NotificationReadView(generics.GenericAPIView):
    """Mark one of your notifications read."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        return notifications_of(self.request.user)

    @extend_schema(request=None, responses={200: NotificationSerializer, 404: RefusalSerializer})
    def post(self, request, pk):
        row = self.get_object()
        notification_mark_read(notification=row)
        row.refresh_from_db()
        return Response(self.get_serializer(row).data)


class ReadAllView(generics.GenericAPIView):
    """Mark all your notifications read."""

    serializer_class = ReadAllSerializer

    @extend_schema(request=None, responses={200: ReadAllSerializer})
    def post(self, request):
        return Response({"marked": notifications_mark_all_read(user=request.user)})


app_name = "notifications-api"
urlpatterns = [
    path("notifications/", NotificationListView.as_view(), name="notification-list"),
    path("notifications/<id:pk>/read/", NotificationReadView.as_view(), name="notification-read"),
    path("notifications/read-all/", ReadAllView.as_view(), name="notification-read-all"),
]
