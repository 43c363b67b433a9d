"""通知 over the API: the caller's own notifications (list, newest first, ``?unread=1``),
one of them, 标为已读 and 全部标为已读. Same reads and writes as the inbox page
(crm.core.notifications); another user's notification is a 404."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.core import notifications
from crm.core.models import Notification

from .views import Pagination, staff


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ("id", "kind", "title", "text", "link", "created_at", "read_at", "is_read")
        read_only_fields = fields


class MarkedSerializer(serializers.Serializer[dict[str, int]]):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


@extend_schema(tags=["通知"])
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Notification]):
    queryset = Notification.objects.none()
    serializer_class = NotificationSerializer
    pagination_class = Pagination
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Notification]:
        unread_only = self.request.query_params.get("unread") in ("1", "true")
        return notifications.for_user(staff(self.request), unread_only=unread_only)

    @extend_schema(parameters=[OpenApiParameter("unread", bool, description="只列未读")])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        user = staff(request)
        row = notifications.get_for_user(user, int(pk or 0))
        marked = notifications.mark_read(row, actor=user)
        return Response({"marked": int(marked), "unread": notifications.unread_count(user)})

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        user = staff(request)
        marked = notifications.mark_all_read(actor=user)
        return Response({"marked": marked, "unread": notifications.unread_count(user)})
