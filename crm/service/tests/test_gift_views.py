"""The gift pages: issue with errors kept, stock in/out, tasks, birthday list, stats, export, card."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.lib.dates import CHINA_TZ
from crm.service import jobs
from crm.service.models import GiftIssue, GiftStock, GiftTask, Occasion

pytestmark = pytest.mark.django_db
MILESTONE = date(2026, 10, 20)
JOB_AT = datetime(2026, 10, 21, 9, 0, tzinfo=CHINA_TZ)


def login(client, user):
    client.force_login(user)
    return client


def test_an_overdraw_on_the_page_shows_the_balance_and_keeps_the_input(client, stocked, consultant, project, customer):
    login(client, consultant)
    response = client.post(
        reverse("service:issue_new"),
        {
            "occasion": "birthday",
            "project": project.pk,
            "gift": stocked.pk,
            "quantity": "11",
            "customer_number": customer.number,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "库存不足" in html
    assert "只剩 10个" in html
    assert f'value="{customer.number}"' in html
    assert not GiftIssue.objects.exists()
    response = client.post(
        reverse("service:issue_new"),
        {
            "occasion": "birthday",
            "project": project.pk,
            "gift": stocked.pk,
            "quantity": "2",
            "customer_number": customer.number,
        },
    )
    assert response.status_code == 302
    assert GiftStock.objects.get().quantity == 8


def test_a_customer_outside_the_scope_is_not_found(client, stocked, outsider, project_b, customer, director):
    from crm.service import services

    services.stock_in(stocked, actor=director, project=project_b, quantity=5)
    login(client, outsider)
    response = client.post(
        reverse("service:issue_new"),
        {
            "occasion": "birthday",
            "project": project_b.pk,
            "gift": stocked.pk,
            "quantity": "1",
            "customer_number": customer.number,
        },
    )
    assert "没有找到这个客户编号" in response.content.decode()


def test_stock_in_and_out_on_the_page(client, gift, director, consultant, project):
    login(client, director)
    client.post(
        reverse("service:gift_stock", args=[gift.pk]), {"direction": "in", "project": project.pk, "quantity": "5"}
    )
    response = client.post(
        reverse("service:gift_stock", args=[gift.pk]),
        {"direction": "out", "project": project.pk, "quantity": "9", "note": "损耗"},
        follow=True,
    )
    assert "库存不足" in response.content.decode()
    assert GiftStock.objects.get().quantity == 5
    page = client.get(reverse("service:gift_list")).content.decode()
    assert '锦华苑：<strong class="stock">5</strong>' in page
    login(client, consultant)
    response = client.post(
        reverse("service:gift_stock", args=[gift.pk]), {"direction": "in", "project": project.pk, "quantity": "5"}
    )
    assert response.status_code == 403


def test_a_task_prefills_the_issue_and_the_card_counts_it(client, make_deal, stocked, consultant, project):
    deal = make_deal(subscribed_on=MILESTONE)
    jobs.create_gift_tasks(now=JOB_AT)
    task = GiftTask.objects.get(deal=deal)
    login(client, consultant)
    html = client.get(reverse("workbench")).content.decode()
    assert "待送礼品" in html
    form = client.get(reverse("service:issue_new") + f"?task={task.pk}").content.decode()
    assert f'value="{deal.customer.number}"' in form
    response = client.post(
        reverse("service:issue_new"),
        {
            "occasion": Occasion.SUBSCRIPTION,
            "project": project.pk,
            "gift": stocked.pk,
            "quantity": "1",
            "customer_number": deal.customer.number,
            "task": task.pk,
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == GiftTask.Status.DONE


def test_the_birthday_list_page(client, make_customer, consultant):
    make_customer("王业主", stage="owner", birthday_on=date(1980, 10, 1), consent_care=True)
    jobs.prepare_birthday_lists(now=JOB_AT)
    login(client, consultant)
    html = client.get(reverse("service:birthday_list") + "?month=2026-10").content.decode()
    assert "王业主" in html
    assert "王业主" not in client.get(reverse("service:birthday_list") + "?month=2020-01").content.decode()
    assert client.get(reverse("service:birthday_list") + "?month=bad").status_code == 200


def test_stats_and_export(client, stocked, consultant, director, project, customer):
    from crm.service import services

    services.issue_gift(
        stocked, actor=consultant, project=project, quantity=3, occasion=Occasion.EVENT, customer=customer
    )
    login(client, director)
    html = client.get(reverse("service:gift_stats") + "?period=month").content.decode()
    assert "共发放 3 件" in html
    response = client.get(reverse("service:issue_export"))
    rows = list(load_workbook(BytesIO(b"".join(response.streaming_content))).active.values)
    assert rows[1][:5] == ("发放时间", "楼盘", "礼品", "数量", "场合")
    assert rows[2][1:6] == ("锦华苑", "定制保温杯", 3, "活动礼品", customer.name)
    login(client, consultant)
    assert client.get(reverse("service:issue_export")).status_code == 403


def test_a_task_can_be_cancelled_by_its_consultant_only(client, make_deal, consultant, outsider):
    deal = make_deal(subscribed_on=MILESTONE)
    jobs.create_gift_tasks(now=JOB_AT)
    task = GiftTask.objects.get(deal=deal)
    login(client, outsider)
    assert client.post(reverse("service:task_cancel", args=[task.pk])).status_code == 404
    login(client, consultant)
    assert client.post(reverse("service:task_cancel", args=[task.pk])).status_code == 302
    task.refresh_from_db()
    assert task.status == GiftTask.Status.CANCELLED
