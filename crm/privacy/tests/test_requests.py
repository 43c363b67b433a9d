"""Data-subject requests: deadline, lifecycle, erasure or restriction, the copy, pages and API."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.errors import DomainError
from crm.core.models import AuditLog
from crm.customers.models import Customer
from crm.privacy import services
from crm.privacy.models import DataSubjectRequest, ErasureRecord

from .conftest import ID_NUMBER, MOBILE, NAME, NOW

pytestmark = pytest.mark.django_db


def make_request(world, actor, kind="erase", **kw):
    fields = {
        "received_via": "visit",
        "identity_check": "到访出示身份证原件，核对无误",
        "received_on": date(2026, 11, 16),
    }
    return services.create_request(world.customer, actor=actor, kind=kind, now=NOW, **(fields | kw))


def test_the_deadline_is_15_working_days_on_the_work_calendar(world, director):
    request = make_request(world, director)
    # Monday 2026-11-16 + 15 working days: Monday 2026-12-07.
    assert request.deadline_on == date(2026, 12, 7)
    assert not request.deadline_is_estimate


def test_a_deadline_in_a_year_without_calendar_is_an_early_estimate():
    deadline, estimate = services.deadline_for(date(2027, 3, 1))
    assert estimate
    assert deadline == date(2027, 3, 16)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"identity_check": "  "}, "核验"),
        ({"kind": "other"}, "申请类型"),
        ({"received_on": date(2026, 12, 1)}, "不能晚于今天"),
        ({"kind": "correct", "details": ""}, "更正"),
        ({"identity_check": f"核对身份证 {ID_NUMBER}"}, "不要填写证件号码"),
    ],
)
def test_a_request_missing_what_it_needs_is_refused_in_chinese(world, director, kw, message):
    with pytest.raises(DomainError, match=message):
        make_request(world, director, **({"kind": "erase"} | kw))


def test_erasure_request_anonymises_and_closes_with_a_ledger_row(world, director):
    request = make_request(world, director, details=f"请删除{NAME}的全部信息")
    record = services.erase_for_request(request, actor=director, now=NOW)
    request.refresh_from_db()
    assert request.status == DataSubjectRequest.Status.COMPLETED
    assert request.details == ""
    assert record.kind == "request"
    assert record.request == request
    assert Customer.objects.get(pk=world.customer.pk).name == "已注销客户"
    with pytest.raises(DomainError, match="已办结"):
        services.erase_for_request(request, actor=director, now=NOW)
    with pytest.raises(DomainError, match="已删除"):
        make_request(world, director)


def test_a_legal_hold_restricts_instead_of_erasing(world, director, admin_user):
    services.set_legal_hold(world.customer, actor=admin_user, reason="(2026)豫0105民初123号 诉讼中", now=NOW)
    request = make_request(world, director)
    record = services.erase_for_request(request, actor=director, now=NOW)
    request.refresh_from_db()
    customer = Customer.objects.get(pk=world.customer.pk)
    assert request.status == DataSubjectRequest.Status.RESTRICTED
    assert record.kind == ErasureRecord.Kind.RESTRICT
    assert customer.name == NAME  # kept, only restricted
    assert customer.has_opted_out
    assert customer.is_archived


def test_only_who_may_erase_can_erase(world, director, supervisor):
    request = make_request(world, director)
    with pytest.raises(DomainError, match="权限"):
        services.erase_for_request(request, actor=supervisor, now=NOW)


def test_the_copy_holds_every_section_and_masks_the_id_number(world, director):
    request = make_request(world, director, kind="copy")
    data = json.loads(services.produce_copy(request, actor=director, fmt="json"))
    assert data["客户"]["姓名"] == NAME
    assert data["客户"]["手机号"] == MOBILE
    assert {"客户信息档案", "家庭成员", "投诉", "回访", "短信", "客户动态"} <= set(data)
    text = json.dumps(data, ensure_ascii=False)
    assert ID_NUMBER not in text
    assert ID_NUMBER[-4:] in text
    rows = list(csv.reader(io.StringIO(services.produce_copy(request, actor=director, fmt="csv").decode("utf-8-sig"))))
    assert rows[0] == ["类别", "序号", "项目", "内容"]
    assert ["客户", "1", "姓名", NAME] in rows
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, customer_id=world.customer.pk).count() == 2


def test_pages_register_act_and_download(world, director, login):
    client = login(director)
    response = client.post(reverse("privacy:new", args=[world.customer.pk]), {"kind": "copy", "received_via": "visit"})
    assert response.status_code == 400
    assert "身份" in response.content.decode()
    assert 'value="visit" selected' in response.content.decode()
    response = client.post(
        reverse("privacy:new", args=[world.customer.pk]),
        {"kind": "copy", "received_via": "visit", "received_on": "2026-11-16", "identity_check": "核对身份证原件"},
    )
    request = DataSubjectRequest.objects.get()
    assert response.status_code == 302
    assert f"{request.number}</a>" in client.get(reverse("privacy:list")).content.decode()
    download = client.post(reverse("privacy:copy", args=[request.pk, "csv"]))
    assert download.status_code == 200
    assert NAME in download.content.decode("utf-8-sig")
    response = client.post(reverse("privacy:action", args=[request.pk, "complete"]), {"outcome": "已当面交付副本"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "completed"


def test_the_erase_button_needs_the_confirmation(world, director, login):
    request = make_request(world, director)
    client = login(director)
    response = client.post(reverse("privacy:action", args=[request.pk, "erase"]))
    assert response.status_code == 400
    assert "请勾选确认" in response.content.decode()
    assert client.post(reverse("privacy:action", args=[request.pk, "erase"]), {"confirm": "1"}).status_code == 302
    assert Customer.objects.get(pk=world.customer.pk).name == "已注销客户"


def test_outsiders_get_404_on_pages_and_api(world, director, outsider, make_staff, login):
    request = make_request(world, director)
    from crm.accounts.roles import Role

    other_director = make_staff("director_b", Role.DIRECTOR, projects=())
    client = login(other_director)
    assert client.get(reverse("privacy:detail", args=[request.pk])).status_code == 404
    assert client.post(reverse("privacy:copy", args=[request.pk, "json"])).status_code == 404
    assert client.get(f"/api/privacy/requests/{request.pk}/").status_code == 404
    assert client.post(f"/api/privacy/requests/{request.pk}/copy/").status_code == 404
    assert client.get(reverse("privacy:new", args=[world.customer.pk])).status_code == 404
    assert login(outsider).get(reverse("privacy:list")).status_code == 403


def test_api_registers_lists_and_copies(world, director, login):
    client = login(director)
    response = client.post(
        "/api/privacy/requests/",
        {
            "customer": world.customer.pk,
            "kind": "access",
            "received_via": "phone",
            "received_on": str(timezone.localdate()),
            "identity_check": "电话回拨登记号码并核对购房合同编号",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert client.get("/api/privacy/requests/").json()["results"][0]["id"] == pk
    copy = client.post(f"/api/privacy/requests/{pk}/copy/")
    assert copy.status_code == 200
    assert copy.json()["客户"]["姓名"] == NAME
    bad = client.post(
        "/api/privacy/requests/", {"customer": world.customer.pk, "kind": "erase"}, content_type="application/json"
    )
    assert bad.status_code == 400


def test_the_workbench_card_counts_requests_due_soon(world, director):
    from crm.privacy.cards import workbench_cards

    make_request(world, director, received_on=timezone.localdate() - timedelta(days=30))
    card = workbench_cards(director, today=timezone.localdate())[0]
    stats = {s.key: s.value for s in card.stats}
    assert stats["privacy_open"] == 1
    assert stats["privacy_overdue"] == 1
    assert stats["privacy_due"] == 1


def test_the_request_shows_on_the_customers_timeline(world, director):
    from crm.customers.models import TimelineEvent

    request = make_request(world, director, kind="copy")
    services.complete_request(request, actor=director, outcome="已交付副本", now=NOW)
    summaries = list(
        TimelineEvent.objects.filter(customer=world.customer, kind="privacy").values_list("summary", flat=True)
    )
    assert len(summaries) == 2
    assert all(request.number in s for s in summaries)


def test_refusing_needs_a_reason_and_keeps_what_was_typed(world, director, login):
    request = make_request(world, director, kind="access")
    client = login(director)
    response = client.post(reverse("privacy:action", args=[request.pk, "refuse"]), {"outcome": ""})
    assert response.status_code == 400
    assert "必填" in response.content.decode()
    response = client.post(reverse("privacy:action", args=[request.pk, "erase"]), {"outcome": "草稿", "confirm": "1"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "只有删除申请可以执行删除" in body
    assert "草稿" in body


def test_the_ledger_and_runs_are_for_administrators(world, director, admin_user, login):
    from crm.privacy import jobs

    services.erase_for_request(make_request(world, director), actor=director, now=NOW)
    jobs.anonymise_stale_prospects(now=NOW)
    client = login(admin_user)
    ledger = client.get(reverse("privacy:erasures")).content.decode()
    assert world.customer.number in ledger
    assert NAME not in ledger
    runs = client.get(reverse("privacy:runs"))
    assert runs.status_code == 200
    assert "保存期限任务还没有运行" not in runs.content.decode()
    client = login(director)
    assert client.get(reverse("privacy:erasures")).status_code == 403
    assert client.get(reverse("privacy:runs")).status_code == 403
