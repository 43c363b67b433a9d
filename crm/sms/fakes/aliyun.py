"""A local fake of Aliyun dysmsapi 2017-05-25: SendSms and QuerySendDetails over RPC, V3-signed.

It checks the ACS3-HMAC-SHA256 signature with its own code (not the adapter's signer), from
the raw query string and headers it received, and answers a bad one the way the OpenAPI
gateway does (HTTP 400 SignatureDoesNotMatch, 404 InvalidAccessKeyId.NotFound). It keeps
every accepted message, answers status queries from them, and writes SmsReport receipts and
SmsUp replies in Aliyun's push format. Sends can be scripted one by one (``script``), and it
can throttle per number, run out of balance, or answer every n-th send late.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

from .server import Behaviour, FakeError, FakeRequest, FakeResponse, FakeServer, Script

CHINA_TZ = ZoneInfo("Asia/Shanghai")
_MAINLAND = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
_FOREIGN = re.compile(r"^(?:\+|00)?([1-9]\d{6,14})$")

_BEHAVIOUR_CODES: dict[Behaviour, tuple[int, str, str]] = {
    Behaviour.THROTTLE: (200, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
    Behaviour.INVALID_NUMBER: (200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
    Behaviour.TEMPLATE_UNAPPROVED: (200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"),
    Behaviour.SIGNATURE_UNAPPROVED: (200, "isv.SMS_SIGN_ILLEGAL", "该账号下找不到对应签名"),
    Behaviour.OUT_OF_BALANCE: (200, "isv.AMOUNT_NOT_ENOUGH", "账户余额不足"),
    Behaviour.DAY_LIMIT: (200, "isv.DAY_LIMIT_CONTROL", "触发日发送限额"),
}


@dataclass
class AliyunFakeMessage:
    biz_id: str
    phone_number: str
    sign_name: str
    template_code: str
    template_param: str
    params: dict[str, Any]
    out_id: str
    sent_at: datetime
    send_status: int = 1  # 1 waiting, 2 failed, 3 delivered
    err_code: str = ""
    err_msg: str = ""
    reported_at: datetime | None = None


@dataclass
class AliyunFakeRequest:
    action: str
    params: dict[str, str]
    code: str


@dataclass
class FakeAliyunSms(FakeServer):
    access_key_id: str = "fake-aliyun-ak"
    access_key_secret: str = "fake-aliyun-secret"
    per_number_limit: int | None = None
    """Accepted sends per number before isv.BUSINESS_LIMIT_CONTROL (the fake's "minute")."""
    balance: int | None = None
    """Messages left before isv.AMOUNT_NOT_ENOUGH; None is unlimited."""
    timeout_every: int | None = None
    """Every n-th SendSms is accepted but answered ``slow_seconds`` late."""
    deliver_at_once: bool = True
    """Accepted messages are delivered at once (SendStatus 3); else they wait (SendStatus 1)."""
    slow_seconds: float = 2.0
    hold_first_send_seconds: float | None = None
    """The first SendSms waits (up to this long) until a second one arrives: the first
    sender is blocked in it, so the second comes from another sender, and a test of several
    senders knows each took part whatever order their processes started in."""
    messages: list[AliyunFakeMessage] = field(default_factory=list)
    requests: list[AliyunFakeRequest] = field(default_factory=list)
    _script: list[Script] = field(default_factory=list, init=False, repr=False)
    _send_calls: int = field(default=0, init=False)
    _nonces: set[str] = field(default_factory=set, init=False, repr=False)
    _second_send: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def __post_init__(self) -> None:
        FakeServer.__init__(self)

    # -- test controls -----------------------------------------------------------------------

    def script(self, *behaviours: Script) -> None:
        with self.lock:
            self._script.extend(behaviours)

    @property
    def send_calls(self) -> int:
        return self._send_calls

    def messages_to(self, phone_number: str) -> list[AliyunFakeMessage]:
        with self.lock:
            return [m for m in self.messages if m.phone_number == phone_number]

    def deliver(self, message: AliyunFakeMessage, *, success: bool = True, err_code: str = "") -> None:
        with self.lock:
            message.send_status = 3 if success else 2
            message.err_code = err_code or ("DELIVERED" if success else "MK:0001")
            message.err_msg = "用户接收成功" if success else "失败"
            message.reported_at = datetime.now(tz=CHINA_TZ).replace(microsecond=0)

    def receipt_body(self, *messages: AliyunFakeMessage) -> bytes:
        """An SmsReport push (HTTP batch mode) for these messages, as Aliyun POSTs it."""
        reports = [
            {
                "phone_number": m.phone_number,
                "send_time": _china(m.sent_at),
                "report_time": _china(m.reported_at or m.sent_at),
                "success": m.send_status == 3,
                "err_code": m.err_code,
                "err_msg": m.err_msg,
                "sms_size": "1",
                "biz_id": m.biz_id,
                "out_id": m.out_id,
                "sign_name": m.sign_name,
                "template_code": m.template_code,
            }
            for m in messages
        ]
        return json.dumps(reports, ensure_ascii=False).encode()

    @staticmethod
    def reply_body(phone_number: str, content: str, *, dest_code: str = "", sent_at: datetime | None = None) -> bytes:
        """An SmsUp push (HTTP batch mode) of one reply."""
        when = sent_at or datetime(2026, 3, 1, 9, 30, tzinfo=CHINA_TZ)
        reply = {
            "phone_number": phone_number,
            "send_time": _china(when),
            "content": content,
            "sign_name": "示范置业",
            "dest_code": dest_code,
            "sequence_id": "1234567890",
        }
        return json.dumps([reply], ensure_ascii=False).encode()

    # -- the protocol ------------------------------------------------------------------------

    def handle(self, request: FakeRequest) -> FakeResponse:
        params = dict(parse_qsl(request.query, keep_blank_values=True))
        if request.body and "form-urlencoded" in request.headers.get("content-type", ""):
            params.update(parse_qsl(request.body.decode(), keep_blank_values=True))
        action = request.headers.get("x-acs-action") or params.get("Action", "")
        denied = self._check_signature(request)
        if denied is not None:
            self._record(action, params, json.loads(denied.body)["Code"])
            return denied
        if request.headers.get("x-acs-version") != "2017-05-25":
            return self._error(400, action, params, "InvalidVersion", "Specified parameter Version is not valid.")
        if action == "SendSms":
            return self._send_sms(params)
        if action == "QuerySendDetails":
            return self._query_send_details(params)
        return self._error(404, action, params, "InvalidAction.NotFound", f"Specified api is not found: {action}")

    def _send_sms(self, params: dict[str, str]) -> FakeResponse:
        with self.lock:
            self._send_calls += 1
            first = self._send_calls == 1
            if not first:
                self._second_send.set()
            behaviour = self._script.pop(0) if self._script else Behaviour.OK
            if self.timeout_every and self._send_calls % self.timeout_every == 0 and behaviour is Behaviour.OK:
                behaviour = Behaviour.TIMEOUT
        if first and self.hold_first_send_seconds is not None:
            self._second_send.wait(self.hold_first_send_seconds)
        if isinstance(behaviour, FakeError):
            return self._error(behaviour.http_status, "SendSms", params, behaviour.code, behaviour.message)
        if behaviour is Behaviour.HTTP_500:
            self._record("SendSms", params, "HTTP_500")
            return FakeResponse(500, b'{"Code":"InternalError","Message":"The request processing has failed."}')
        if behaviour is Behaviour.LOST:
            self._record("SendSms", params, "LOST")
            return FakeResponse(500, b"{}", delay=self.slow_seconds)
        if behaviour in _BEHAVIOUR_CODES:
            status, code, text = _BEHAVIOUR_CODES[behaviour]
            return self._error(status, "SendSms", params, code, text)
        if behaviour is Behaviour.TIME_WINDOW:
            raise ValueError("Aliyun has no time-window error code (SMS-GATEWAYS.md §2)")

        missing = [name for name in ("PhoneNumbers", "SignName", "TemplateCode") if not params.get(name)]
        if missing:
            return self._error(400, "SendSms", params, f"Missing{missing[0]}", f"{missing[0]} is mandatory.")
        phone = params["PhoneNumbers"]
        if "," in phone or not (_MAINLAND.match(phone) or _FOREIGN.match(phone)):
            return self._error(200, "SendSms", params, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        template_param = params.get("TemplateParam", "")
        try:
            values = json.loads(template_param) if template_param else {}
        except json.JSONDecodeError:
            values = None
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            return self._error(200, "SendSms", params, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        with self.lock:
            if self.per_number_limit is not None and len(self.messages_to(phone)) >= self.per_number_limit:
                permits = self.per_number_limit
                return self._error(
                    200, "SendSms", params, "isv.BUSINESS_LIMIT_CONTROL", f"触发分钟级流控Permits:{permits}"
                )
            if self.balance is not None:
                if self.balance <= 0:
                    return self._error(200, "SendSms", params, "isv.AMOUNT_NOT_ENOUGH", "账户余额不足")
                self.balance -= 1
            message = AliyunFakeMessage(
                biz_id=f"{secrets.randbelow(10**15):015d}^0",
                phone_number=phone,
                sign_name=params["SignName"],
                template_code=params["TemplateCode"],
                template_param=template_param,
                params=values,
                out_id=params.get("OutId", ""),
                sent_at=datetime.now(tz=CHINA_TZ).replace(microsecond=0),
            )
            self.messages.append(message)
            if behaviour is Behaviour.BLACKLISTED:
                # Aliyun has no API code for a blacklisted number; the receipt says it [A-BLK].
                self.deliver(message, success=False, err_code="W-BLACK")
            elif self.deliver_at_once:
                self.deliver(message)
            self._record("SendSms", params, "OK")
        if behaviour is Behaviour.HANG_UP:
            return FakeResponse(0, b"")
        body = {"Code": "OK", "Message": "OK", "BizId": message.biz_id, "RequestId": _request_id()}
        delay = self.slow_seconds if behaviour is Behaviour.TIMEOUT else 0.0
        return FakeResponse(200, json.dumps(body).encode(), delay=delay)

    def _query_send_details(self, params: dict[str, str]) -> FakeResponse:
        for name in ("PhoneNumber", "SendDate", "PageSize", "CurrentPage"):
            if not params.get(name):
                return self._error(400, "QuerySendDetails", params, f"Missing{name}", f"{name} is mandatory.")
        page_size = int(params["PageSize"])
        page = int(params["CurrentPage"])
        if not 1 <= page_size <= 50:
            return self._error(200, "QuerySendDetails", params, "isv.PARAM_ILLEGAL", "PageSize 1-50")
        with self.lock:
            matching = [
                m
                for m in self.messages
                if m.phone_number == params["PhoneNumber"]
                and m.sent_at.strftime("%Y%m%d") == params["SendDate"]
                and (not params.get("BizId") or m.biz_id == params["BizId"])
            ]
            window = matching[(page - 1) * page_size : page * page_size]
            dtos = [
                {
                    "PhoneNum": m.phone_number,
                    "SendStatus": m.send_status,
                    "ErrCode": m.err_code,
                    "TemplateCode": m.template_code,
                    "Content": f"【{m.sign_name}】{m.template_code}:{m.template_param}",
                    "SendDate": _china(m.sent_at),
                    "ReceiveDate": _china(m.reported_at) if m.reported_at else "",
                    "OutId": m.out_id,
                }
                for m in window
            ]
            self._record("QuerySendDetails", params, "OK")
        body = {
            "Code": "OK",
            "Message": "OK",
            "RequestId": _request_id(),
            "TotalCount": str(len(matching)),
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos},
        }
        return FakeResponse(200, json.dumps(body, ensure_ascii=False).encode())

    # -- signature V3 ------------------------------------------------------------------------

    def _check_signature(self, request: FakeRequest) -> FakeResponse | None:
        auth = request.headers.get("authorization", "")
        match = re.fullmatch(r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)", auth)
        if not match:
            return _answer(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.")
        key_id, signed_headers, signature = match.groups()
        if key_id != self.access_key_id:
            return _answer(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        names = signed_headers.split(";")
        required = {
            "host",
            "x-acs-action",
            "x-acs-version",
            "x-acs-date",
            "x-acs-signature-nonce",
            "x-acs-content-sha256",
        }
        if not required <= set(names) or names != sorted(names):
            return _answer(400, "IncompleteSignature", "Signed headers are incomplete.")
        if request.headers.get("x-acs-content-sha256") != hashlib.sha256(request.body).hexdigest():
            return _answer(400, "SignatureDoesNotMatch", "The content hash does not match the body.")
        try:
            sent = datetime.strptime(request.headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return _answer(400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.")
        if abs((datetime.now(tz=UTC) - sent).total_seconds()) > 15 * 60:
            return _answer(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        pairs = sorted(parse_qsl(request.query, keep_blank_values=True))
        canonical_query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)
        canonical_headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in names)
        payload_hash = request.headers["x-acs-content-sha256"]
        canonical = f"{request.method}\n{request.path or '/'}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}"
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(self.access_key_secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return _answer(400, "SignatureDoesNotMatch", "Specified signature does not match our calculation.")
        nonce = request.headers.get("x-acs-signature-nonce", "")
        with self.lock:
            if nonce in self._nonces:
                return _answer(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces.add(nonce)
        return None

    # -- helpers -----------------------------------------------------------------------------

    def _record(self, action: str, params: dict[str, str], code: str) -> None:
        with self.lock:
            self.requests.append(AliyunFakeRequest(action, params, code))

    def _error(self, status: int, action: str, params: dict[str, str], code: str, message: str) -> FakeResponse:
        self._record(action, params, code)
        return _answer(status, code, message)


def _answer(status: int, code: str, message: str) -> FakeResponse:
    body = {"RequestId": _request_id(), "Code": code, "Message": message}
    return FakeResponse(status, json.dumps(body, ensure_ascii=False).encode())


def _request_id() -> str:
    return secrets.token_hex(16).upper()


def _china(moment: datetime) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
