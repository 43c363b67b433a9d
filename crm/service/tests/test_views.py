"""The duty pages: scope (outsiders get 404), planning with errors kept, the log, the
handover actions through the pages, export, the menu and the workbench card."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.service import services
from crm.service.models import DutyLogEntry, Handover, Shift

from .conftest import HOLIDAY_8AM

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_another_projects_officer_gets_404(client, make_shift, handover, duty_b):
    shift = make_shift(start=HOLIDAY_8AM.replace(month=9, day=30))
    login(client, duty_b)
    assert client.get(reverse("service:shift_detail", args=[shift.pk])).status_code == 404
    assert client.get(reverse("service:handover_detail", args=[handover.pk])).status_code == 404
    response = client.post(reverse("service:handover_act", args=[handover.pk, "submit"]))
    assert response.status_code == 404
    assert Handover.objects.get(pk=handover.pk).status == Handover.Status.OPEN
    assert client.get(reverse("service:shift_list")).status_code == 200


def test_a_consultant_has_no_duty_pages_and_lands_on_gifts(client, consultant, approver):
    login(client, consultant)
    assert client.get(reverse("service:shift_list")).status_code == 403
    assert client.get(reverse("service:handover_list")).status_code == 403
    assert client.get(reverse("service:home"))["Location"] == reverse("service:task_list")
    login(client, approver)
    assert f'href="{reverse("service:home")}"' not in client.get(reverse("workbench")).content.decode()
    assert client.get(reverse("service:home")).status_code == 403


def test_the_menu_shows_service_operations_to_duty_staff(client, duty):
    login(client, duty)
    assert f'href="{reverse("service:home")}"' in client.get(reverse("workbench")).content.decode()


def test_planning_a_holiday_shift_without_a_manager_shows_the_error_and_keeps_the_input(
    client, director, duty, project
):
    login(client, director)
    response = client.post(
        reverse("service:shift_new"),
        {
            "project": project.pk,
            "officer": duty.pk,
            "starts_at": "2026-10-02T08:00",
            "ends_at": "2026-10-02T20:00",
            "note": "国庆白班",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "节假日班次须安排中级以上管理人员值班" in html
    assert 'value="国庆白班"' in html
    assert 'value="2026-10-02T08:00"' in html
    assert not Shift.objects.exists()


def test_planning_with_a_manager_succeeds(client, director, duty, manager, project):
    login(client, director)
    response = client.post(
        reverse("service:shift_new"),
        {
            "project": project.pk,
            "officer": duty.pk,
            "manager": manager.pk,
            "starts_at": "2026-10-02T08:00",
            "ends_at": "2026-10-02T20:00",
        },
    )
    shift = Shift.objects.get()
    assert response.status_code == 302
    assert shift.is_holiday
    assert shift.manager == manager


def test_a_duty_officer_cannot_plan(client, duty):
    login(client, duty)
    assert client.get(reverse("service:shift_new")).status_code == 403


def test_the_officer_logs_an_escalated_call_and_a_bad_customer_number_is_an_error(client, make_shift, duty):
    shift = make_shift()
    login(client, duty)
    url = reverse("service:shift_act", args=[shift.pk, "log"])
    response = client.post(url, {"kind": "call", "content": "业主反映电梯故障", "customer_number": "NOPE"})
    assert response.status_code == 400
    assert "没有找到这个客户编号" in response.content.decode()
    assert "业主反映电梯故障" in response.content.decode()
    response = client.post(url, {"kind": "incident", "content": "<b>电梯困人</b>", "is_escalated": "on"})
    assert response.status_code == 302
    entry = DutyLogEntry.objects.get()
    assert entry.is_escalated
    page = client.get(reverse("service:shift_detail", args=[shift.pk])).content.decode()
    assert "&lt;b&gt;电梯困人&lt;/b&gt;" in page


def test_the_accept_page_lists_every_refusal(client, handover, duty, duty2):
    services.submit_handover(handover, actor=duty)
    login(client, duty2)
    response = client.post(reverse("service:handover_act", args=[handover.pk, "accept"]), {})
    html = response.content.decode()
    assert response.status_code == 400
    assert "记录不清不接" in html
    assert "卫生不洁不接" in html
    assert Handover.objects.get(pk=handover.pk).status == Handover.Status.SUBMITTED


def test_the_outgoing_officer_cannot_accept_through_the_page(client, ready_handover, duty):
    login(client, duty)
    response = client.post(
        reverse("service:handover_act", args=[ready_handover.pk, "accept"]), {"log_clear": "on", "area_clean": "on"}
    )
    assert response.status_code == 403


def test_the_director_card_counts_refused_handovers(client, ready_handover, duty2, director):
    with pytest.raises(services.HandoverRefused):
        services.accept_handover(ready_handover, actor=duty2, log_clear=True, area_clean=False)
    login(client, director)
    html = client.get(reverse("workbench")).content.decode()
    assert "拒接未完成" in html
    listing = client.get(reverse("service:handover_list") + "?state=refused").content.decode()
    assert "卫生不洁不接" in listing


def test_export_of_shifts_and_handovers(client, ready_handover, director, duty):
    login(client, director)
    response = client.get(reverse("service:shift_export"))
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(b"".join(response.streaming_content))).active.values)
    assert rows[1][0] == "楼盘"
    assert rows[2][1] == "孙值班"
    assert rows[2][8] == "待接班确认"
    response = client.get(reverse("service:handover_export"))
    rows = list(load_workbook(BytesIO(b"".join(response.streaming_content))).active.values)
    assert rows[2][:4] == ("锦华苑", "孙值班", "钱接班", "待接班确认")
    login(client, duty)
    assert client.get(reverse("service:shift_export")).status_code == 403


def test_the_roster_shows_hours_without_a_shift_to_the_planner(client, director, duty, make_shift, project):
    from datetime import timedelta

    from crm.service import selectors

    from .conftest import WORKDAY_8AM

    make_shift()  # 08:00–20:00
    gaps = [g for g in selectors.roster_gaps(director, now=WORKDAY_8AM, days=1) if g["project"] == project]
    assert [(g["start"], g["end"]) for g in gaps] == [
        (WORKDAY_8AM + timedelta(hours=12), WORKDAY_8AM + timedelta(hours=24))
    ]
    # The pages read the clock: nothing is planned from now on, so the planner is warned.
    login(client, director)
    assert "无人值班" in client.get(reverse("service:shift_list")).content.decode()
    assert "未来7天值班空档" in client.get(reverse("workbench")).content.decode()
    login(client, duty)
    assert "无人值班" not in client.get(reverse("service:shift_list")).content.decode()
