"""Aliyun SMS (dysmsapi 2017-05-25) over its RPC API, signed with ACS3-HMAC-SHA256 (V3).

Hand-written against ``shared/SMS-GATEWAYS.md`` (see docs/decisions/0007): ``SendSms`` and
``QuerySendDetails`` with every parameter in the query string and an empty body, the action
and version in ``x-acs-*`` headers, and the V3 signature over host and the ``x-acs-*``
headers. Receipts (SmsReport) and replies (SmsUp) arrive as JSON arrays on our endpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from ..base import (
    CallbackAck,
    ErrorRule,
    InboundReply,
    Outcome,
    QueryError,
    Receipt,
    SendResult,
    SmsMessage,
)
from ..formats import canonical_mobile, classify, json_items, load_json, parse_china_time, text
from ..http import DEFAULT_TIMEOUTS, HttpAnswer, NoAnswer, NotSent, Timeouts, post
from ..sending import send_via

logger = logging.getLogger("crm.sms.aliyun")

API_VERSION = "2017-05-25"
ALGORITHM = "ACS3-HMAC-SHA256"
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"

_P = Outcome.PAUSE
_F = Outcome.FAILED

# Every code of SMS-GATEWAYS.md §2 (Aliyun column), plus the OpenAPI gateway's own answers to
# a bad credential or API-rate throttling, which come as HTTP 4xx with the same JSON shape.
ALIYUN_ERRORS: dict[str, ErrorRule] = {
    "OK": ErrorRule(Outcome.ACCEPTED, "阿里云短信已受理"),
    # Per-number limits (1/min, 5/h, 10/day for OTP; 50/day per template): the window is in
    # the message, see _throttle_window.
    "isv.BUSINESS_LIMIT_CONTROL": ErrorRule(Outcome.THROTTLED, "该号码触发阿里云发送频率限制，稍后重试", 3600),
    "isv.MOBILE_NUMBER_ILLEGAL": ErrorRule(_F, "手机号码格式不正确，阿里云拒绝发送"),
    "isv.SMS_SIGN_ILLEGAL": ErrorRule(_P, "短信签名不合法或未通过审核，请管理员在阿里云控制台检查签名"),
    "isv.SIGN_STATE_ILLEGAL": ErrorRule(_P, "短信签名状态异常（未审核通过或已停用），请管理员检查签名"),
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL": ErrorRule(_P, "签名的适用场景与模板类型不符，请管理员检查签名"),
    "isv.SMS_SIGNATURE_ILLEGAL": ErrorRule(_P, "短信签名不合法，请管理员检查签名"),
    "isv.SMS_TEMPLATE_ILLEGAL": ErrorRule(_P, "短信模板不存在或未通过审核，请管理员检查模板"),
    "isv.TEMPLATE_PARAMS_ILLEGAL": ErrorRule(_F, "模板变量不符合规范（类型或内容被拒）"),
    "isv.SMS_CONTENT_ILLEGAL": ErrorRule(_F, "短信内容含有违禁内容，阿里云拒绝发送"),
    "isv.TEMPLATE_MISSING_PARAMETERS": ErrorRule(_F, "模板变量缺少取值"),
    "isv.PARAM_LENGTH_LIMIT": ErrorRule(_F, "模板变量取值超出长度限制"),
    "isv.PARAM_NOT_SUPPORT_URL": ErrorRule(_F, "模板变量中不允许包含链接"),
    "isv.BLACK_KEY_CONTROL_LIMIT": ErrorRule(_F, "短信内容命中黑名单关键字"),
    "isv.INVALID_JSON_PARAM": ErrorRule(_F, "模板变量格式不正确（须为字符串取值的 JSON）"),
    "isv.AMOUNT_NOT_ENOUGH": ErrorRule(_P, "阿里云账户余额不足，短信队列已暂停，请管理员充值"),
    "isv.OUT_OF_SERVICE": ErrorRule(_P, "阿里云短信业务已停机（欠费），短信队列已暂停，请管理员处理"),
    "isv.DAY_LIMIT_CONTROL": ErrorRule(_P, "已达到阿里云当日发送量上限，短信队列暂停至次日"),
    "isv.MONTH_LIMIT_CONTROL": ErrorRule(_P, "已达到阿里云当月发送量上限，短信队列暂停至下月"),
    "isv.PRODUCT_UN_SUBSCRIPT": ErrorRule(_P, "阿里云账户未开通短信服务，请管理员开通"),
    "isv.ACCOUNT_ABNORMAL": ErrorRule(_P, "阿里云账户状态异常，请管理员检查"),
    "isp.RAM_PERMISSION_DENY": ErrorRule(_P, "AccessKey 无短信发送权限（RAM 授权），请管理员授权"),
    "isv.DENY_IP_RANGE": ErrorRule(_P, "本服务器 IP 不在阿里云白名单内，请管理员配置"),
    "isp.SYSTEM_ERROR": ErrorRule(Outcome.RETRY, "阿里云系统错误，稍后重试"),
    # The OpenAPI gateway's own codes (HTTP 4xx): credentials and API-rate throttling.
    "SignatureDoesNotMatch": ErrorRule(_P, "阿里云签名校验失败：AccessKey Secret 不正确，请管理员检查配置"),
    "IncompleteSignature": ErrorRule(_P, "阿里云签名不完整，请管理员检查配置"),
    "InvalidAccessKeyId.NotFound": ErrorRule(_P, "阿里云 AccessKey ID 不存在，请管理员检查配置"),
    "InvalidAccessKeyId.Inactive": ErrorRule(_P, "阿里云 AccessKey 已停用，请管理员检查配置"),
    "InvalidTimeStamp.Expired": ErrorRule(_P, "服务器时钟与阿里云相差过大，请校准服务器时间"),
    "Throttling": ErrorRule(Outcome.RETRY, "阿里云接口调用过于频繁，稍后重试"),
    "Throttling.User": ErrorRule(Outcome.RETRY, "阿里云接口调用过于频繁，稍后重试"),
    "Throttling.Api": ErrorRule(Outcome.RETRY, "阿里云接口调用过于频繁，稍后重试"),
    "ServiceUnavailable": ErrorRule(Outcome.RETRY, "阿里云服务暂不可用，稍后重试"),
    "InternalError": ErrorRule(Outcome.RETRY, "阿里云内部错误，稍后重试"),
}

_PREFIXES: tuple[tuple[str, ErrorRule], ...] = (
    ("Throttling", ErrorRule(Outcome.RETRY, "阿里云接口调用过于频繁，稍后重试")),
    ("InvalidAccessKeyId", ErrorRule(_P, "阿里云 AccessKey 无效，请管理员检查配置")),
    ("Forbidden", ErrorRule(_P, "阿里云拒绝访问，请管理员检查 AccessKey 权限")),
    ("isp.", ErrorRule(Outcome.RETRY, "阿里云系统错误，稍后重试")),
)

# Receipt err_codes that mean the number is blacklisted / unsubscribed [A-BLK].
ALIYUN_OPT_OUT_RECEIPT_CODES = frozenset({"W-BLACK"})

# QuerySendDetails SendStatus [A-QSD2].
_SEND_STATUS = {"1": "等待回执", "2": "发送失败", "3": "发送成功"}


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the V3 canonical query wants it: space is %20, "~" stays."""
    return quote(value, safe="~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def sign_request(
    *,
    access_key_id: str,
    access_key_secret: str,
    host: str,
    action: str,
    query: Mapping[str, str],
    body: bytes,
    x_acs_date: str,
    nonce: str,
    method: str = "POST",
) -> dict[str, str]:
    """The headers of a V3-signed request (Authorization included)."""
    payload_hash = hashlib.sha256(body).hexdigest()
    signed = {
        "host": host,
        "x-acs-action": action,
        "x-acs-content-sha256": payload_hash,
        "x-acs-date": x_acs_date,
        "x-acs-signature-nonce": nonce,
        "x-acs-version": API_VERSION,
    }
    names = sorted(signed)
    canonical_headers = "".join(f"{name}:{signed[name].strip()}\n" for name in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        [method, "/", canonical_query(query), canonical_headers, signed_headers, payload_hash]
    )
    string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    signature = hmac.new(access_key_secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        **signed,
        "Authorization": f"{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}",
    }


