"""Gateway callbacks: delivery receipts and inbound replies pushed by the SMS gateway.

The gateways cannot log in, so each callback URL carries a secret token
(SMS_CALLBACK_TOKEN, compared in constant time) and is configured in the gateway's
console as e.g. https://crm.example.com/sms/callbacks/aliyun/receipts/<token>/.
The answer body is exactly what the gateway expects (crm.sms ``callback_ack``).
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm.care import dispatch
from crm.sms.base import CallbackError
from crm.sms.gateways import get_gateway

log = logging.getLogger("crm.care.callbacks")
KINDS = ("receipts", "replies")


def _authorised(token: str) -> bool:
    expected = getattr(settings, "SMS_CALLBACK_TOKEN", "")
    # No token configured means callbacks are switched off (never open to anyone).
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


@csrf_exempt
@login_not_required
@require_POST
def gateway_callback(request: HttpRequest, gateway_name: str, kind: str, token: str) -> HttpResponse:
    if kind not in KINDS or not _authorised(token):
        raise Http404
    try:
        gateway = get_gateway(gateway_name)
    except ImproperlyConfigured as exc:
        raise Http404 from exc
    headers = dict(request.headers.items())
    try:
        if kind == "receipts":
            dispatch.record_receipts(gateway.parse_receipts(request.body, headers), gateway_name=gateway.name)
        else:
            dispatch.record_replies(gateway.parse_replies(request.body, headers), gateway_name=gateway.name)
    except CallbackError as exc:
        log.warning("bad %s callback from %s: %s", kind, gateway_name, exc)
        ack = gateway.callback_ack(ok=False)
        return HttpResponse(ack.body, status=400, content_type=ack.content_type)
    ack = gateway.callback_ack(ok=True)
    return HttpResponse(ack.body, status=ack.status, content_type=ack.content_type)
