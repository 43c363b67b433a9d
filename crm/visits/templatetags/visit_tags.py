"""``{% visit_rows rows %}``: the visit list's (the work queue's) rows, built in Python.

Through the template engine each row cost about as much as the page's SQL (two dozen
variable lookups, filters and tags per row; docs/performance.md, the work queue
2026-12-06). The values come ready from the view (crm.visits.views.QueueRow); every value
from the database goes through ``html.escape`` (as django.utils.html.escape does).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

from django import template
from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from crm.visits.views import QueueRow

register = template.Library()


@register.simple_tag
def visit_rows(rows: Iterable[QueueRow]) -> SafeString:
    html = []
    for row in rows:
        status = escape(row.status_code)
        overdue = ' class="overdue"' if row.overdue else ""
        late = " late" if row.overdue else ""
        attempts = ""
        if row.attempts and row.is_open:
            retry = f"，{escape(row.next_attempt)} 再拨" if row.next_attempt else ""
            attempts = f'<small class="muted">已联系 {int(row.attempts)} 次{retry}</small>'
        html.append(
            f'<tr data-status="{status}"{overdue}>'
            f'<td><a href="{escape(row.url)}">{escape(row.customer)}</a>'
            f'<small class="muted">{escape(row.purpose)} · {escape(row.channel)}</small></td>'
            f'<td class="hide-mobile">{escape(row.project)}</td>'
            f'<td class="hide-mobile">{escape(row.plan or "—")}</td>'
            f'<td><span class="badge visit-{status}">{escape(row.status)}</span>{attempts}</td>'
            f'<td class="countdown{late}">{escape(row.due_on)}{"<small>已逾期</small>" if row.overdue else ""}</td>'
            f'<td class="hide-mobile">{escape(row.assignee or "待分派")}</td></tr>'
        )
    return mark_safe("\n".join(html))