def aliyun_mobile(mobile: str) -> str:
    """Mainland numbers bare ("13812345678"); foreign ones as country code + number, no "+"."""
    return mobile[1:] if mobile.startswith("+") else mobile


def template_param(params: Mapping[str, object]) -> str:
    """TemplateParam is a JSON *string* whose values are all strings [A-SDK, A-LEG]."""
    return json.dumps({str(k): str(v) for k, v in params.items()}, ensure_ascii=False, separators=(",", ":"))


def _throttle_window(message: str) -> float:
    """Aliyun names the window in the message: 触发分钟级流控 / 小时级 / 天级."""
    if "分钟" in message:
        return 60
    if "小时" in message:
        return 3600
    if "天" in message or "日" in message:
        return 86400
    return 3600


class AliyunGateway:
    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        endpoint: str = DEFAULT_ENDPOINT,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if "://" not in endpoint:
            endpoint = f"https://{endpoint}"
        self.endpoint = endpoint.rstrip("/")
        self.host = urlsplit(self.endpoint).netloc
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.timeouts = timeouts
        self.clock = clock

    def __repr__(self) -> str:
        return f"AliyunGateway(endpoint={self.endpoint!r}, access_key_id={self.access_key_id!r})"

    # -- sending ---------------------------------------------------------------------------

    def send(self, message: SmsMessage) -> SendResult:
        if not message.reference or len(message.reference) >= 256:
            raise ValueError("reference (OutId) must be 1–255 characters")
        query = {
            "PhoneNumbers": aliyun_mobile(message.mobile),
            "SignName": message.sign_name,
            "TemplateCode": message.template_code,
            "OutId": message.reference,
        }
        if message.params:
            query["TemplateParam"] = template_param(message.params)
        return send_via(
            lambda: self._call("SendSms", query), self._send_result, service="阿里云", message=message, logger=logger
        )

    def _send_result(self, answer: HttpAnswer) -> SendResult:
        data = _json_object(answer.body)
        if answer.status >= 500:
            code = str(data.get("Code") or f"HTTP_{answer.status}")
            if answer.status == 504:
                # A proxy gave up waiting for the gateway: the same ambiguity as our own timeout.
                return SendResult(
                    Outcome.UNKNOWN, code=code, detail="阿里云网关超时（HTTP 504），短信可能已发出，须查询状态"
                )
            return SendResult(
                Outcome.RETRY, code=code, detail=f"阿里云服务暂时不可用（HTTP {answer.status}），稍后重试"
            )
        code = str(data.get("Code") or "")
        if not code:
            if answer.status == 429:
                return SendResult(Outcome.RETRY, code="HTTP_429", detail="阿里云接口调用过于频繁，稍后重试")
            if answer.status >= 400:
                return SendResult(
                    Outcome.PAUSE,
                    code=f"HTTP_{answer.status}",
                    detail=f"阿里云拒绝请求（HTTP {answer.status}），请管理员检查接入地址和密钥",
                )
            return SendResult(
                Outcome.UNKNOWN, code="BAD_RESPONSE", detail="阿里云应答无法解析，短信可能已发出，须查询状态"
            )
        gateway_text = str(data.get("Message") or "")
        if code == "OK":
            accepted = ALIYUN_ERRORS["OK"]
            return SendResult(accepted.outcome, str(data.get("BizId") or ""), code, accepted.detail)
        rule = classify(code, ALIYUN_ERRORS, _PREFIXES)
        retry_after = rule.retry_after
        if code == "isv.BUSINESS_LIMIT_CONTROL":
            retry_after = _throttle_window(gateway_text)
        detail = f"{rule.detail}（{gateway_text[:200]}）" if gateway_text else rule.detail
        return SendResult(rule.outcome, code=code, detail=detail, retry_after=retry_after)

    # -- status query ------------------------------------------------------------------------

    def query(self, reference: str, mobile: str, sent_on: date) -> list[Receipt]:
        receipts: list[Receipt] = []
        page = 1
        while page <= 20:  # 1,000 messages to one number in one day is already absurd
            query = {
                "PhoneNumber": aliyun_mobile(mobile),
                "SendDate": sent_on.strftime("%Y%m%d"),
                "PageSize": "50",
                "CurrentPage": str(page),
            }
            try:
                answer = self._call("QuerySendDetails", query)
            except (NotSent, NoAnswer) as exc:
                raise QueryError("TIMEOUT", f"查询阿里云发送状态失败：{exc}", Outcome.RETRY) from exc
            data = _json_object(answer.body)
            code = str(data.get("Code") or f"HTTP_{answer.status}")
            if code != "OK":
                rule = classify(code, ALIYUN_ERRORS, _PREFIXES)
                raise QueryError(code, rule.detail, rule.outcome)
            details = data.get("SmsSendDetailDTOs")
            items = (details.get("SmsSendDetailDTO") or []) if isinstance(details, dict) else []
            for item in items:
                if isinstance(item, dict) and text(item, "OutId") == reference:
                    receipts.append(self._query_receipt(item, mobile))
            total = int(str(data.get("TotalCount") or "0") or 0)
            if not items or page * 50 >= total:
                break
            page += 1
        return receipts

    @staticmethod
    def _query_receipt(item: dict[str, Any], mobile: str) -> Receipt:
        status = text(item, "SendStatus")
        err_code = text(item, "ErrCode")
        return Receipt(
            reference=text(item, "OutId"),
            gateway_message_id="",  # QuerySendDetails does not return the BizId
            mobile=canonical_mobile(text(item, "PhoneNum")) if text(item, "PhoneNum") else mobile,
            delivered=status == "3",
            code=err_code,
            detail=_SEND_STATUS.get(status, f"未知状态 {status}"),
            reported_at=parse_china_time(text(item, "ReceiveDate")),
            is_final=status in ("2", "3"),
            has_opted_out=err_code in ALIYUN_OPT_OUT_RECEIPT_CODES,
        )

    # -- callbacks ---------------------------------------------------------------------------

    def parse_receipts(self, body: bytes, headers: Mapping[str, str]) -> list[Receipt]:
        """SmsReport, HTTP batch push: a JSON array of reports [A-RPT, A-RPT2]."""
        receipts = []
        for item in json_items(body):
            success = item.get("success")
            err_code = text(item, "err_code")
            receipts.append(
                Receipt(
                    reference=text(item, "out_id"),
                    gateway_message_id=text(item, "biz_id"),
                    mobile=canonical_mobile(text(item, "phone_number")),
                    delivered=success is True or str(success).lower() == "true",
                    code=err_code,
                    detail=text(item, "err_msg"),
                    reported_at=parse_china_time(text(item, "report_time")),
                    has_opted_out=err_code in ALIYUN_OPT_OUT_RECEIPT_CODES,
                )
            )
        return receipts

    def parse_replies(self, body: bytes, headers: Mapping[str, str]) -> list[InboundReply]:
        """SmsUp, HTTP batch push: a JSON array of replies [A-UP]."""
        return [
            InboundReply(
                mobile=canonical_mobile(text(item, "phone_number")),
                text=text(item, "content"),
                received_at=parse_china_time(text(item, "send_time")),
                extend_code=text(item, "dest_code"),
            )
            for item in json_items(body)
        ]

    def callback_ack(self, *, ok: bool = True) -> CallbackAck:
        # Aliyun checks only that "code" is a number; a 5xx makes it push again (1, 5, 10 min).
        if ok:
            return CallbackAck(200, json.dumps({"code": 0, "msg": "接收成功"}, ensure_ascii=False).encode())
        return CallbackAck(500, json.dumps({"code": 1, "msg": "接收失败"}, ensure_ascii=False).encode())

    # -- transport ---------------------------------------------------------------------------

    def _call(self, action: str, query: Mapping[str, str]) -> HttpAnswer:
        body = b""
        headers = sign_request(
            access_key_id=self.access_key_id,
            access_key_secret=self.access_key_secret,
            host=self.host,
            action=action,
            query=query,
            body=body,
            x_acs_date=datetime.fromtimestamp(self.clock(), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            nonce=uuid.uuid4().hex,
        )
        headers["Accept"] = "application/json"
        # The URL carries exactly the canonical query that was signed.
        return post(f"{self.endpoint}/?{canonical_query(query)}", headers=headers, body=body, timeouts=self.timeouts)


def _json_object(body: bytes) -> dict[str, Any]:
    """Aliyun's 2xx bodies are JSON whatever the Content-Type [A-OAPI]; {} when not parseable."""
    try:
        data = load_json(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
