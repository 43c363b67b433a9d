"""A local fake of Tencent Cloud SMS 2021-01-11: SendSms and PullSmsSendStatusByPhoneNumber.

It checks the TC3-HMAC-SHA256 signature with its own code from the headers and body it
received, and answers a bad one as Tencent does: HTTP 200, ``Content-Type:
application/json`` and ``Response.Error`` (AuthFailure.SignatureFailure,
AuthFailure.SecretIdNotFound, AuthFailure.SignatureExpire). It keeps every accepted message,
answers status pulls from the delivered ones, and writes status and reply callbacks in
Tencent's push format. Sends can be scripted one by one (``script``), and it can throttle per
number or answer every n-th send late.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .server import Behaviour, FakeError, FakeRequest, FakeResponse, FakeServer, Script

CHINA_TZ = ZoneInfo("Asia/Shanghai")
_E164 = re.compile(r"^\+(\d{1,3})(\d{6,14})$")
_MAINLAND = re.compile(r"^\+86(1[3-9]\d{9})$")

# (placement, code, message): "status" per number in SendStatusSet, "error" in Response.Error.
_BEHAVIOUR_CODES: dict[Behaviour, tuple[str, str, str]] = {
    Behaviour.THROTTLE: (
        "status",
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "单个手机号30秒内下发短信条数超过设定的上限",
    ),
    Behaviour.INVALID_NUMBER: ("status", "InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误"),
    Behaviour.BLACKLISTED: ("status", "FailedOperation.PhoneNumberInBlacklist", "手机号在免打扰名单库中"),
    Behaviour.TIME_WINDOW: ("error", "FailedOperation.MarketingSendTimeConstraint", "营销短信发送时间限制"),
    Behaviour.TEMPLATE_UNAPPROVED: ("error", "FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配"),
    Behaviour.SIGNATURE_UNAPPROVED: ("error", "FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误"),
    Behaviour.OUT_OF_BALANCE: ("error", "FailedOperation.InsufficientBalanceInSmsPackage", "套餐包余量不足"),
    Behaviour.DAY_LIMIT: ("error", "LimitExceeded.AppDailyLimit", "业务短信日下发条数超过设定的上限"),
}


@dataclass
class TencentFakeMessage:
    serial_no: str
    phone_number: str  # E.164 as received
    sign_name: str
    template_id: str
    params: list[Any]
    session_context: str
    sent_at: datetime
    report_status: str = ""  # "", SUCCESS or FAIL
    errmsg: str = ""
    description: str = ""
    received_at: datetime | None = None

    @property
    def nationcode(self) -> str:
        match = _MAINLAND.match(self.phone_number)
        if match:
            return "86"
        e164 = _E164.match(self.phone_number)
        return e164.group(1) if e164 else ""

    @property
    def subscriber_number(self) -> str:
        return self.phone_number[1 + len(self.nationcode) :]


@dataclass
class TencentFakeRequest:
    action: str
    payload: dict[str, Any]
    code: str


@dataclass
class FakeTencentSms(FakeServer):
    secret_id: str = "fake-tencent-secret-id"
    secret_key: str = "fake-tencent-secret-key"
    sdk_app_id: str = "1400000000"
    per_number_limit: int | None = None
    """Accepted sends per number before LimitExceeded.PhoneNumberThirtySecondLimit."""
    timeout_every: int | None = None
    """Every n-th SendSms is accepted but answered ``slow_seconds`` late."""
    deliver_at_once: bool = True
    slow_seconds: float = 2.0
    messages: list[TencentFakeMessage] = field(default_factory=list)
    requests: list[TencentFakeRequest] = field(default_factory=list)
    _script: list[Script] = field(default_factory=list, init=False, repr=False)
    _send_calls: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        FakeServer.__init__(self)

    # -- test controls -----------------------------------------------------------------------

    def script(self, *behaviours: Script) -> None:
        with self.lock:
            self._script.extend(behaviours)

    @property
    def send_calls(self) -> int:
        return self._send_calls

    def messages_to(self, phone_number: str) -> list[TencentFakeMessage]:
        with self.lock:
            return [m for m in self.messages if m.phone_number == phone_number]

    def deliver(self, message: TencentFakeMessage, *, success: bool = True, errmsg: str = "") -> None:
        with self.lock:
            message.report_status = "SUCCESS" if success else "FAIL"
            message.errmsg = errmsg or ("DELIVRD" if success else "MK:0001")
            message.description = "用户短信送达成功" if success else "用户短信未送达"
            message.received_at = datetime.now(tz=CHINA_TZ).replace(microsecond=0)

    def receipt_body(self, *messages: TencentFakeMessage) -> bytes:
        """A status callback as Tencent POSTs it: a JSON array of reports [T-CB]."""
        reports = [
            {
                "user_receive_time": (m.received_at or m.sent_at).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
                "nationcode": m.nationcode,
                "mobile": m.subscriber_number,
                "report_status": m.report_status,
                "errmsg": m.errmsg,
                "description": m.description,
                "sid": m.serial_no,
                "ext": m.session_context,
            }
            for m in messages
        ]
        return json.dumps(reports, ensure_ascii=False).encode()

    @staticmethod
    def reply_body(mobile: str, text: str, *, nationcode: str = "86", extend: str = "", at: int = 1772328600) -> bytes:
        """A reply callback as in Tencent's sample: one JSON object [T-REPLY]."""
        reply = {
            "extend": extend,
            "mobile": mobile,
            "nationcode": nationcode,
            "sign": "示范置业",
            "text": text,
            "time": at,
        }
        return json.dumps(reply, ensure_ascii=False).encode()

    # -- the protocol ------------------------------------------------------------------------

    def handle(self, request: FakeRequest) -> FakeResponse:
        action = request.headers.get("x-tc-action", "")
        try:
            payload = json.loads(request.body or b"{}")
        except json.JSONDecodeError:
            payload = {}
        denied = self._check_signature(request)
        if denied is not None:
            return self._error(action, payload, *denied)
        if request.headers.get("x-tc-version") != "2021-01-11":
            return self._error(action, payload, "InvalidParameter", "The Version is invalid.")
        if not request.headers.get("x-tc-region"):
            return self._error(
                action, payload, "MissingParameter", "The request is missing a required parameter `Region`."
            )
        if not isinstance(payload, dict):
            return self._error(action, payload, "InvalidParameter", "The body is not a JSON object.")
        if payload.get("SmsSdkAppId") != self.sdk_app_id:
            return self._error(action, payload, "UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId 校验失败")
        if action == "SendSms":
            return self._send_sms(payload)
        if action == "PullSmsSendStatusByPhoneNumber":
            return self._pull_status(payload)
        return self._error(action, payload, "InvalidAction", f"The action {action} is not supported.")

    def _send_sms(self, payload: dict[str, Any]) -> FakeResponse:
        with self.lock:
            self._send_calls += 1
            behaviour = self._script.pop(0) if self._script else Behaviour.OK
            if self.timeout_every and self._send_calls % self.timeout_every == 0 and behaviour is Behaviour.OK:
                behaviour = Behaviour.TIMEOUT
        if behaviour is Behaviour.HTTP_500:
            self._record("SendSms", payload, "HTTP_500")
            return FakeResponse(500, b"<html>500 Internal Server Error</html>", content_type="text/html")
        if behaviour is Behaviour.LOST:
            self._record("SendSms", payload, "LOST")
            return FakeResponse(500, b"", delay=self.slow_seconds)
        numbers = payload.get("PhoneNumberSet")
        if not isinstance(numbers, list) or not numbers or len(numbers) > 200:
            return self._error(
                "SendSms", payload, "InvalidParameterValue.IncorrectPhoneNumber", "PhoneNumberSet 不合法"
            )
        forced: tuple[str, str, str] | None = None
        if isinstance(behaviour, FakeError):
            forced = (behaviour.placement, behaviour.code, behaviour.message)
        elif behaviour in _BEHAVIOUR_CODES:
            forced = _BEHAVIOUR_CODES[behaviour]
        if forced and forced[0] == "error":
            return self._error("SendSms", payload, forced[1], forced[2])
        params = payload.get("TemplateParamSet", [])
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            return self._error(
                "SendSms", payload, "InvalidParameterValue.TemplateParameterFormatError", "模板参数须为字符串数组"
            )
        statuses = []
        with self.lock:
            for number in numbers:
                statuses.append(self._send_one(str(number), payload, params, forced))
            self._record("SendSms", payload, ",".join(s["Code"] for s in statuses))
        if behaviour is Behaviour.HANG_UP:
            return FakeResponse(0, b"")
        body = {"Response": {"SendStatusSet": statuses, "RequestId": _request_id()}}
        delay = self.slow_seconds if behaviour is Behaviour.TIMEOUT else 0.0
        return FakeResponse(200, json.dumps(body, ensure_ascii=False).encode(), delay=delay)

    def _send_one(
        self, number: str, payload: dict[str, Any], params: list[Any], forced: tuple[str, str, str] | None
    ) -> dict[str, Any]:
        status: dict[str, Any] = {
            "SerialNo": "",
            "PhoneNumber": number,
            "Fee": 0,
            "SessionContext": str(payload.get("SessionContext", "")),
            "Code": "Ok",
            "Message": "send success",
            "IsoCode": "CN" if _MAINLAND.match(number) else "",
        }
        if forced:
            status.update(Code=forced[1], Message=forced[2])
        elif not _E164.match(number):
            status.update(Code="InvalidParameterValue.IncorrectPhoneNumber", Message="手机号格式错误")
        elif self.per_number_limit is not None and len(self.messages_to(number)) >= self.per_number_limit:
            status.update(
                Code="LimitExceeded.PhoneNumberThirtySecondLimit", Message="单个手机号30秒内下发短信条数超过设定的上限"
            )
        else:
            message = TencentFakeMessage(
                serial_no=f"2433:{secrets.randbelow(10**20):020d}",
                phone_number=number,
                sign_name=str(payload.get("SignName", "")),
                template_id=str(payload.get("TemplateId", "")),
                params=params,
                session_context=str(payload.get("SessionContext", "")),
                sent_at=datetime.now(tz=CHINA_TZ).replace(microsecond=0),
            )
            self.messages.append(message)
            if self.deliver_at_once:
                self.deliver(message)
            status.update(SerialNo=message.serial_no, Fee=1)
        return status

    def _pull_status(self, payload: dict[str, Any]) -> FakeResponse:
        try:
            begin = int(payload["BeginTime"])
            end = int(payload.get("EndTime") or 2**32)
            offset = int(payload.get("Offset", 0))
            limit = int(payload["Limit"])
            number = str(payload["PhoneNumber"])
        except (KeyError, TypeError, ValueError):
            return self._error("PullSmsSendStatusByPhoneNumber", payload, "MissingParameter", "参数缺失或格式错误")
        if not 0 < limit <= 100:
            return self._error("PullSmsSendStatusByPhoneNumber", payload, "InvalidParameterValue", "Limit 1-100")
        with self.lock:
            reported = [
                m
                for m in self.messages
                if m.phone_number == number
                and m.report_status
                and m.received_at is not None
                and begin <= int(m.received_at.timestamp()) <= end
            ]
            items = [
                {
                    "UserReceiveTime": int(m.received_at.timestamp()) if m.received_at else 0,
                    "CountryCode": m.nationcode,
                    "SubscriberNumber": m.subscriber_number,
                    "PhoneNumber": m.phone_number,
                    "SerialNo": m.serial_no,
                    "ReportStatus": m.report_status,
                    "Description": m.description,
                    "SessionContext": m.session_context,
                }
                for m in reported[offset : offset + limit]
            ]
            self._record("PullSmsSendStatusByPhoneNumber", payload, "Ok")
        body = {"Response": {"PullSmsSendStatusSet": items, "RequestId": _request_id()}}
        return FakeResponse(200, json.dumps(body, ensure_ascii=False).encode())

    # -- signature TC3 -----------------------------------------------------------------------

    def _check_signature(self, request: FakeRequest) -> tuple[str, str] | None:
        auth = request.headers.get("authorization", "")
        match = re.fullmatch(
            r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/([a-z]+)/tc3_request, "
            r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
            auth,
        )
        if not match:
            return ("AuthFailure.InvalidAuthorization", "Authorization 不符合腾讯云标准")
        secret_id, day, service, signed_headers, signature = match.groups()
        if secret_id != self.secret_id:
            return ("AuthFailure.SecretIdNotFound", "密钥不存在")
        try:
            timestamp = int(request.headers.get("x-tc-timestamp", ""))
        except ValueError:
            return ("AuthFailure.InvalidAuthorization", "X-TC-Timestamp 缺失")
        if abs(datetime.now(tz=UTC).timestamp() - timestamp) > 300:
            return ("AuthFailure.SignatureExpire", "签名过期，Timestamp 与服务器时间相差超过五分钟")
        if day != datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d") or service != "sms":
            return ("AuthFailure.SignatureFailure", "签名凭证范围错误")
        names = signed_headers.split(";")
        if "content-type" not in names or "host" not in names:
            return ("AuthFailure.SignatureFailure", "签名头须包含 content-type 与 host")
        canonical_headers = "".join(f"{name}:{request.headers.get(name, '').strip().lower()}\n" for name in names)
        canonical = "\n".join(
            [
                request.method,
                request.path or "/",
                request.query,
                canonical_headers,
                signed_headers,
                hashlib.sha256(request.body).hexdigest(),
            ]
        )
        to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{day}/{service}/tc3_request\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        key = f"TC3{self.secret_key}".encode()
        for part in (day, service, "tc3_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return ("AuthFailure.SignatureFailure", "请求签名验证失败，请检查您的签名计算是否正确")
        return None

    # -- helpers -----------------------------------------------------------------------------

    def _record(self, action: str, payload: Any, code: str) -> None:
        with self.lock:
            self.requests.append(TencentFakeRequest(action, payload if isinstance(payload, dict) else {}, code))

    def _error(self, action: str, payload: Any, code: str, message: str) -> FakeResponse:
        self._record(action, payload, code)
        body = {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": _request_id()}}
        # The SDK reads Error only when Content-Type is exactly application/json [T-COM].
        return FakeResponse(200, json.dumps(body, ensure_ascii=False).encode(), content_type="application/json")


def _request_id() -> str:
    return f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
