"""报告 in the browser: the specialist generates last week's 周报 of her project, reads the
sections, fills in the summary and next week's focus, submits (the pack locks), and exports
it to Excel and PDF."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from crm.lib.dates import CHINA_TZ
from crm.reports.models import ReportPack
from crm.service.models import Gift, GiftIssue, Occasion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_specialist_generates_fills_in_submits_and_exports_a_weekly_pack(
    page, sign_in, company, project, service, make_customer
):
    from datetime import datetime

    gift = Gift.objects.create(company=company, name="品牌雨伞", unit="把")
    GiftIssue.objects.create(
        company=company,
        project=project,
        gift=gift,
        quantity=2,
        occasion=Occasion.SUBSCRIPTION,
        customer=make_customer("赵业主"),
        issuer=service,
        issued_at=datetime(2026, 9, 22, 10, 0, tzinfo=CHINA_TZ),
    )
    sign_in(page, service)
    page.goto("/reports/")
    page.click("text=生成报告")
    page.select_option("select[name=kind]", "weekly")
    page.select_option("select[name=scope]", str(project.pk))
    page.fill("input[name=day]", "2026-09-23")
    page.click("#generate-form button.primary")
    expect(page.locator("h1")).to_contain_text("锦华苑 周报")
    expect(page.locator("h1")).to_contain_text("2026-09-21 至 2026-09-27")
    expect(page.locator("#section-gifts")).to_contain_text("1. 本周礼品发放情况")
    expect(page.locator("#section-gifts")).to_contain_text("品牌雨伞")
    expect(page.locator("#section-face_visits")).to_contain_text("9. 客户面访情况记录")

    page.fill("textarea[name=summary]", "本周礼品按时发放，回访无异常。")
    page.fill("textarea[name=next_focus]", "跟进交房前的客户关怀。")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#text-form button.primary")
    expect(page.locator("#pack-status")).to_contain_text("已提交")
    expect(page.locator("#text-form")).to_have_count(0)
    expect(page.locator("#section-next_focus")).to_contain_text("跟进交房前的客户关怀。")
    pack = ReportPack.objects.get()
    assert (pack.status, pack.period_start) == ("submitted", date(2026, 9, 21))

    with page.expect_download() as xlsx:
        page.click("#export-xlsx")
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    with page.expect_download() as pdf:
        page.click("#export-pdf")
    path = pdf.value.path()
    assert path is not None
    with open(path, "rb") as fh:
        assert fh.read(4) == b"%PDF"
