"""Attachments on the staff side (form, API, the checked download view) and the
integration API for the website and WeChat (hashed keys, disabled clients, rate limit)."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from crm.complaints import integrations, services
from crm.complaints.models import Category, Channel, Complaint, ComplaintAttachment, IntegrationClient
from crm.complaints.tests import images

pytestmark = pytest.mark.django_db
Status = Complaint.Status


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def png_upload(name="现场.png"):
    return SimpleUploadedFile(name, images.png(), content_type="image/png")


# ---------------------------------------------------------------- staff intake and the download view


def test_staff_attach_images_on_the_intake_form(client, service, project, category):
    client.force_login(service)
    response = client.post(
        reverse("complaints:new"),
        {
            "channel": Channel.PHONE,
            "complainant_name": "王先生",
            "complainant_mobile": "13900001111",
            "project": project.pk,
            "category": category.pk,
            "content": "车位划线错误",
            "attachments": [png_upload(), png_upload("2.png")],
        },
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.attachments.count() == 2
    assert complaint.attachments.first().uploaded_by == service
    detail = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    first = complaint.attachments.first()
    # The page links the full image and shows only the thumbnail.
    assert f'href="{reverse("complaints:attachment", args=[complaint.pk, first.pk])}"' in detail
    assert f'src="{reverse("complaints:attachment_thumbnail", args=[complaint.pk, first.pk])}"' in detail
    assert f'src="{reverse("complaints:attachment", args=[complaint.pk, first.pk])}"' not in detail


def test_the_intake_form_refuses_a_non_image_and_keeps_the_text(client, service, project, category):
    client.force_login(service)
    response = client.post(
        reverse("complaints:new"),
        {
            "channel": Channel.PHONE,
            "complainant_name": "王先生",
            "complainant_mobile": "13900001111",
            "project": project.pk,
            "category": category.pk,
            "content": "车位划线错误",
            "attachments": [SimpleUploadedFile("a.png", b"MZ\x90\x00 an exe", content_type="image/png")],
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "“a.png”不是图片" in html
    assert "车位划线错误" in html
    assert not Complaint.objects.exists()


@pytest.fixture
def with_image(make_complaint) -> tuple[Complaint, ComplaintAttachment]:
    complaint = make_complaint(attachments=(png_upload(),))
    return complaint, complaint.attachments.get()


def test_the_image_is_served_to_those_who_see_the_complaint_only(client, with_image, service, service_b, director):
    complaint, row = with_image
    url = reverse("complaints:attachment", args=[complaint.pk, row.pk])
    client.force_login(service)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    served = b"".join(response.streaming_content)
    with row.file.open("rb") as handle:
        assert served == handle.read()
    assert Image.open(io.BytesIO(served)).size == (4, 3)
    client.force_login(service_b)  # another project's specialist
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    # The file has no public address: /media/ is not served by the application.
    assert client.get(f"/media/{row.file.name}").status_code == 404


def test_an_attachment_of_another_complaint_is_404(client, with_image, make_complaint, service):
    _complaint, row = with_image
    other = make_complaint(complainant_mobile="13900002222")
    client.force_login(service)
    assert client.get(reverse("complaints:attachment", args=[other.pk, row.pk])).status_code == 404


def test_the_thumbnail_is_served_to_those_who_see_the_complaint_only(client, with_image, service, service_b):
    complaint, row = with_image
    url = reverse("complaints:attachment_thumbnail", args=[complaint.pk, row.pk])
    client.force_login(service)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert Image.open(io.BytesIO(response.content)).format == "JPEG"
    client.force_login(service_b)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_a_missing_thumbnail_is_made_from_the_image_and_kept(client, make_complaint, service):
    big = SimpleUploadedFile("大图.png", images.png(900, 600), content_type="image/png")
    complaint = make_complaint(attachments=(big,))
    row = complaint.attachments.get()
    assert row.thumbnail.name.startswith("private/complaints/")
    assert row.thumbnail.name.endswith(".thumb.jpg")
    storage = row.thumbnail.storage
    assert storage.exists(row.thumbnail.name)  # written with the image
    # A row stored before thumbnails existed: no thumbnail at all.
    storage.delete(row.thumbnail.name)
    ComplaintAttachment.objects.filter(pk=row.pk).update(thumbnail="")
    client.force_login(service)
    url = reverse("complaints:attachment_thumbnail", args=[complaint.pk, row.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).size == (320, 213)
    row.refresh_from_db()
    assert row.thumbnail.name.endswith(".thumb.jpg")
    assert storage.exists(row.thumbnail.name)
    # The recorded file gone: made again, the row pointing at the new file.
    gone = row.thumbnail.name
    storage.delete(gone)
    assert client.get(url).status_code == 200
    row.refresh_from_db()
    assert row.thumbnail.name != gone
    assert storage.exists(row.thumbnail.name)


def test_the_retention_purge_deletes_the_image_and_its_thumbnail(make_complaint, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from crm.complaints import retention

    complaint = make_complaint(attachments=(png_upload(),))
    row = complaint.attachments.get()
    storage, names = row.file.storage, (row.file.name, row.thumbnail.name)
    assert all(storage.exists(name) for name in names)
    now = timezone.now()
    Complaint.objects.filter(pk=complaint.pk).update(status=Status.ARCHIVED, archived_at=now - timedelta(days=800))
    with django_capture_on_commit_callbacks(execute=True):
        assert retention.purge_expired(now=now) == 1
    assert not any(storage.exists(name) for name in names)


def test_an_old_heic_row_has_no_thumbnail_but_stays_downloadable(client, with_image, service):
    complaint, row = with_image
    ComplaintAttachment.objects.filter(pk=row.pk).update(content_type="image/heic")
    client.force_login(service)
    url = reverse("complaints:attachment_thumbnail", args=[complaint.pk, row.pk])
    assert client.get(url).status_code == 404
    detail = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert "（HEIC，下载查看）" in detail
    response = client.get(reverse("complaints:attachment", args=[complaint.pk, row.pk]))
    assert response["Content-Disposition"].startswith("attachment;")
    response.close()


def test_the_api_takes_images_and_lists_them(service, project, category):
    api = APIClient()
    api.force_authenticate(service)
    response = api.post(
        "/api/complaints/",
        {
            "channel": Channel.PHONE,
            "complainant_name": "王先生",
            "complainant_mobile": "13900001111",
            "project": project.pk,
            "category": category.pk,
            "content": "车位划线错误",
            "attachments": [png_upload()],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    [item] = response.json()["attachments"]
    assert item["content_type"] == "image/png"
    assert item["url"] == reverse("complaints:attachment", args=[response.json()["id"], item["id"]])
    assert item["thumbnail_url"] == reverse("complaints:attachment_thumbnail", args=[response.json()["id"], item["id"]])
    bad = api.post(
        "/api/complaints/",
        {
            "channel": Channel.PHONE,
            "complainant_name": "王先生",
            "complainant_mobile": "13900001111",
            "project": project.pk,
            "category": category.pk,
            "content": "车位划线错误",
            "attachments": [SimpleUploadedFile("x.jpg", b"text", content_type="image/jpeg")],
        },
        format="multipart",
    )
    assert bad.status_code == 400
    assert bad.json() == {"attachments": ["“x.jpg”不是图片或文件已损坏，只能上传 JPG、PNG、WebP 照片"]}


# ---------------------------------------------------------------- integrations


@pytest.fixture
def wechat(company) -> tuple[IntegrationClient, str]:
    client = IntegrationClient(company=company, name="公众号", channel=IntegrationClient.Kind.WECHAT)
    return client, integrations.issue_key(client)


def post(key, data, **extra):
    api = APIClient()
    headers = {"HTTP_X_INTEGRATION_KEY": key} if key is not None else {}
    return api.post("/api/integrations/complaints/", data, format="multipart", **headers, **extra)


def body(project, **kw):
    return {
        "complainant_name": "赵女士",
        "complainant_mobile": "13500001111",
        "project": project.pk,
        "content": "交房延期",
        "unit": "5-1-1201",
    } | kw


def test_an_integration_registers_a_complaint_with_its_channel(wechat, project, customer):
    client, key = wechat
    response = post(key, body(project, complainant_mobile="13812345678", attachments=[png_upload()]))
    assert response.status_code == 201, response.json()
    complaint = Complaint.objects.get(number=response.json()["number"])
    assert response.json()["status"] == "已受理"
    assert complaint.channel == Channel.WECHAT
    assert complaint.customer == customer
    assert complaint.unit_text == "5-1-1201"
    assert complaint.attachments.count() == 1
    assert complaint.events.get().note == "由接入方“公众号”提交"
    client.refresh_from_db()
    assert client.last_used_at is not None
    assert IntegrationClient.objects.get().key_hash != key
    assert key not in client.key_hash


def test_the_authorization_header_works_too(wechat, project):
    _, key = wechat
    api = APIClient()
    response = api.post("/api/integrations/complaints/", body(project), format="json", HTTP_AUTHORIZATION=f"Key {key}")
    assert response.status_code == 201


@pytest.mark.parametrize("how", ["missing", "wrong", "disabled", "truncated"])
def test_a_bad_key_is_refused(wechat, project, how):
    client, key = wechat
    if how == "disabled":
        client.is_enabled = False
        client.save()
    sent = {"missing": None, "wrong": key[:-4] + "AAAA", "disabled": key, "truncated": key[:12]}[how]
    response = post(sent, body(project))
    assert response.status_code == 401
    assert response.json() == {"detail": "接入密钥无效或已停用。"} or how == "missing"
    assert not Complaint.objects.exists()


def test_a_new_key_replaces_the_old_one(wechat, project):
    client, old = wechat
    new = integrations.issue_key(client)
    assert post(old, body(project)).status_code == 401
    assert post(new, body(project)).status_code == 201


def test_a_project_of_another_company_is_refused(wechat, project):
    from crm.accounts.models import Company
    from crm.projects.models import Project

    other = Project.objects.create(company=Company.objects.create(name="别家"), name="别家楼盘", code="BJ")
    response = post(wechat[1], body(project) | {"project": other.pk})
    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_missing_mobile_and_non_image_are_refused_in_chinese(wechat, project):
    response = post(wechat[1], body(project, complainant_mobile=""))
    assert response.status_code == 400
    response = post(
        wechat[1], body(project, attachments=[SimpleUploadedFile("a.webp", b"RIFFxxxx", content_type="image/webp")])
    )
    assert response.json() == {"attachments": ["“a.webp”不是图片或文件已损坏，只能上传 JPG、PNG、WebP 照片"]}
    assert not Complaint.objects.exists()


@override_settings(COMPLAINT_INTEGRATION_PER_HOUR=2)
def test_an_integration_is_rate_limited(wechat, company, project):
    for i in range(2):
        assert post(wechat[1], body(project, complainant_mobile=f"1350000{i:04d}")).status_code == 201
    response = post(wechat[1], body(project, complainant_mobile="13500009999"))
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [integrations.TOO_FAST]}
    # Another client has its own allowance.
    website = IntegrationClient(company=company, name="官网", channel=IntegrationClient.Kind.WEBSITE)
    key = integrations.issue_key(website)
    created = post(key, body(project, complainant_mobile="13500009999"))
    assert created.status_code == 201
    assert Complaint.objects.get(number=created.json()["number"]).channel == Channel.WEBSITE


def test_the_choices_list_projects_and_categories(wechat, project, project_b, company):
    services.ensure_default_categories(company)
    response = APIClient().get("/api/integrations/choices/", HTTP_X_INTEGRATION_KEY=wechat[1])
    assert response.status_code == 200
    data = response.json()
    assert {p["name"] for p in data["projects"]} == {project.name, project_b.name}
    assert services.UNSORTED not in {c["name"] for c in data["categories"]}
    assert len(data["categories"]) == Category.objects.filter(company=company, is_active=True).count()
    assert APIClient().get("/api/integrations/choices/").status_code == 401


def test_the_admin_shows_a_new_key_once(client, admin_user, company):
    admin_client_for_company = client
    client.force_login(admin_user)
    response = admin_client_for_company.post(
        reverse("admin:complaints_integrationclient_add"),
        {"name": "官网", "channel": IntegrationClient.Kind.WEBSITE, "is_enabled": "on"},
        follow=True,
    )
    client = IntegrationClient.objects.get()
    assert client.company == company
    html = response.content.decode()
    key = html.split("请立即复制保存）：")[1].split("<")[0].strip()
    assert integrations.authenticate(key) == client
    assert (
        key
        not in admin_client_for_company.get(
            reverse("admin:complaints_integrationclient_change", args=[client.pk])
        ).content.decode()
    )


def test_the_export_has_the_unit_the_complainant_typed(client, service, make_complaint):
    from io import BytesIO

    from openpyxl import load_workbook

    make_complaint(unit_text="5-1-1201")
    client.force_login(service)
    response = client.get(reverse("complaints:export"))
    rows = list(load_workbook(BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    column = rows[1].index("房号")
    assert rows[2][column] == "5-1-1201"
