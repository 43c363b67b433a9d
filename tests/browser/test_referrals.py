"""老带新 in the browser: a consultant on a phone finds the old owner by name, records that
they brought in a new customer (连锁介绍); once the new customer has subscribed the
consultant asks for a reward, and the director approves it from the rewards list."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from crm.referrals.models import Referral, Reward
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_record_a_referral_then_the_director_approves_the_reward(
    browser, live_server, phone_page, sign_in, consultant, director, make_customer, make_unit
):
    from crm.customers.services import create_deal

    old = make_customer("张老业主")
    new = make_customer("李新客")

    page = sign_in(phone_page, consultant)
    page.goto(f"/referrals/new/?referred={new.number}")
    page.fill("input[name=find]", "张老")
    page.click("form.referrer-search button")
    expect(page.locator("table.referrer-results")).to_contain_text("张老业主")
    page.click("table.referrer-results a.button")
    expect(page.locator("input[name=referrer_number]")).to_have_value(old.number)
    expect(page.locator("input[name=referred_number]")).to_have_value(new.number)
    assert fits_the_screen(page)
    page.click("form[method=post] button.primary")
    expect(page.locator(".messages")).to_contain_text("已登记：张老业主 推荐 李新客")
    expect(page.locator(".referral-chain")).to_contain_text("张老业主")
    expect(page.locator("[data-status]").first).to_have_text("已推荐")
    referral = Referral.objects.get(referred=new)

    create_deal(actor=consultant, customer=new, unit=make_unit(), subscribed_on=date(2026, 9, 20))
    page.reload()
    expect(page.locator("[data-status]").first).to_have_text("已认购")
    page.click("summary:has-text('申请推荐奖励')")
    page.select_option("select[name=kind]", "cash")
    page.fill("input[name=amount]", "2000")
    page.click("button:has-text('提交审批')")
    expect(page.locator(".messages")).to_contain_text("奖励申请已提交")
    expect(page.locator("table.rewards")).to_contain_text("待审批")
    assert fits_the_screen(page)
    screenshot(page, "referral_detail_phone")

    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 860})
    desk = sign_in(context.new_page(), director)
    desk.goto("/")
    desk.click("text=待审批奖励")
    expect(desk.locator("table.rewards")).to_contain_text("张老业主 → 李新客")
    desk.once("dialog", lambda dialog: dialog.accept())
    desk.click("table.rewards button:has-text('批准')")
    expect(desk.locator(".messages")).to_contain_text("奖励已批准")
    desk.goto("/referrals/stats/")
    expect(desk.locator("table.stats-project")).to_contain_text("锦华苑")
    screenshot(desk, "referral_stats")
    context.close()
    reward = Reward.objects.get(referral=referral)
    assert (reward.state, reward.approved_by_id) == (Reward.State.APPROVED, director.pk)
