"""The menu in sections: a heading above the first entry of each section a user sees, once."""

from __future__ import annotations

import pytest

from crm.workbench.navigation import MENU, menu_for

pytestmark = pytest.mark.django_db


def test_entries_of_a_section_stand_together():
    sections = [item.section for item in MENU]
    seen: list[str] = []
    for section in sections:
        if not seen or seen[-1] != section:
            assert section not in seen, f"{section} is split in two places"
            seen.append(section)
    assert seen == ["", "投诉", "客服运营", "报表", "系统设置"]


def test_each_heading_shows_once_above_what_the_user_may_see(director, consultant):
    items = menu_for(director, "/complaints/")
    headings = [i["heading"] for i in items if i["heading"]]
    assert headings == sorted(set(headings), key=headings.index)  # once each
    assert (items[0]["label"], items[0]["heading"]) == ("工作台", "")
    first_service = next(i for i in items if i["section"] == "投诉")
    assert (first_service["label"], first_service["heading"]) == ("投诉", "投诉")
    assert next(i for i in items if i["active"])["label"] == "投诉"
    # A heading only for the sections of the entries a user sees.
    mine = menu_for(consultant, "/")
    assert [i["heading"] for i in mine if i["heading"]] == list(
        dict.fromkeys(i["section"] for i in mine if i["section"])
    )
    assert "审计日志" not in [i["label"] for i in mine]
