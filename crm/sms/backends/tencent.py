"""Tencent Cloud SMS (API 2021-01-11), JSON over HTTPS signed with TC3-HMAC-SHA256.

Hand-written against ``shared/SMS-GATEWAYS.md`` (see docs/decisions/0007): ``SendSms`` and
``PullSmsSendStatusByPhoneNumber`` with the ``X-TC-*`` headers. The API always answers HTTP
200 with ``{"Response": {...}}``; a request failure is ``Response.Error``, a per-number
failure ``SendStatusSet[i].Code``. Any code is accepted in either place. Receipts and
replies arrive on our endpoints as JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from crm.lib.dates import local_midnight

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
from ..formats import (
    canonical_mobile,
    classify,
    json_items,
    load_json,
    parse_china_time,
    parse_unix_time,
    text,
)
from ..http import DEFAULT_TIMEOUTS, HttpAnswer, NoAnswer, NotSent, Timeouts, post
from ..sending import send_via

logger = logging.getLogger("crm.sms.tencent")

API_VERSION = "2021-01-11"
SERVICE = "sms"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"

_P = Outcome.PAUSE
_F = Outcome.FAILED
_T = Outcome.THROTTLED
_R = Outcome.RETRY
_DAY = 86400.0

# Every code of SMS-GATEWAYS.md §2 (Tencent column) [T-SDK errorcodes.py, T-ERR, T-CERR].
TENCENT_ERRORS: dict[str, ErrorRule] = {
    "Ok": ErrorRule(Outcome.ACCEPTED, "腾讯云短信已受理"),
    "LimitExceeded.PhoneNumberThirtySecondLimit": ErrorRule(_T, "同一号码30秒内发送过短信，稍后重试", 30),
    "LimitExceeded.PhoneNumberOneHourLimit": ErrorRule(_T, "该号码已达1小时发送上限，稍后重试", 3600),
    "LimitExceeded.PhoneNumberDailyLimit": ErrorRule(_T, "该号码已达当日发送上限，次日再试", _DAY),
    "LimitExceeded.PhoneNumberSameContentDailyLimit": ErrorRule(_T, "该号码当日已收到相同内容，次日再试", _DAY),
    "LimitExceeded.DeliveryFrequencyLimit": ErrorRule(_T, "该号码命中腾讯云发送频率限制，稍后重试", 3600),
    "FailedOperation.MarketingSendTimeConstraint": ErrorRule(Outcome.DEFER, "营销短信只能在8:00–22:00发送，推迟到8点"),
    "InvalidParameterValue.IncorrectPhoneNumber": ErrorRule(_F, "手机号码格式不正确，腾讯云拒绝发送"),
    "FailedOperation.PhoneNumberParseFail": ErrorRule(_F, "手机号码无法解析，腾讯云拒绝发送"),
    "FailedOperation.PhoneNumberInBlacklist": ErrorRule(Outcome.OPTED_OUT, "该号码已退订或在黑名单中，不再发送"),
    "FailedOperation.SignatureIncorrectOrUnapproved": ErrorRule(_P, "短信签名有误或未通过审核，请管理员检查签名"),
    "FailedOperation.MissingSignatureList": ErrorRule(_P, "账号下没有可用的短信签名，请管理员申请签名"),
    "FailedOperation.TemplateIncorrectOrUnapproved": ErrorRule(_P, "短信模板有误或未通过审核，请管理员检查模板"),
    "FailedOperation.TemplateUnapprovedOrNotExist": ErrorRule(_P, "短信模板未审核或不存在，请管理员检查模板"),
    "FailedOperation.TemplateIdNotExist": ErrorRule(_P, "短信模板 ID 不存在，请管理员检查模板"),
    "InvalidParameterValue.UnsupportedTemplateVariable": ErrorRule(_P, "本账号的模板不支持变量，请管理员调整模板"),
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": ErrorRule(_F, "模板变量个数与审核通过的模板不一致"),
    "InvalidParameterValue.TemplateParameterFormatError": ErrorRule(_F, "模板变量格式不正确"),
    "InvalidParameterValue.TemplateParameterLengthLimit": ErrorRule(_F, "模板变量取值超出长度限制"),
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": ErrorRule(_F, "模板变量中不允许包含链接"),
    "InvalidParameterValue.ContentLengthLimit": ErrorRule(_F, "短信内容超出长度限制"),
    "FailedOperation.ContainSensitiveWord": ErrorRule(_F, "短信内容含有敏感词"),
    "FailedOperation.InsufficientBalanceInSmsPackage": ErrorRule(
        _P, "腾讯云短信套餐包余量不足，短信队列已暂停，请管理员购买"
    ),
    "UnauthorizedOperation.ServiceSuspendDueToArrears": ErrorRule(
        _P, "腾讯云账户欠费停服，短信队列已暂停，请管理员充值"
    ),
    "LimitExceeded.AppDailyLimit": ErrorRule(_P, "已达到腾讯云应用当日发送量上限，短信队列暂停至次日"),
    "LimitExceeded.AppMainlandChinaDailyLimit": ErrorRule(_P, "已达到腾讯云国内短信当日发送量上限，短信队列暂停至次日"),
    "UnauthorizedOperation.SdkAppIdIsDisabled": ErrorRule(_P, "腾讯云短信应用已被禁用，请管理员检查"),
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": ErrorRule(
        _P, "SmsSdkAppId 校验失败，请管理员检查 TENCENT_SMS_SDK_APP_ID"
    ),
    "UnauthorizedOperation.RequestIpNotInWhitelist": ErrorRule(_P, "本服务器 IP 不在腾讯云白名单内，请管理员配置"),
    "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny": ErrorRule(
        _P, "个人认证用户无权发送营销短信，请管理员改用企业认证账号"
    ),
    "AuthFailure.SignatureFailure": ErrorRule(_P, "腾讯云签名校验失败：SecretKey 不正确，请管理员检查配置"),
    "AuthFailure.SecretIdNotFound": ErrorRule(_P, "腾讯云 SecretId 不存在，请管理员检查配置"),
    "AuthFailure.InvalidSecretId": ErrorRule(_P, "腾讯云 SecretId 无效，请管理员检查配置"),
    "AuthFailure.SignatureExpire": ErrorRule(_P, "腾讯云签名已过期：服务器时钟偏差过大，请校准服务器时间"),
    "AuthFailure.UnauthorizedOperation": ErrorRule(_P, "腾讯云密钥无短信发送权限（CAM 授权），请管理员授权"),
    "InternalError.Timeout": ErrorRule(_R, "腾讯云内部超时，稍后重试"),
    "InternalError.SendAndRecvFail": ErrorRule(_R, "腾讯云内部通信失败，稍后重试"),
    "InternalError.UnknownError": ErrorRule(_R, "腾讯云未知内部错误，稍后重试"),
    "InternalError.OtherError": ErrorRule(_R, "腾讯云内部错误，稍后重试"),
    "RequestLimitExceeded": ErrorRule(_R, "腾讯云接口调用过于频繁，稍后重试"),
    # Listed with the transient codes, but a retry fails the same way until the clock is fixed.
    "InternalError.RequestTimeException": ErrorRule(_P, "服务器时钟与腾讯云相差超过10分钟，请校准服务器时间"),
}

_PREFIXES: tuple[tuple[str, ErrorRule], ...] = (
    ("AuthFailure", ErrorRule(_P, "腾讯云鉴权失败，请管理员检查 SecretId/SecretKey 配置")),
    ("UnauthorizedOperation", ErrorRule(_P, "腾讯云拒绝操作（权限或账户状态），请管理员检查")),
    ("InternalError", ErrorRule(_R, "腾讯云内部错误，稍后重试")),
    ("RequestLimitExceeded", ErrorRule(_R, "腾讯云接口调用过于频繁，稍后重试")),
)

# How far after the send day a status query looks; Tencent keeps 7 days of statuses.
_QUERY_SPAN = timedelta(days=3)


def signing_key(secret_key: str, day: str) -> bytes:
    def _hmac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    return _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), day), SERVICE), "tc3_request")


def sign_request(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    action: str,
    body: bytes,
    timestamp: int,
    region: str,
) -> dict[str, str]:
    """The headers of a TC3-signed POST (Authorization included) [T-COM]."""
    day = datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")
    scope = f"{day}/{SERVICE}/tc3_request"
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            # Header values are lower-cased and trimmed in the canonical form.
            f"content-type:{CONTENT_TYPE.lower()}\nhost:{host.strip().lower()}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    string_to_sign = "\n".join(
        [ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    signature = hmac.new(signing_key(secret_key, day), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "Authorization": (
            f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"
        ),
        "Content-Type": CONTENT_TYPE,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Version": API_VERSION,
        "X-TC-Region": region,
    }


def tencent_mobile(mobile: str) -> str:
    """E.164: "+8613812345678" for mainland numbers, foreign ones as stored."""
    return mobile if mobile.startswith("+") else f"+86{mobile}"


class TencentGateway:
    name = "tencent"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        region: str = DEFAULT_REGION,
        endpoint: str = DEFAULT_ENDPOINT,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if "://" not in endpoint:
            endpoint = f"https://{endpoint}"
        self.endpoint = endpoint.rstrip("/")
        self.host = urlsplit(self.endpoint).netloc
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.region = region
        self.timeouts = timeouts
        self.clock = clock

    def __repr__(self) -> str:
        return (
            f"TencentGateway(endpoint={self.endpoint!r}, secret_id={self.secret_id!r}, sdk_app_id={self.sdk_app_id!r})"
        )

    # -- sending ---------------------------------------------------------------------------

    def send(self, message: SmsMessage) -> SendResult:
        if not message.reference or len(message.reference.encode()) >= 512:
            raise ValueError("reference (SessionContext) must be 1–511 bytes")
        payload: dict[str, Any] = {
            "PhoneNumberSet": [tencent_mobile(message.mobile)],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": message.sign_name,
            "TemplateId": message.template_code,
            "SessionContext": message.reference,
        }
        if message.params:
            # {1}{2}…: only the order of the values counts.
            payload["TemplateParamSet"] = [str(value) for value in message.params.values()]
        return send_via(
            lambda: self._call("SendSms", payload), self._send_result, service="腾讯云", message=message, logger=logger
        )

    def _send_result(self, answer: HttpAnswer) -> SendResult:
        if answer.status != 200:
            if answer.status == 504:
                return SendResult(
                    Outcome.UNKNOWN, code="HTTP_504", detail="腾讯云网关超时（HTTP 504），短信可能已发出，须查询状态"
                )
            return SendResult(
                Outcome.RETRY,
                code=f"HTTP_{answer.status}",
                detail=f"腾讯云服务暂时不可用（HTTP {answer.status}），稍后重试",
            )
        response = _response(answer.body)
        if response is None:
            return SendResult(
                Outcome.UNKNOWN, code="BAD_RESPONSE", detail="腾讯云应答无法解析，短信可能已发出，须查询状态"
            )
        error = response.get("Error")
        if isinstance(error, dict):
            return self._failure(text(error, "Code"), text(error, "Message"))
        statuses = response.get("SendStatusSet")
        if not isinstance(statuses, list) or not statuses or not isinstance(statuses[0], dict):
            return SendResult(
                Outcome.UNKNOWN, code="BAD_RESPONSE", detail="腾讯云应答缺少发送状态，短信可能已发出，须查询状态"
            )
        status = statuses[0]
        code = text(status, "Code")
        if code == "Ok":
            accepted = TENCENT_ERRORS["Ok"]
            return SendResult(accepted.outcome, text(status, "SerialNo"), code, accepted.detail)
        return self._failure(code, text(status, "Message"))

    @staticmethod
    def _failure(code: str, gateway_text: str) -> SendResult:
        rule = classify(code, TENCENT_ERRORS, _PREFIXES)
        detail = f"{rule.detail}（{gateway_text[:200]}）" if gateway_text else rule.detail
        return SendResult(rule.outcome, code=code, detail=detail, retry_after=rule.retry_after)

    # -- status query ------------------------------------------------------------------------

    def query(self, reference: str, mobile: str, sent_on: date) -> list[Receipt]:
        begin = local_midnight(sent_on)
        end = min(begin + _QUERY_SPAN, datetime.fromtimestamp(self.clock(), tz=UTC))
        receipts: list[Receipt] = []
        offset = 0
        while offset < 1000:
            payload = {
                "SmsSdkAppId": self.sdk_app_id,
                "PhoneNumber": tencent_mobile(mobile),
                "BeginTime": int(begin.timestamp()),
                "EndTime": int(end.timestamp()) + 1,
                "Offset": offset,
                "Limit": 100,
            }
            try:
                answer = self._call("PullSmsSendStatusByPhoneNumber", payload)
            except (NotSent, NoAnswer) as exc:
                raise QueryError("TIMEOUT", f"查询腾讯云发送状态失败：{exc}", Outcome.RETRY) from exc
            response = _response(answer.body) if answer.status == 200 else None
            if response is None:
                raise QueryError(f"HTTP_{answer.status}", "腾讯云状态查询应答无法解析", Outcome.RETRY)
            error = response.get("Error")
            if isinstance(error, dict):
                rule = classify(text(error, "Code"), TENCENT_ERRORS, _PREFIXES)
                raise QueryError(text(error, "Code"), rule.detail, rule.outcome)
            items = response.get("PullSmsSendStatusSet") or []
            for item in items:
                if isinstance(item, dict) and text(item, "SessionContext") == reference:
                    receipts.append(
                        Receipt(
                            reference=reference,
                            gateway_message_id=text(item, "SerialNo"),
                            mobile=canonical_mobile(text(item, "SubscriberNumber"), text(item, "CountryCode"))
                            if text(item, "SubscriberNumber")
                            else canonical_mobile(text(item, "PhoneNumber")),
                            delivered=text(item, "ReportStatus") == "SUCCESS",
                            code=text(item, "ReportStatus"),
                            detail=text(item, "Description"),
                            reported_at=parse_unix_time(item.get("UserReceiveTime")),
                        )
                    )
            if len(items) < 100:
                break
            offset += 100
        return receipts

    # -- callbacks ---------------------------------------------------------------------------

    def parse_receipts(self, body: bytes, headers: Mapping[str, str]) -> list[Receipt]:
        """Status callback: a JSON array (≤100) of reports [T-CB]; ``ext`` is our SessionContext."""
        receipts = []
        for item in json_items(body):
            code = text(item, "errmsg")
            ext = item.get("ext")
            receipts.append(
                Receipt(
                    reference=ext.strip() if isinstance(ext, str) else "",
                    gateway_message_id=text(item, "sid"),
                    mobile=canonical_mobile(text(item, "mobile"), text(item, "nationcode")),
                    delivered=text(item, "report_status") == "SUCCESS",
                    code=code,
                    detail=text(item, "description"),
                    reported_at=parse_china_time(text(item, "user_receive_time")),
                    has_opted_out=classify(code, TENCENT_ERRORS, ()).outcome is Outcome.OPTED_OUT,
                )
            )
        return receipts

    def parse_replies(self, body: bytes, headers: Mapping[str, str]) -> list[InboundReply]:
        """Reply callback: one object in the sample, an array accepted too [T-REPLY]."""
        return [
            InboundReply(
                mobile=canonical_mobile(text(item, "mobile"), text(item, "nationcode")),
                text=text(item, "text"),
                received_at=parse_unix_time(item.get("time")),
                extend_code=text(item, "extend"),
            )
            for item in json_items(body)
        ]

    def callback_ack(self, *, ok: bool = True) -> CallbackAck:
        # Tencent's failure criterion is undocumented: a 5xx with result≠0 is a failure either way.
        if ok:
            return CallbackAck(200, json.dumps({"result": 0, "errmsg": "OK"}).encode())
        return CallbackAck(500, json.dumps({"result": 1, "errmsg": "FAIL"}).encode())

    # -- transport ---------------------------------------------------------------------------

    def _call(self, action: str, payload: Mapping[str, Any]) -> HttpAnswer:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = sign_request(
            secret_id=self.secret_id,
            secret_key=self.secret_key,
            host=self.host,
            action=action,
            body=body,
            timestamp=int(self.clock()),
            region=self.region,
        )
        return post(f"{self.endpoint}/", headers=headers, body=body, timeouts=self.timeouts)


def _response(body: bytes) -> dict[str, Any] | None:
    try:
        data = load_json(body)
    except ValueError:
        return None
    response = data.get("Response") if isinstance(data, dict) else None
    return response if isinstance(response, dict) else None
