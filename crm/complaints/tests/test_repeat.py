"""Repeat complaints: flagged at registration (same customer, or same mobile, and same
category within the window), linked and unlinked by staff with an event, counted on the
detail page and filtered on the list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from crm.complaints import services
from crm.complaints.models import Category, Complaint, ComplaintEvent
from crm.complaints.tests.conftest import REGISTERED_AT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def window(settings):
    settings.COMPLAINT_REPEAT_WINDOW_DAYS = 30
    return 30


def test_the_same_mobile_and_category_within_the_window_is_a_repeat_to_the_boundary(make_complaint):
    first = make_complaint(complainant_mobile="13900001111")
    on_the_edge = make_complaint(complainant_mobile="13900001111", now=REGISTERED_AT + timedelta(days=30))
    assert on_the_edge.is_repeat
    assert on_the_edge.repeat_of == first
    event = on_the_edge.events.get(kind=ComplaintEvent.Kind.REPEAT)
    assert event.note == f"重复投诉，前次投诉 {first.number}（30 天内同类投诉，自动标记）"


def test_one_second_past_the_window_is_not_a_repeat(make_complaint):
    make_complaint(complainant_mobile="13900001111")
    late = make_complaint(complainant_mobile="13900001111", now=REGISTERED_AT + timedelta(days=30, seconds=1))
    assert not late.is_repeat
    assert late.repeat_of is None
    assert not late.events.filter(kind=ComplaintEvent.Kind.REPEAT).exists()


def test_the_latest_earlier_complaint_is_the_one_repeated(make_complaint):
    make_complaint(complainant_mobile="13900001111")
    second = make_complaint(complainant_mobile="13900001111", now=REGISTERED_AT + timedelta(days=5))
    third = make_complaint(complainant_mobile="13900001111", now=REGISTERED_AT + timedelta(days=10))
    assert third.repeat_of == second
    assert services.repeat_position(third) == 3


def test_another_category_or_another_mobile_is_not_a_repeat(make_complaint, company):
    make_complaint(complainant_mobile="13900001111")
    contract = Category.objects.get(company=company, name="合同")
    assert not make_complaint(
        complainant_mobile="13900001111", category=contract, now=REGISTERED_AT + timedelta(1)
    ).is_repeat
    assert not make_complaint(complainant_mobile="13900002222", now=REGISTERED_AT + timedelta(days=1)).is_repeat


def test_a_customer_calling_from_their_second_number_is_the_same_customer(make_complaint, make_customer):
    customer = make_customer("周先生", mobile="13812345678", mobile2="13987654321")
    first = make_complaint(complainant_mobile="13812345678")
    again = make_complaint(complainant_mobile="13987654321", now=REGISTERED_AT + timedelta(days=3))
    assert first.customer == again.customer == customer
    assert again.repeat_of == first


def test_a_cancelled_complaint_does_not_count(make_complaint, director):
    first = make_complaint(complainant_mobile="13900001111")
    services.cancel_complaint(first, actor=director, note="登记错误")
    assert not make_complaint(complainant_mobile="13900001111", now=REGISTERED_AT + timedelta(days=1)).is_repeat


def test_a_zero_window_turns_detection_off(make_complaint, settings):
    settings.COMPLAINT_REPEAT_WINDOW_DAYS = 0
    make_complaint(complainant_mobile="13900001111")
    assert not make_complaint(complainant_mobile="13900001111", now=REGISTERED_AT + timedelta(days=1)).is_repeat


def test_staff_link_and_unlink_a_repeat_with_events(make_complaint, service):
    first = make_complaint(complainant_mobile="13900001111")
    other = make_complaint(complainant_mobile="13900002222", now=REGISTERED_AT + timedelta(days=40))
    services.mark_repeat(other, actor=service, repeat_of=first, note="同一漏水问题")
    assert (other.is_repeat, other.repeat_of) == (True, first)
    with pytest.raises(services.DomainError, match="前次投诉应早于这条投诉登记"):
        services.mark_repeat(first, actor=service, repeat_of=other)
    with pytest.raises(services.DomainError, match="请填写取消重复投诉标记的原因"):
        services.unmark_repeat(other, actor=service, note=" ")
    services.unmark_repeat(other, actor=service, note="不是同一问题")
    assert (other.is_repeat, other.repeat_of) == (False, None)
    notes = list(other.events.filter(kind=ComplaintEvent.Kind.REPEAT).values_list("note", flat=True))
    assert notes == [
        f"标记为重复投诉，前次投诉 {first.number}：同一漏水问题",
        f"取消重复投诉标记（前次投诉 {first.number}）：不是同一问题",
    ]


def test_the_detail_page_counts_and_the_list_filters_repeats(client, make_complaint, service):
    first = make_complaint(complainant_mobile="13900001111")
    again = make_complaint(complainant_mobile="13900001111", now=REGISTERED_AT + timedelta(days=2))
    single = make_complaint(complainant_mobile="13900002222", now=REGISTERED_AT + timedelta(days=2))
    client.force_login(service)
    page = client.get(reverse("complaints:detail", args=[again.pk])).content.decode()
    assert "同一问题第 2 次投诉" in page
    page = client.get(reverse("complaints:detail", args=[first.pk])).content.decode()
    assert "此后又投诉 1 次：" in page
    assert again.number in page
    listing = client.get(reverse("complaints:list"), {"state": "repeat"}).content.decode()
    assert again.number in listing
    assert single.number not in listing
    assert first.number not in listing


def test_linking_on_the_page_and_a_bad_number_keeps_what_was_typed(client, make_complaint, service):
    first = make_complaint(complainant_mobile="13900001111")
    other = make_complaint(complainant_mobile="13900002222", now=REGISTERED_AT + timedelta(days=40))
    client.force_login(service)
    url = reverse("complaints:repeat", args=[other.pk])
    response = client.post(url, {"repeat_of": "TS000", "note": "同一问题"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "没有找到这个投诉编号" in body
    assert 'value="TS000"' in body
    assert client.post(url, {"repeat_of": first.number.lower()}).status_code == 302
    other.refresh_from_db()
    assert other.repeat_of == first
    response = client.post(url, {"unlink": "1", "note": ""})
    assert response.status_code == 400
    assert "请填写取消重复投诉标记的原因" in response.content.decode()
    assert client.post(url, {"unlink": "1", "note": "不同问题"}).status_code == 302
    other.refresh_from_db()
    assert not other.is_repeat


def test_the_director_marks_important_on_the_page_and_others_may_not(client, make_complaint, director, service):
    complaint = make_complaint()
    client.force_login(service)
    assert client.post(reverse("complaints:important", args=[complaint.pk]), {"important": "on"}).status_code == 403
    client.force_login(director)
    assert client.post(reverse("complaints:important", args=[complaint.pk]), {"important": "on"}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.is_important
    assert complaint.events.filter(kind=ComplaintEvent.Kind.IMPORTANT, actor=director).exists()
    client.post(reverse("complaints:important", args=[complaint.pk]), {"important": ""})
    complaint.refresh_from_db()
    assert not complaint.is_important


def test_other_complaints_are_not_found_by_someone_outside_their_scope(client, make_complaint, service_b):
    complaint = make_complaint()
    client.force_login(service_b)
    assert client.post(reverse("complaints:repeat", args=[complaint.pk]), {"repeat_of": "x"}).status_code == 404
    assert Complaint.objects.get(pk=complaint.pk).repeat_of is None


def test_the_api_shows_the_repeat_link_and_takes_an_email_only_complainant(make_complaint, service, category, project):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    first = make_complaint(complainant_mobile="13900001111")
    again = make_complaint(complainant_mobile="13900001111", now=REGISTERED_AT + timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=service).key}")
    row = client.get(f"/api/complaints/{again.pk}/").json()
    assert (row["is_repeat"], row["repeat_of"]) == (True, first.pk)
    created = client.post(
        "/api/complaints/",
        {
            "channel": "email",
            "complainant_name": "李女士",
            "complainant_email": "li@example.com",
            "content": "邮件投诉",
            "project": project.pk,
            "category": category.pk,
        },
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["email"] == "li***@example.com"


def test_the_export_names_the_earlier_complaint_of_a_repeat(client, make_complaint, service):
    from io import BytesIO

    from openpyxl import load_workbook

    first = make_complaint(complainant_mobile="13900001111")
    make_complaint(complainant_mobile="13900001111", now=REGISTERED_AT + timedelta(days=1))
    client.force_login(service)
    response = client.get(reverse("complaints:export"))
    rows = list(load_workbook(BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert rows[1][-1] == "重复投诉（前次编号）"
    assert [r[-1] for r in rows[2:]] == [first.number, None]
