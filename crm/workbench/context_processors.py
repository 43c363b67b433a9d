from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from crm.workbench.navigation import menu_for


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"company_name": settings.COMPANY_NAME}
    return {"menu": menu_for(user, request.path), "company_name": settings.COMPANY_NAME}
