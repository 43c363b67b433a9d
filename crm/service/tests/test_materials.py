"""项目资料与现场公示 (seed 001 项目前期): material files checked and re-encoded, versions
kept with one current, files served only in scope; the display checklist from the seed,
confirmed on the daily inspection (a missing item becomes a finding), the stale card,
pages, export and API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.accounts.roles import Role
from crm.complaints.tests import images
from crm.core.audit import AuditLog
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.lib.dates import CHINA_TZ
from crm.service import selectors, services
from crm.service.cards import workbench_cards
from crm.service.models import DisplayItem, Finding, Material

pytestmark = pytest.mark.django_db
DAY = date(2026, 9, 29)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def t(hour: int, minute: int = 0, *, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA_TZ)


def pdf(name: str = "不利因素告知书.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def add(director, project, title="红线内外不利因素告知书", kind="adverse", upload=None) -> Material:
    return services.add_material(
        project, actor=director, kind=kind, title=title, upload=upload or pdf(), note="首版", now=t(9)
    )


# ---------------------------------------------------------------- files


def test_a_pdf_is_stored_as_uploaded():
    checked = services.check_material_file(pdf())
    assert (checked.content_type, checked.data) == ("application/pdf", PDF)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("x.exe", b"MZ..."), "不是 PDF 或图片"),
        (SimpleUploadedFile("假的.pdf", b"<html>not a pdf</html>"), "不是有效的 PDF"),
        (SimpleUploadedFile("半截.pdf", PDF[:30]), "不是有效的 PDF"),
        (SimpleUploadedFile("空.pdf", b""), "是空文件"),
        (SimpleUploadedFile("户型.png", b"\x89PNG\r\n broken"), "不是图片或文件已损坏"),
        (SimpleUploadedFile("IMG.heic", images.heic()), "不是 PDF 或图片"),
        (None, "请选择文件"),
    ],
)
def test_files_that_are_not_what_they_claim_are_refused(upload, message):
    with pytest.raises(DomainError, match=message) as info:
        services.check_material_file(upload)
    assert info.value.field == "file"


@override_settings(MATERIAL_MAX_BYTES=1024)
def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    with pytest.raises(DomainError, match="超过 0 MB"):
        services.check_material_file(pdf(data=PDF + b" " * 2000))


def test_an_image_is_re_encoded_without_its_exif():
    raw = images.jpeg_with_exif()
    assert b"Exif" in raw
    checked = services.check_material_file(SimpleUploadedFile("户型图.jpg", raw))
    assert checked.content_type == "image/jpeg"
    assert b"Exif" not in checked.data
    with Image.open(BytesIO(checked.data)) as image:
        assert image.size == (640, 480)


# ---------------------------------------------------------------- versions


def test_a_new_version_keeps_the_old_ones_and_is_current(director, project):
    material = add(director, project)
    second = services.add_version(material, actor=director, upload=pdf("v2.pdf"), note="更新不利因素", now=t(10))
    versions = list(material.versions.order_by("number"))
    assert [(v.number, v.is_current) for v in versions] == [(1, False), (2, True)]
    assert versions[0].file.name != second.file.name
    with versions[0].file.open("rb") as handle:
        assert handle.read() == PDF  # the first file is still there
    assert "不利因素告知书" not in second.file.name  # stored under a random name
    services.make_current(versions[0], actor=director)
    assert list(material.versions.filter(is_current=True).values_list("number", flat=True)) == [1]


def test_the_same_title_twice_is_refused_with_a_pointer_to_versions(director, project):
    add(director, project)
    with pytest.raises(DomainError, match="请在该资料下上传新版本"):
        add(director, project)


def test_only_managers_upload_and_only_for_their_projects(consultant, service, director, project, make_staff):
    from crm.accounts.roles import Role

    with pytest.raises(NotAllowed):
        add(consultant, project)
    with pytest.raises(NotAllowed):
        add(service, project)
    lonely = make_staff("director_c", Role.DIRECTOR)
    with pytest.raises(NotAllowed, match="不负责该楼盘"):
        add(lonely, project)
    material = add(director, project)
    with pytest.raises(NotAllowed):
        services.add_version(material, actor=service, upload=pdf())


def test_files_are_served_only_in_scope(client, director, consultant, outsider, project):
    material = add(director, project)
    image = services.add_version(
        material, actor=director, upload=SimpleUploadedFile("图.png", images.png(20, 10)), now=t(10)
    )
    first = material.versions.get(number=1)
    client.force_login(consultant)  # a consultant of the project reads its materials
    response = client.get(reverse("service:material_file", args=[first.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    response = client.get(reverse("service:material_file", args=[image.pk]))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    client.force_login(outsider)  # a consultant of project B
    assert client.get(reverse("service:material_file", args=[first.pk])).status_code == 404
    assert client.get(reverse("service:material_detail", args=[material.pk])).status_code == 404


# ---------------------------------------------------------------- pages and export


def test_materials_through_the_pages(client, director, service, project):
    client.force_login(director)
    response = client.post(
        reverse("service:material_new"),
        {"project": project.pk, "kind": "layout", "title": "A户型", "file": SimpleUploadedFile("a.txt", b"hi")},
    )
    assert response.status_code == 400
    assert "不是 PDF 或图片" in response.content.decode()
    response = client.post(
        reverse("service:material_new"),
        {"project": project.pk, "kind": "layout", "title": "A户型", "file": SimpleUploadedFile("a.png", images.png())},
    )
    material = Material.objects.get()
    assert response["Location"] == reverse("service:material_detail", args=[material.pk])
    client.post(
        reverse("service:material_act", args=[material.pk, "version"]), {"file": pdf("A户型v2.pdf"), "note": "改版"}
    )
    html = client.get(reverse("service:material_detail", args=[material.pk])).content.decode()
    assert "v2" in html
    assert "当前版本" in html
    assert "A户型v2.pdf" in html
    client.force_login(service)
    html = client.get(reverse("service:material_list")).content.decode()
    assert "A户型" in html
    assert "上传资料" not in html  # reading only
    assert client.post(reverse("service:material_act", args=[material.pk, "version"]), {}).status_code == 403


def test_the_export_lists_materials_and_the_display_checklist(client, director, project):
    add(director, project)
    services.ensure_display_items(project)
    client.force_login(director)
    response = client.get(reverse("service:material_export"))
    book = load_workbook(BytesIO(b"".join(response.streaming_content)))
    materials = list(book["项目资料"].values)
    assert materials[2][:5] == ("锦华苑", "红线内外不利因素", "红线内外不利因素告知书", "在用", "v1")
    displays = list(book["现场公示"].values)
    assert [r[1] for r in displays[2:9]] == [name for name, _ in services.DEFAULT_DISPLAY_ITEMS]
    assert displays[2][6] == "是"  # never checked


# ---------------------------------------------------------------- displays on the inspection


@pytest.fixture
def teammate_service(make_staff, project):
    return make_staff("service2", Role.SERVICE, projects=(project,), display_name="周客服")


@pytest.fixture
def insp(service, project):
    return services.start_inspection(project, actor=service, now=t(9))


def test_each_project_gets_the_seeds_display_list_and_the_inspection_a_section(insp, project):
    assert [i.name for i in DisplayItem.objects.filter(project=project)] == [
        "五证及房屋证件",
        "红线内外不利因素",
        "温馨提示",
        "车位公示",
        "购房流程图",
        "客户服务中心热线",
        "开盘价格",
    ]
    assert insp.display_checks.count() == 7
    assert set(insp.display_checks.values_list("status", flat=True)) == {"pending"}


def test_confirming_updates_the_last_check_and_a_missing_item_becomes_one_finding(insp, service, director):
    checks = {d.name: d for d in insp.display_checks.all()}
    with pytest.raises(DomainError, match="缺失或过期时请说明"):
        services.record_display(checks["开盘价格"], actor=service, status="outdated", now=t(9, 20))
    with pytest.raises(NotAllowed):
        services.record_display(checks["开盘价格"], actor=director, status="displayed", now=t(9, 20))
    services.record_display(checks["五证及房屋证件"], actor=service, status="displayed", now=t(9, 20))
    services.record_display(checks["开盘价格"], actor=service, status="outdated", note="仍是上期价格", now=t(9, 21))
    services.record_display(checks["车位公示"], actor=service, status="missing", note="公示牌被移走", now=t(9, 22))
    services.record_display(checks["车位公示"], actor=service, status="missing", note="仍未找到", now=t(9, 25))
    item = DisplayItem.objects.get(name="五证及房屋证件")
    assert (item.last_checked_on, item.last_checked_by, item.last_status) == (DAY, service, "displayed")
    assert DisplayItem.objects.get(name="开盘价格").last_status == "outdated"
    finding = Finding.objects.get()
    assert finding.area == "现场公示"
    assert "车位公示" in finding.description
    assert finding.department == "sales"
    assert finding.due_at == t(11)


def test_a_later_inspection_that_sees_the_item_displayed_closes_its_finding_once(insp, service, teammate_service):
    missing = insp.display_checks.get(name="车位公示")
    services.record_display(missing, actor=service, status="missing", note="公示牌被移走", now=t(9, 22))
    other = insp.display_checks.get(name="温馨提示")
    services.record_display(other, actor=service, status="missing", note="未张贴", now=t(9, 23))
    finding = Finding.objects.get(display_check=missing)
    # The same day's inspection changing its mind does not close its own finding.
    services.record_display(missing, actor=service, status="displayed", now=t(9, 40))
    assert Finding.objects.get(pk=finding.pk).handled_at is None

    next_day = DAY + timedelta(days=1)
    later = services.start_inspection(insp.project, actor=teammate_service, now=t(9, day=next_day))
    services.record_display(
        later.display_checks.get(name="温馨提示"),
        actor=teammate_service,
        status="missing",
        note="仍未张贴",
        now=t(9, 5, day=next_day),
    )
    again = later.display_checks.get(name="车位公示")
    services.record_display(again, actor=teammate_service, status="displayed", now=t(9, 10, day=next_day))
    services.record_display(again, actor=teammate_service, status="displayed", now=t(9, 15, day=next_day))

    finding.refresh_from_db()
    assert finding.handled_at == t(9, 10, day=next_day)
    assert finding.handled_by == teammate_service
    assert finding.handled_note == "已在 2026-09-30 巡查中确认补齐"
    # Still missing: its finding stays open (and a new one is made today).
    assert Finding.objects.get(display_check=other).handled_at is None
    assert Finding.objects.filter(handled_at__isnull=True, area="现场公示").count() == 2
    assert AuditLog.objects.filter(summary__startswith="巡查问题自动关闭").count() == 1


def test_a_finding_handled_by_hand_is_not_closed_again(insp, service, teammate_service):
    missing = insp.display_checks.get(name="车位公示")
    services.record_display(missing, actor=service, status="missing", note="公示牌被移走", now=t(9, 22))
    finding = services.handle_finding(
        Finding.objects.get(display_check=missing), actor=service, note="已重新张贴", now=t(10, 30)
    )
    next_day = DAY + timedelta(days=1)
    later = services.start_inspection(insp.project, actor=teammate_service, now=t(9, day=next_day))
    services.record_display(
        later.display_checks.get(name="车位公示"),
        actor=teammate_service,
        status="displayed",
        now=t(9, 10, day=next_day),
    )
    finding.refresh_from_db()
    assert (finding.handled_note, finding.handled_by, finding.handled_at) == ("已重新张贴", service, t(10, 30))


def test_the_display_section_through_the_page(client, insp, service):
    client.force_login(service)
    check = insp.display_checks.get(name="客户服务中心热线")
    url = reverse("service:inspection_act", args=[insp.pk, "display"])
    response = client.post(url, {"target": check.pk, "status": "missing", "note": ""})
    assert response.status_code == 400
    assert "缺失或过期时请说明" in response.content.decode()
    response = client.post(url, {"target": check.pk, "status": "missing", "note": "热线牌缺失"}, follow=True)
    html = response.content.decode()
    assert "已记为巡查问题" in html
    assert 'data-display="客户服务中心热线" data-status="missing"' in html


def test_the_workbench_flags_items_not_checked_for_more_than_seven_days(insp, service, director, project):
    def stale(user, today):
        cards = workbench_cards(user, today=today)
        return {s.key: s.value for c in cards if hasattr(c, "stats") for s in c.stats}.get("displays_stale", 0)

    assert stale(director, DAY) == 7  # never checked
    for check in insp.display_checks.all():
        services.record_display(check, actor=service, status="displayed", now=t(9, 30))
    assert stale(director, DAY) == 0
    assert stale(service, DAY + timedelta(days=7)) == 0
    assert stale(service, DAY + timedelta(days=8)) == 7
    with override_settings(DISPLAY_CHECK_STALE_DAYS=10):
        assert stale(service, DAY + timedelta(days=8)) == 0
    # A consultant reads the materials but is not asked to check the displays.
    assert selectors.display_items_visible_to(director).count() == 7


def test_the_display_list_page(client, director, consultant, project, project_b):
    client.force_login(director)
    html = client.get(reverse("service:display_list")).content.decode()
    assert "还没有公示清单" in html
    assert not DisplayItem.objects.exists()  # reading the page writes nothing
    client.force_login(consultant)  # reads, does not create
    assert client.post(reverse("service:display_defaults"), {"project": project.pk}).status_code == 403
    client.force_login(director)
    client.post(reverse("service:display_defaults"), {"project": project_b.pk})
    assert DisplayItem.objects.filter(project=project_b).count() == 7
    html = client.get(reverse("service:display_list") + "?stale=on").content.decode()
    assert "五证及房屋证件" in html
    assert "从未检查" in html


# ---------------------------------------------------------------- API


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_materials_and_displays_through_the_api(director, service, outsider, project):
    response = api(director).post(
        "/api/service/materials/",
        {"project": project.pk, "kind": "brochure", "title": "楼书", "file": pdf("楼书.pdf")},
        format="multipart",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["versions"][0]["number"] == 1
    response = api(director).post(
        f"/api/service/materials/{body['id']}/versions/", {"file": pdf("楼书2.pdf")}, format="multipart"
    )
    assert [(v["number"], v["is_current"]) for v in response.json()["versions"]] == [(2, True), (1, False)]
    response = api(director).post(
        f"/api/service/materials/{body['id']}/versions/",
        {"file": SimpleUploadedFile("x.pdf", b"nope")},
        format="multipart",
    )
    assert response.status_code == 400
    assert "不是有效的 PDF" in str(response.json())
    assert api(service).post(f"/api/service/materials/{body['id']}/versions/", {}).status_code == 403
    assert api(outsider).get(f"/api/service/materials/{body['id']}/").status_code == 404
    assert [m["title"] for m in api(service).get("/api/service/materials/").json()["results"]] == ["楼书"]

    insp = api(service).post("/api/service/inspections/", {"project": project.pk}, format="json").json()
    display = insp["displays"][0]
    response = api(service).post(
        f"/api/service/inspections/{insp['id']}/actions/display/",
        {"target": display["id"], "status": "missing", "note": "未公示"},
        format="json",
    )
    assert response.json()["displays"][0]["status"] == "missing"
    assert response.json()["findings"][0]["area"] == "现场公示"
    items = api(service).get("/api/service/display-items/", {"project": project.pk}).json()["results"]
    assert items[0]["last_status"] == "missing"
    assert [i["stale"] for i in items[1:]] == [True] * 6
