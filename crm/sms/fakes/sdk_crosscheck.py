"""Check the fakes against the official SDKs: their signatures pass, a wrong secret fails.

The adapters are tested against the fakes, so the fakes must verify signatures exactly as
the real services do. This script points the official Python SDKs at the fakes. The SDKs
are not project dependencies: run it from a throwaway virtualenv (stdlib-only fakes, no
Django needed)::

    python3 -m venv /tmp/sdkcheck
    /tmp/sdkcheck/bin/pip install alibabacloud-dysmsapi20170525 tencentcloud-sdk-python-sms
    PYTHONPATH=. /tmp/sdkcheck/bin/python -m crm.sms.fakes.sdk_crosscheck

Last run: alibabacloud-dysmsapi20170525 4.6.0 (tea-openapi 0.4.6, V3 signing) and
tencentcloud-sdk-python-sms 3.1.153 (common 3.1.195): all checks passed.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from .aliyun import FakeAliyunSms
from .tencent import FakeTencentSms


def check_aliyun() -> list[str]:
    from alibabacloud_dysmsapi20170525 import models
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi import models as open_api_models

    problems = []
    with FakeAliyunSms() as fake:
        host = fake.endpoint.removeprefix("http://")

        def client(secret: str) -> Any:
            config = open_api_models.Config(
                access_key_id=fake.access_key_id, access_key_secret=secret, endpoint=host, protocol="http"
            )
            return Client(config)

        request = models.SendSmsRequest(
            phone_numbers="13812345678",
            sign_name="示范置业",
            template_code="SMS_1",
            template_param='{"name":"张三 李","x":"a+b&c=d~e"}',
            out_id="sdk-1",
        )
        answer = client(fake.access_key_secret).send_sms(request)
        if answer.body.code != "OK" or [m.out_id for m in fake.messages] != ["sdk-1"]:
            problems.append(f"aliyun SendSms: {answer.body.code}")
        query = models.QuerySendDetailsRequest(
            phone_number="13812345678",
            send_date=fake.messages[0].sent_at.strftime("%Y%m%d"),
            page_size=10,
            current_page=1,
        )
        details = client(fake.access_key_secret).query_send_details(query).body
        if [d.out_id for d in details.sms_send_detail_dtos.sms_send_detail_dto] != ["sdk-1"]:
            problems.append("aliyun QuerySendDetails did not find the message")
        try:
            client("wrong").send_sms(request)
            problems.append("aliyun accepted a wrong secret")
        except Exception as exc:
            if getattr(exc, "code", "") != "SignatureDoesNotMatch":
                problems.append(f"aliyun wrong secret: {exc}")
    return problems


def check_tencent() -> list[str]:
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import models, sms_client

    problems = []
    with FakeTencentSms() as fake:
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=fake.endpoint.removeprefix("http://")))
        profile.httpProfile.scheme = "http"

        def client(key: str) -> Any:
            return sms_client.SmsClient(credential.Credential(fake.secret_id, key), "ap-guangzhou", profile)

        request = models.SendSmsRequest()
        request.PhoneNumberSet = ["+8613812345678"]
        request.SmsSdkAppId = fake.sdk_app_id
        request.SignName = "示范置业"
        request.TemplateId = "1"
        request.TemplateParamSet = ["张三"]
        request.SessionContext = "sdk-1"
        answer = client(fake.secret_key).SendSms(request)
        if [s.Code for s in answer.SendStatusSet] != ["Ok"]:
            problems.append(f"tencent SendSms: {answer.SendStatusSet}")
        pull = models.PullSmsSendStatusByPhoneNumberRequest()
        pull.BeginTime = int(time.time()) - 3600
        pull.EndTime = int(time.time()) + 5
        pull.Offset = 0
        pull.Limit = 10
        pull.PhoneNumber = "+8613812345678"
        pull.SmsSdkAppId = fake.sdk_app_id
        statuses = client(fake.secret_key).PullSmsSendStatusByPhoneNumber(pull).PullSmsSendStatusSet
        if [s.SessionContext for s in statuses] != ["sdk-1"]:
            problems.append("tencent PullSmsSendStatusByPhoneNumber did not find the message")
        try:
            client("wrong").SendSms(request)
            problems.append("tencent accepted a wrong key")
        except Exception as exc:
            code = exc.get_code() if hasattr(exc, "get_code") else str(exc)
            if code != "AuthFailure.SignatureFailure":
                problems.append(f"tencent wrong key: {code}")
    return problems


def main() -> int:
    problems = check_aliyun() + check_tencent()
    for problem in problems:
        print("FAIL", problem)
    print("all checks passed" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
