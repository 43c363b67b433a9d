"""What a message is for, in business words on the outbox (not the outbox's keys)."""

from __future__ import annotations

from crm.care.rules import Trigger
from crm.care.selectors import occasion_label


def test_the_outbox_keys_read_as_business_words():
    assert occasion_label("2026-11-23", "birthday", {}) == "2026年11月23日"
    assert occasion_label("2026", "new_year", {}) == "2026年"
    assert occasion_label("2026-11-23-093015", "broadcast", {}) == "2026年11月23日 群发（09:30 编写）"
    assert occasion_label("deal:605", Trigger.SUBSCRIPTION, {}) == "成交（已删除） · 认购"
    assert occasion_label("ev12-invite", "event", {}) == "客户活动（第 12 号）· 邀请"
    assert occasion_label("ev12-notice", "event", {}) == "客户活动（第 12 号）· 活动前提醒"
    assert occasion_label("ev12-other", "event", {}) == "ev12-other"  # unknown keys are shown as they are
