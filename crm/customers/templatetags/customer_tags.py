"""Template helpers of the customer pages: masking and deal milestone progress."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from html import escape
from typing import Any

from django import template
from django.utils.safestring import mark_safe

from crm.core.templatetags.form_tags import lazy_select, select
from crm.customers.models import Channel, Deal, Stage
from crm.customers.selectors import ListRow, TimelineRow
from crm.lib.mobile import mask_mobile

register = template.Library()


@register.filter
def masked(mobile: str) -> str:
    """138****5678: lists and pages never show a full number (PIPL)."""
    return mask_mobile(mobile or "")


@register.filter
def milestone_steps(deal: Deal) -> list[dict[str, Any]]:
    """认购→签约→全款到账→合同备案→交房→入住, each with its date (or None) and whether it is done."""
    return [
        {"field": field, "label": label, "on": getattr(deal, field), "done": bool(getattr(deal, field))}
        for field, label in Deal.MILESTONES
    ]


@register.filter
def milestone_count(deal: Deal) -> int:
    return sum(1 for field, _ in Deal.MILESTONES if getattr(deal, field))


@register.filter
def yuan(value: Any) -> str:
    """1,886,742 — the zh-hans locale has no thousands separator, but prices need one."""
    if value in (None, ""):
        return ""
    return f"{Decimal(value):,.0f}"


@register.filter
def wan(value: Any) -> str:
    """188.67万 — how Chinese sales staff quote a flat's price."""
    if value in (None, ""):
        return ""
    text = f"{Decimal(value) / 10000:,.2f}".rstrip("0").rstrip(".")
    return f"{text}万"


# The filters' <select>s are built in Python (crm.core.templatetags.form_tags).
register.simple_tag(select, name="select")
register.simple_tag(lazy_select, name="lazy_select")


_STAGES = {value: str(label) for value, label in Stage.choices}
_CHANNELS = {value: str(label) for value, label in Channel.choices}


@register.simple_tag
def customer_rows(rows: Iterable[ListRow], bulk: bool) -> str:
    """The customer list's rows, built in Python from plain values (selectors.list_rows).

    Rendering 25–100 rows through the template engine (a URL, labels, badges, tags and a
    date per row) was four fifths of the list page's time at 1,000,000 customers
    (docs/performance.md); here every value from the database goes through ``html.escape``
    (as django.utils.html.escape does) and the row is one f-string.
    """
    from django.urls import reverse
    from django.utils import timezone

    # One reverse() for the page: the detail URL with a placeholder id, filled per row.
    head, tail = reverse("customers:detail", args=[0]).split("/0/")
    html = []
    for c in rows:
        name = escape(c.name)
        check = (
            f'<td class="check"><input type="checkbox" name="ids" value="{int(c.pk)}" aria-label="选择 {name}"></td>'
            if bulk
            else ""
        )
        badges = (' <span class="badge vip">VIP</span>' if c.is_vip else "") + (
            ' <span class="badge c">已归档</span>' if c.is_archived else ""
        )
        tags = "".join(f'<span class="tag">{escape(t)}</span>' for t in c.tags)
        stage = escape(c.stage)
        grade = escape(c.grade)
        archived = ' class="archived"' if c.is_archived else ""
        html.append(
            f"<tr{archived}>{check}"
            f'<td><a href="{head}/{int(c.pk)}/{tail}"><b>{name}</b></a>{badges}</td>'
            f'<td class="mono hide-mobile">{escape(c.number)}</td>'
            f'<td class="mono">{escape(mask_mobile(c.mobile))}</td>'
            f'<td><span class="badge {stage}">{escape(_STAGES.get(c.stage, c.stage))}</span></td>'
            f'<td><span class="badge {grade.lower()}">{grade}</span></td>'
            f'<td class="hide-mobile">{escape(c.project_name or "")}</td>'
            f'<td class="hide-mobile">{escape(c.owner)}</td>'
            f'<td class="hide-mobile">{escape(_CHANNELS.get(c.source_channel, c.source_channel))}</td>'
            f'<td class="hide-mobile">{tags}</td>'
            f'<td class="hide-mobile muted">{timezone.localtime(c.created_at).strftime("%Y-%m-%d %H:%M")}</td></tr>'
        )
    return mark_safe("\n".join(html))


@register.simple_tag
def timeline_items(events: Iterable[TimelineRow]) -> str:
    """The 360° page's timeline entries (up to 100, selectors.timeline_for), built in Python.

    Through the template each entry cost two ``|date`` filters (~60 µs each: a DateFormat
    and a time-zone conversion per call) and a display lookup: about a third of the page.
    Every value from the database goes through ``html.escape``.
    """
    from django.utils import timezone

    html = []
    for e in events:
        at = timezone.localtime(e.occurred_at)
        html.append(
            f'<li class="kind-{escape(e.kind)}"><div class="kind">{escape(e.kind_label)} · {escape(e.actor)}'
            f' · <time datetime="{at.isoformat(timespec="seconds")}">{at.strftime("%Y-%m-%d %H:%M")}</time></div>'
            f'<div class="summary">{escape(e.summary)}</div></li>'
        )
    return mark_safe("\n".join(html))
