"""Complaints by email in the browser, on a phone-sized screen: the mailbox job registers
one mail and holds an unreadable one; the director sees the notice on the list, reads the
held mail and marks it handled, marks the mailed complaint important and links it as a
repeat. Nothing overflows 390px."""

from __future__ import annotations

from datetime import timedelta
from email.header import Header
from email.mime.text import MIMEText

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from crm.accounts.roles import Role
from crm.complaints import services
from crm.complaints.mail_intake import MailboxConfig, poll_mailbox
from crm.complaints.models import Category, Channel, Complaint, InboundMail
from crm.complaints.tests.fake_imap import FakeImapServer
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_mailed_complaints_reach_the_director_on_a_phone(
    phone_page, sign_in, live_server, make_staff, company, project, service, director
):
    services.ensure_default_categories(company)
    Category.objects.filter(company=company).update(owner=service)
    duty = make_staff("duty", Role.DUTY, projects=(project,), display_name="孙值班")
    earlier = services.register_complaint(
        services.Intake(
            channel=Channel.PHONE,
            complainant_name="李女士",
            complainant_mobile="13600007777",
            content="车库渗水",
            project=project,
            category=Category.objects.get(company=company, name="售后"),
        ),
        actor=duty,
        now=timezone.now() - timedelta(days=200),
    )
    message = MIMEText("车库又渗水了，联系电话 13600007777。", "plain", "gbk")
    message["Subject"] = Header("车库渗水再次投诉", "gbk").encode()
    message["From"] = "li@example.com"
    message["Message-ID"] = "<browser@example.com>"
    server = FakeImapServer().start()
    try:
        server.deliver(message.as_bytes())
        server.deliver(b"garbage without headers\r\n\r\n")
        config = MailboxConfig(
            "127.0.0.1", server.port, server.user, server.password, use_ssl=False, actor="duty", project=project.code
        )
        assert poll_mailbox(now=timezone.now(), config=config) == 2
    finally:
        server.stop()
    mailed = Complaint.objects.get(channel=Channel.EMAIL)
    assert not mailed.is_repeat  # another category (服务质量) and outside the window

    page = sign_in(phone_page, director)
    page.goto("/complaints/")
    notice = page.locator(".held-mails")
    expect(notice).to_contain_text("有 1 封投诉邮件未能自动登记")
    assert fits_the_screen(page)
    notice.locator("a").click()
    page.locator("table.inbound-mails a").first.click()
    expect(page.locator(".mail-reason")).to_contain_text("邮件没有邮件头")
    page.click("form button.primary")
    expect(page.locator(".errorlist")).to_contain_text("请填写处理说明")
    page.fill("textarea[name=note]", "垃圾邮件，无需登记")
    page.click("form button.primary")
    expect(page.locator(".messages")).to_contain_text("已标记为已处理")
    assert fits_the_screen(page)
    assert InboundMail.objects.filter(status=InboundMail.Status.HANDLED).count() == 1

    page.goto(f"/complaints/{mailed.pk}/")
    expect(page.locator(".card").first).to_contain_text("车库又渗水了")
    page.click("text=标记为重要投诉（长期保存）")
    expect(page.locator(".messages")).to_contain_text("已标记为重要投诉")
    box = page.locator("details.manage-box", has=page.locator("summary", has_text="标记为重复投诉"))
    box.locator("summary").click()
    box.locator("input[name=repeat_of]").fill(earlier.number)
    box.locator("textarea[name=note]").fill("同一车库渗水问题")
    box.locator("button.primary").click()
    expect(page.locator(".repeat-count")).to_contain_text("同一问题第 2 次投诉")
    expect(page.locator(".complaint-events")).to_contain_text(f"标记为重复投诉，前次投诉 {earlier.number}")
    screenshot(page, "complaint-mail-detail-phone")
    assert fits_the_screen(page)
    mailed.refresh_from_db()
    assert (mailed.is_important, mailed.repeat_of) == (True, earlier)
