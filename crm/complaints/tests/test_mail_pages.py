"""The director's side of email intake: the held-mail notice on the list, the 投诉邮件 page
(reason, text, 标记为已处理), and the read-only admin lists."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.urls import reverse

from crm.complaints.mail_intake import MailboxConfig, intake_mail
from crm.complaints.models import Channel, Complaint, InboundMail, PurgeRecord
from crm.lib.dates import CHINA_TZ

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)
SCRIPT_MAIL = (
    b"From: <x@example.com>\r\nSubject: <script>alert(1)</script>\r\nMessage-ID: <held@example.com>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n<b>\xe6\xbc\x8f\xe6\xb0\xb4</b>\r\n"
)


@pytest.fixture
def held(duty, category) -> InboundMail:
    """A mail that names no project while no default project is set: held."""
    return intake_mail(SCRIPT_MAIL, actor=duty, config=MailboxConfig("h", 1, "u", "p", actor="duty"), now=NOW)


def test_a_held_mail_is_announced_to_the_director_only(client, held, director, service):
    assert held.status == InboundMail.Status.HELD
    client.force_login(director)
    page = client.get(reverse("complaints:list")).content.decode()
    assert "有 1 封投诉邮件未能自动登记" in page
    client.force_login(service)
    assert "投诉邮件未能自动登记" not in client.get(reverse("complaints:list")).content.decode()
    assert client.get(reverse("complaints:mails")).status_code == 403
    assert client.get(reverse("complaints:mail", args=[held.pk])).status_code == 403


def test_the_director_reads_the_held_mail_escaped_and_marks_it_handled(client, held, director):
    client.force_login(director)
    listing = client.get(reverse("complaints:mails")).content.decode()
    assert "无法确定楼盘" in listing
    page = client.get(reverse("complaints:mail", args=[held.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "&lt;b&gt;漏水&lt;/b&gt;" in page
    url = reverse("complaints:mail", args=[held.pk])
    response = client.post(url, {"note": ""})
    assert response.status_code == 400
    assert "请填写处理说明" in response.content.decode()
    assert client.post(url, {"note": "已人工登记 TS202611230001"}).status_code == 302
    held.refresh_from_db()
    assert held.status == InboundMail.Status.HANDLED
    assert held.handled_by == director
    assert bytes(held.raw) == b""
    assert held.reason.endswith("；处理：已人工登记 TS202611230001")
    assert "投诉邮件未能自动登记" not in client.get(reverse("complaints:list")).content.decode()


def test_staff_register_an_email_complaint_with_an_address_only(client, service, category, project):
    client.force_login(service)
    data = {
        "channel": Channel.EMAIL,
        "complainant_name": "李女士",
        "complainant_email": "li@example.com",
        "project": project.pk,
        "category": category.pk,
        "content": "邮件投诉：物业服务",
    }
    assert client.post(reverse("complaints:new"), data).status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.complainant_email, complaint.complainant_mobile) == ("li@example.com", "")
    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert "li***@example.com" in page
    response = client.post(reverse("complaints:new"), data | {"channel": Channel.PHONE})
    assert "请填写投诉人的联系电话" in response.content.decode()


def test_the_admin_lists_mails_and_purge_records_read_only(client, admin_user, held, company):
    PurgeRecord.objects.create(
        company=company,
        number="TS202511230001",
        category_name="合同",
        channel=Channel.PHONE,
        registered_at=NOW,
        archived_at=NOW,
        purged_at=NOW,
    )
    client.force_login(admin_user)
    assert "x@example.com" in client.get("/admin/complaints/inboundmail/").content.decode()
    assert "TS202511230001" in client.get("/admin/complaints/purgerecord/").content.decode()
    assert client.get("/admin/complaints/mailboxstate/").status_code == 200
    assert client.get("/admin/complaints/purgerecord/add/").status_code == 403
