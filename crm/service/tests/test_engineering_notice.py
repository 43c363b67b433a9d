"""An engineering finding notifies the project's engineering contacts at once (the bell,
crm.core.notifications), exactly once per finding."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from crm.accounts.roles import Role
from crm.core.models import Notification
from crm.lib.dates import CHINA_TZ
from crm.service import services

pytestmark = pytest.mark.django_db


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 9, 29, hour, minute, tzinfo=CHINA_TZ)


@pytest.fixture
def engineer(make_staff, project):
    user = make_staff("engineer", Role.DUTY, projects=(project,), display_name="冯工程")
    user.user_permissions.add(Permission.objects.get(codename="engineering_contact"))
    return user


@pytest.fixture
def engineer_b(make_staff, project_b):
    user = make_staff("engineer_b", Role.DUTY, projects=(project_b,), display_name="B工程")
    user.user_permissions.add(Permission.objects.get(codename="engineering_contact"))
    return user


@pytest.fixture
def insp(service, project):
    return services.start_inspection(project, actor=service, now=t(9))


def _report(insp, actor, department="engineering", text="沙盘灯带不亮，业主13812345678反映"):
    return services.report_finding(
        insp, actor=actor, area="沙盘区及次接待区", description=text, department=department, now=t(9, 20)
    )


def test_an_engineering_finding_notifies_the_projects_engineering_contact_once(insp, service, engineer, engineer_b):
    finding = _report(insp, service)
    rows = list(Notification.objects.filter(kind=services.KIND_ENGINEERING_FINDING))
    # Only the contact of this project; the contact of project B hears nothing.
    assert [n.recipient_id for n in rows] == [engineer.pk]
    note = rows[0]
    assert "沙盘区及次接待区" in note.title
    assert "11:00" in note.title
    assert "13812345678" not in note.text
    assert "灯带" in note.text
    assert note.link == reverse("service:inspection_detail", args=[insp.pk]) + "#findings"
    assert note.dedupe_key == f"finding:{finding.pk}:engineering"
    # Running the notice again (a retried request) adds nothing.
    assert services.notify_engineering(finding, actor=service, now=t(9, 25)) == 0
    assert Notification.objects.filter(kind=services.KIND_ENGINEERING_FINDING).count() == 1


def test_a_second_engineering_finding_is_a_second_notice(insp, service, engineer):
    _report(insp, service)
    _report(insp, service, text="大堂射灯闪烁")
    assert Notification.objects.filter(recipient=engineer, kind=services.KIND_ENGINEERING_FINDING).count() == 2


def test_findings_of_other_departments_notify_nobody(insp, service, engineer):
    _report(insp, service, department="property", text="水吧地面有水渍")
    assert not Notification.objects.filter(kind=services.KIND_ENGINEERING_FINDING).exists()


def test_without_a_contact_the_projects_directors_are_told_to_call(insp, service, director, outsider):
    _report(insp, service)
    rows = list(Notification.objects.filter(kind=services.KIND_ENGINEERING_FINDING))
    assert [n.recipient_id for n in rows] == [director.pk]
    assert "未设置工程对接人" in rows[0].title


def test_the_inspector_who_is_also_the_contact_is_not_told_what_they_wrote(insp, service, engineer):
    service.user_permissions.add(Permission.objects.get(codename="engineering_contact"))
    _report(insp, service)
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [engineer.pk]


def test_the_page_says_the_contact_was_notified(client, insp, service, engineer):
    client.force_login(service)
    response = client.post(
        reverse("service:inspection_act", args=[insp.pk, "finding"]),
        {"area": "沙盘区及次接待区", "description": "灯带不亮", "department": "engineering"},
        follow=True,
    )
    assert "已在站内通知工程对接人" in response.content.decode()
    assert Notification.objects.filter(recipient=engineer).count() == 1
