"""The 老带新 pages: scope, recording with the referrer search, reward actions, stats, export."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.customers import services as customer_services
from crm.referrals import services
from crm.referrals.models import Referral, Reward

from .conftest import NOW

pytestmark = pytest.mark.django_db


def test_the_consultant_records_a_referral_found_by_search(login, consultant, old, new):
    client = login(consultant)
    page = client.get(reverse("referrals:new"), {"find": "张老", "referred": new.number})
    assert page.status_code == 200
    assert "选为推荐人" in page.content.decode()
    assert old.number in page.content.decode()
    response = client.post(
        reverse("referrals:new"),
        {"referred_number": new.number, "referrer_number": old.number, "channel": "cross"},
    )
    referral = Referral.objects.get(referred=new)
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:detail", args=[referral.pk])
    assert referral.channel == "cross"
    detail = client.get(response["Location"]).content.decode()
    assert "推荐链" in detail
    assert "交叉合作" in detail


def test_a_referrer_outside_the_scope_is_not_found(login, outsider, make_customer, project_b, new):
    other = make_customer("外组老业主", owner=outsider, project=project_b)
    client = login(new.owner)
    response = client.post(
        reverse("referrals:new"), {"referred_number": new.number, "referrer_number": other.number, "channel": "chain"}
    )
    assert response.status_code == 200
    assert "没有找到这个客户编号" in response.content.decode()
    assert not Referral.objects.exists()


def test_the_outsider_gets_404_on_a_referral(login, consultant, outsider, old, new):
    referral = services.record_referral(new, actor=consultant, referrer=old, now=NOW)
    assert login(outsider).get(reverse("referrals:detail", args=[referral.pk])).status_code == 404
    assert login(consultant).get(reverse("referrals:list")).content.decode().count(new.name) >= 1


def test_the_chain_shows_several_levels(login, consultant, make_customer, old):
    middle = make_customer("二代")
    last = make_customer("三代")
    first = services.record_referral(middle, actor=consultant, referrer=old)
    second = services.record_referral(last, actor=consultant, referrer=middle)
    below = login(consultant).get(reverse("referrals:detail", args=[first.pk])).content.decode()
    assert "二代 的第1级推荐" in below
    assert "三代" in below
    html = login(consultant).get(reverse("referrals:detail", args=[second.pk])).content.decode()
    assert "第2级推荐人" in html
    assert old.name in html


def test_the_director_approves_and_pays_from_the_rewards_list(login, consultant, director, old, new, unit):
    referral = services.record_referral(new, actor=consultant, referrer=old, now=NOW)
    customer_services.create_deal(actor=consultant, customer=new, unit=unit, subscribed_on=date(2026, 9, 20))
    client = login(consultant)
    client.post(reverse("referrals:act", args=[referral.pk, "reward"]), {"kind": "cash", "amount": "2000"})
    reward = Reward.objects.get(referral=referral)
    assert client.post(reverse("referrals:reward_act", args=[reward.pk, "approve"])).status_code == 403
    client = login(director)
    listing = client.get(reverse("referrals:rewards"), {"state": "pending"}).content.decode()
    assert "批准" in listing
    client.post(reverse("referrals:reward_act", args=[reward.pk, "approve"]))
    client.post(reverse("referrals:reward_act", args=[reward.pk, "pay"]))
    assert Reward.objects.get(pk=reward.pk).state == Reward.State.PAID


def test_a_reward_before_the_subscription_is_refused_on_the_page(login, consultant, old, new):
    referral = services.record_referral(new, actor=consultant, referrer=old)
    response = login(consultant).post(
        reverse("referrals:act", args=[referral.pk, "reward"]), {"kind": "cash", "amount": "2000"}
    )
    assert response.status_code == 400
    assert "认购后才能申请" in response.content.decode()
    assert not Reward.objects.exists()


def test_stats_page_and_export(login, consultant, director, old, new, unit):
    services.record_referral(new, actor=consultant, referrer=old)
    customer_services.create_deal(actor=consultant, customer=new, unit=unit, subscribed_on=date(2026, 9, 20))
    client = login(director)
    html = client.get(reverse("referrals:stats")).content.decode()
    assert "按楼盘" in html
    assert "锦华苑" in html
    response = client.get(reverse("referrals:export"))
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert any(row[3] == new.name and row[8] == "已认购" for row in values)


def test_the_consultant_has_no_stats_page(login, consultant):
    assert login(consultant).get(reverse("referrals:stats")).status_code == 403


def test_workbench_cards(consultant, director, old, new, unit):
    from crm.referrals.cards import workbench_cards

    referral = services.record_referral(new, actor=consultant, referrer=old)
    customer_services.create_deal(actor=consultant, customer=new, unit=unit, subscribed_on=date(2026, 9, 20))
    today = date.today()
    mine = {s.key: s.value for c in workbench_cards(consultant, today=today) for s in getattr(c, "stats", ())}
    assert mine["referrals_unrewarded"] == 1
    services.propose_reward(referral, actor=consultant, kind="cash", amount="100")
    theirs = {s.key: s.value for c in workbench_cards(director, today=today) for s in getattr(c, "stats", ())}
    assert theirs["rewards_pending"] == 1
