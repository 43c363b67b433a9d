"""``{% complaint_rows rows %}``: the complaint list's rows, built in Python.

Through the template engine each row cost about as much as the page's SQL (two dozen
variable lookups, filters and tags per row; docs/performance.md, the complaint list
2026-12-06). The values come ready from the view (crm.complaints.views.ListRow); every
value from the database goes through ``html.escape`` (as django.utils.html.escape does).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

from django import template
from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from crm.complaints.views import ListRow

register = template.Library()


@register.simple_tag
def complaint_rows(rows: Iterable[ListRow]) -> SafeString:
    html = []
    for row in rows:
        c = row.complaint
        status = escape(c.status)
        name = escape(c.complainant_name)
        badges = (' <span class="badge a">重复</span>' if c.is_repeat else "") + (
            ' <span class="badge b">特殊</span>' if c.is_special else ""
        )
        escalated = (
            f' <span class="badge a" title="超时升级">升级{int(c.escalation_level)}级</span>'
            if c.escalation_level
            else ""
        )
        overdue = ' class="overdue"' if row.overdue else ""
        late = " late" if row.overdue else ""
        due = f'<small class="muted">{escape(row.due_day)} 当日内</small>' if row.due_day else ""
        html.append(
            f'<tr data-status="{status}"{overdue}>'
            f'<td class="mono"><a href="{escape(row.url)}">{escape(c.number)}</a>{badges}'
            f'<small class="muted">{escape(row.registered)} · {escape(row.channel)} · {name}</small></td>'
            f'<td class="hide-mobile">{name}<small class="muted mono">{escape(c.masked_mobile)}</small></td>'
            f'<td class="hide-mobile">{escape(c.project_name)}</td>'
            f'<td class="hide-mobile">{escape(c.category_name)}</td>'
            f'<td><span class="badge complaint-{status}">{escape(row.status)}</span>{escalated}</td>'
            f'<td class="countdown{late}">{escape(row.countdown or "—")}{due}</td>'
            f'<td class="hide-mobile">{escape(c.assignee or "待分派")}</td></tr>'
        )
    return mark_safe("\n".join(html))
