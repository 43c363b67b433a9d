"""``{% nav_links menu %}``: the menu on every page, built in Python.

Through the template engine the menu's ~27 entries cost a ``{% for %}``, two ``{% if %}``
and four variable lookups each, on every page (docs/performance.md, the list pages
2026-12-06); the markup is the same. Labels, headings and URLs go through ``html.escape``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def nav_links(menu: Iterable[Mapping[str, Any]]) -> SafeString:
    html = []
    for item in menu:
        if item["heading"]:
            html.append(f'<div class="nav-section">{escape(str(item["heading"]))}</div>')
        active = "active" if item["active"] else ""
        html.append(f'<a href="{escape(str(item["url"]))}" class="{active}">{escape(str(item["label"]))}</a>')
    return mark_safe("".join(html))
