"""What every page's layout needs: the menu, the company name and the bell's unread count."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.http import HttpRequest

from crm.core.notifications import unread_count
from crm.workbench.navigation import menu_for


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"company_name": settings.COMPANY_NAME}
    return {
        "menu": menu_for(user, request.path),
        "company_name": settings.COMPANY_NAME,
        # Called by the template only where the bell is drawn; one COUNT, kept on the user
        # for the rest of the request (crm.core.notifications.unread_count).
        "unread_notifications": partial(unread_count, user),
    }
