"""Daily inspection: the seed's areas, 10:00 and 11:00 flags with time injected, findings
with photos, handling, completion, the daily report job, pages, scope and export."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.lib.dates import CHINA_TZ
from crm.service import inspection, jobs, selectors, services
from crm.service.models import Finding, Inspection, InspectionReport

pytestmark = pytest.mark.django_db
DAY = datetime(2026, 9, 29, 9, 0, tzinfo=CHINA_TZ).date()


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 9, 29, hour, minute, tzinfo=CHINA_TZ)


# ---------------------------------------------------------------- pure timing


def test_an_inspection_is_late_after_ten_unless_completed_by_ten():
    assert not inspection.inspection_is_late(DAY, None, t(9, 59))
    assert inspection.inspection_is_late(DAY, None, t(10, 1))
    assert not inspection.inspection_is_late(DAY, t(9, 50), t(15))
    assert inspection.inspection_is_late(DAY, t(10, 5), t(15))


def test_a_finding_is_due_at_eleven_or_an_hour_after_when_found_later():
    assert inspection.finding_due(t(9, 30), DAY) == t(11)
    assert inspection.finding_due(t(14), DAY) == t(15)


# ---------------------------------------------------------------- services


def confirm_displays(insp: Inspection, actor) -> None:
    for d in insp.display_checks.all():
        services.record_display(d, actor=actor, status="displayed", now=t(9, 30))


@pytest.fixture
def insp(service, project) -> Inspection:
    return services.start_inspection(project, actor=service, now=t(9))


def test_the_checklist_is_the_seeds_areas(insp):
    assert [r.area for r in insp.results.all()] == [name for name, _ in inspection.DEFAULT_AREAS]


def test_one_inspection_per_project_and_day(insp, director, project):
    with pytest.raises(DomainError, match="今天的巡查已由 刘客服 开始"):
        services.start_inspection(project, actor=director, now=t(9, 30))


def test_only_inspectors_of_the_project_inspect(consultant, service, project_b):
    with pytest.raises(NotAllowed):
        services.start_inspection(project_b, actor=consultant, now=t(9))
    with pytest.raises(NotAllowed, match="不负责该楼盘"):
        services.start_inspection(project_b, actor=service, now=t(9))


def test_completion_needs_every_area(insp, service):
    with pytest.raises(DomainError, match="还没有巡查结果：综合办公室"):
        services.complete_inspection(insp, actor=service, now=t(9, 40))
    results = list(insp.results.all())
    with pytest.raises(DomainError, match="有问题时请说明"):
        services.record_result(results[0], actor=service, value="problem")
    for r in results:
        services.record_result(r, actor=service, value="ok")
    with pytest.raises(DomainError, match="以下现场公示还没有确认：五证及房屋证件"):
        services.complete_inspection(insp, actor=service, now=t(9, 40))
    confirm_displays(insp, service)
    services.complete_inspection(insp, actor=service, now=t(9, 40))
    assert not inspection.inspection_is_late(DAY, insp.completed_at, t(12))


def test_the_ten_oclock_flag(insp, service, director):
    assert selectors.late_inspections(director, now=t(9, 59)) == []
    assert [p.name for p in selectors.late_inspections(director, now=t(10, 1))] == ["锦华苑", "滨江御府"]
    for r in insp.results.all():
        services.record_result(r, actor=service, value="ok")
    confirm_displays(insp, service)
    services.complete_inspection(insp, actor=service, now=t(10, 30))
    assert [p.name for p in selectors.late_inspections(director, now=t(10, 31))] == ["滨江御府"]


def test_the_eleven_oclock_flag_and_handling(insp, service, director):
    photo = SimpleUploadedFile("leak.jpg", b"\xff\xd8\xff\xe0fake", content_type="image/jpeg")
    finding = services.report_finding(
        insp,
        actor=service,
        area="水吧及咖啡厅",
        description="咖啡机漏水",
        department="engineering",
        photo=photo,
        now=t(9, 20),
    )
    assert finding.is_engineering
    assert finding.photo.name.endswith(".jpg")
    overdue = selectors.findings_visible_to(director).filter(selectors.overdue_findings_q(t(11, 1)))
    assert not selectors.findings_visible_to(director).filter(selectors.overdue_findings_q(t(10, 59))).exists()
    assert list(overdue) == [finding]
    with pytest.raises(DomainError, match="请填写处理情况"):
        services.handle_finding(finding, actor=director, note=" ")
    services.handle_finding(finding, actor=director, note="工程部已维修", now=t(10, 30))
    assert not selectors.findings_visible_to(director).filter(selectors.overdue_findings_q(t(12))).exists()
    with pytest.raises(DomainError, match="已处理"):
        services.handle_finding(finding, actor=director, note="again")


def test_a_photo_must_be_an_image(insp, service):
    with pytest.raises(DomainError, match="照片须为"):
        services.report_finding(
            insp,
            actor=service,
            area="更衣室",
            description="x",
            department="property",
            photo=SimpleUploadedFile("a.exe", b"MZ"),
        )


def test_the_daily_report_is_written_once_after_six(insp, service, project, project_b):
    services.report_finding(
        insp, actor=service, area="更衣室", description="地面有水渍", department="property", now=t(9, 10)
    )
    assert jobs.write_inspection_reports(now=t(17, 59)) == 0
    assert jobs.write_inspection_reports(now=t(18, 5)) == 2
    assert jobs.write_inspection_reports(now=t(18, 35)) == 0
    report = InspectionReport.objects.get(project=project)
    assert report.summary["late"] is True
    assert report.summary["findings"][0]["overdue"] is True
    assert report.summary["findings"][0]["handled"] is False
    assert InspectionReport.objects.get(project=project_b).summary == {"inspected": False, "late": True}


# ---------------------------------------------------------------- pages


def login(client, user):
    client.force_login(user)
    return client


def test_inspection_through_the_pages(client, service, project, project_b, make_staff):
    from crm.accounts.roles import Role

    login(client, service)
    response = client.post(reverse("service:inspection_start"), {"project": project.pk})
    insp = Inspection.objects.get()
    assert response["Location"] == reverse("service:inspection_detail", args=[insp.pk])
    act = reverse("service:inspection_act", args=[insp.pk, "finding"])
    response = client.post(act, {"area": "更衣室", "description": "", "department": "property"})
    assert response.status_code == 400
    assert "请描述问题" in response.content.decode()
    response = client.post(
        act,
        {
            "area": "更衣室",
            "description": "<script>x</script>储物柜损坏",
            "department": "engineering",
            "photo": SimpleUploadedFile("a.png", b"\x89PNG\r\n"),
        },
        follow=True,
    )
    html = response.content.decode()
    assert "工程问题：已在站内通知工程对接人" in html
    assert "&lt;script&gt;x&lt;/script&gt;储物柜损坏" in html
    response = client.post(reverse("service:inspection_act", args=[insp.pk, "complete"]))
    assert response.status_code == 400
    assert "还没有巡查结果" in response.content.decode()
    for r in insp.results.all():
        client.post(reverse("service:inspection_act", args=[insp.pk, "result"]), {"target": r.pk, "result": "ok"})
    for d in insp.display_checks.all():
        client.post(
            reverse("service:inspection_act", args=[insp.pk, "display"]), {"target": d.pk, "status": "displayed"}
        )
    client.post(reverse("service:inspection_act", args=[insp.pk, "complete"]))
    insp.refresh_from_db()
    assert insp.completed_at is not None
    finding = Finding.objects.get()
    photo = client.get(reverse("service:finding_photo", args=[finding.pk]))
    assert b"".join(photo.streaming_content) == b"\x89PNG\r\n"
    client.force_login(make_staff("service_b", Role.SERVICE, projects=(project_b,)))
    assert client.get(reverse("service:finding_photo", args=[finding.pk])).status_code == 404


def test_scope_and_export(client, insp, director, outsider, make_staff, project_b):
    from crm.accounts.roles import Role

    other = make_staff("service_b", Role.SERVICE, projects=(project_b,))
    login(client, other)
    assert client.get(reverse("service:inspection_detail", args=[insp.pk])).status_code == 404
    login(client, outsider)
    assert client.get(reverse("service:inspection_list")).status_code == 403
    login(client, director)
    response = client.get(reverse("service:inspection_export"))
    rows = list(load_workbook(BytesIO(b"".join(response.streaming_content))).active.values)
    assert rows[2][1:3] == ("锦华苑", "刘客服")


def test_the_card_warns_of_open_engineering_findings(client, insp, service, director):
    from crm.service.cards import workbench_cards

    services.report_finding(insp, actor=service, area="接电区域", description="插座冒火花", department="engineering")
    cards = workbench_cards(director, today=DAY)
    stats = {s.key: s.value for c in cards if hasattr(c, "stats") for s in c.stats}
    assert stats["findings_engineering"] == 1
