"""通知: the signed-in user's own notifications (the bell in the header leads here)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from crm.core import notifications

PAGE_SIZE = 20


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("show") == "unread"
    rows = notifications.for_user(request.user, unread_only=unread_only)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "core/notifications/inbox.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread": notifications.unread_count(request.user),
            "retention_days": settings.NOTIFICATION_RETENTION_DAYS,
        },
    )


@require_GET
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Opening a notification marks it read and follows its link (the inbox when it has none
    or the link is not this site's). A GET: the change is the reader's own "seen" mark."""
    row = notifications.get_for_user(request.user, pk)
    notifications.mark_read(row, actor=request.user)
    if row.link and url_has_allowed_host_and_scheme(row.link, allowed_hosts={request.get_host()}):
        return redirect(row.link)
    return redirect("notifications:inbox")


@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    changed = notifications.mark_all_read(actor=request.user)
    messages.success(request, f"已将 {changed} 条通知标为已读" if changed else "没有未读通知")
    return redirect(reverse("notifications:inbox"))
