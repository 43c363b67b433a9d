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


MENU_TEMPLATE = (
    '{% for item in menu %}{% if item.heading %}<div class="nav-section">{{ item.heading }}</div>{% endif %}'
    '<a href="{{ item.url }}" class="{% if item.active %}active{% endif %}">{{ item.label }}</a>{% endfor %}'
)


def test_the_menu_tag_writes_what_the_template_loop_wrote(director, client):
    """{% nav_links %} replaced the base template's loop: the same markup, escaped."""
    from django.template import Context, Template

    from crm.workbench.templatetags.nav_tags import nav_links

    items = menu_for(director, "/complaints/")
    assert str(nav_links(items)) == Template(MENU_TEMPLATE).render(Context({"menu": items}))
    odd = [{"heading": "<b>报表</b>", "url": '/x/?a=1&b="2"', "active": True, "label": "A&B"}]
    assert str(nav_links(odd)) == Template(MENU_TEMPLATE).render(Context({"menu": odd}))
    client.force_login(director)
    page = client.get("/complaints/").content.decode()
    assert '<div class="nav-section">投诉</div><a href="/complaints/" class="active">投诉</a>' in page
