"""Error pages in Chinese: 400/403/404/500 and the CSRF failure, as HTML or (under /api/) JSON.

Wired in config/urls.py (handler400 …) and settings.CSRF_FAILURE_VIEW. The pages extend a
minimal layout (templates/error_base.html) that needs no database: a 500 may come from a
database that does not answer. When it is the database that failed (the server stopped,
restarting, unreachable), the answer is a 503 saying so, with Retry-After: the page works
again by itself once the database is back (CONN_HEALTH_CHECKS replaces the broken
connection), and a load balancer or client may retry.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

API_PREFIX = "/api/"

MESSAGES = {
    400: "请求无效，请检查后重试。",
    403: "您没有执行该操作的权限。",
    404: "不存在或无权查看。",
    500: "服务器内部错误，请稍后重试；如反复出现，请联系系统管理员。",
    503: "数据库暂时无法连接，系统暂时无法使用，请稍后刷新重试；如超过几分钟仍未恢复，请联系系统管理员。",
}
# Seconds a client is asked to wait before retrying after a 503.
RETRY_AFTER_SECONDS = 30
CSRF_MESSAGE = "页面已过期或来源无法验证（CSRF），请返回上一页刷新后重试。"


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX) and not request.path.startswith(f"{API_PREFIX}docs/")


def _render(request: HttpRequest, status: int, template: str, context: dict[str, object]) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": context.get("message") or MESSAGES[status]}, status=status)
    return HttpResponse(loader.render_to_string(template, context, request), status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _render(request, 400, "400.html", {"message": MESSAGES[400]})


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    # Our own PermissionDenied("…") carry a Chinese reason; Django's bare ones carry none.
    reason = str(exception) if exception is not None and str(exception) else ""
    return _render(request, 403, "403.html", {"message": reason or MESSAGES[403]})


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _render(request, 404, "404.html", {"message": MESSAGES[404]})


def database_unavailable() -> bool:
    """True while Django handles an error raised because the database did not answer."""
    exc = sys.exc_info()[1]
    while exc is not None:
        if isinstance(exc, (OperationalError, InterfaceError)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    # handler500 runs inside Django's exception handling: the error is still sys.exc_info().
    if database_unavailable():
        return service_unavailable(request)
    if _wants_json(request):
        return JsonResponse({"detail": MESSAGES[500]}, status=500)
    # No request context: the context processors may need the database that just failed.
    return HttpResponse(loader.render_to_string("500.html", {"message": MESSAGES[500]}), status=500)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503: the database does not answer (no template context: it would need the database)."""
    if _wants_json(request):
        response: HttpResponse = JsonResponse({"detail": MESSAGES[503]}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html", {"message": MESSAGES[503]}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: Django's page is English and technical."""
    return _render(request, 403, "403_csrf.html", {"message": CSRF_MESSAGE})
