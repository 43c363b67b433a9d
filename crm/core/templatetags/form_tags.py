"""``{% select field %}``: a bound choice field as ``<select>``, built in Python;
``{% lazy_select field url trigger %}``: one whose options are fetched when first reached for.

Django renders each ``<option>`` of a Select widget through two templates (~0.1 ms each);
the list pages' filter bars (state, status, category, channel, project …) cost more than
their SQL that way (docs/performance.md, customer list fix B; complaint list and visit
queue, 2026-12-06). Same markup: name, id, attributes and the chosen option selected.
"""

from __future__ import annotations

from html import escape
from typing import Any

from django import template
from django.db.models import Model
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def select_html(field: Any, options: str, **extra: str) -> SafeString:
    """``<select>`` around ready ``options`` with the bound field's name, id and attributes."""
    attrs = field.build_widget_attrs({**field.field.widget.attrs, **extra, "id": field.auto_id})
    return format_html('<select name="{}"{}>{}</select>', field.html_name, flatatt(attrs), options)


def option_tags(choices: Any, chosen: set[str]) -> SafeString:
    """``<option>`` elements for (value, label) pairs, those in ``chosen`` selected.

    Plain ``html.escape`` (what django.utils.html.escape calls) rather than format_html_join:
    the latter checks every argument for lazy strings, a third of the list page's rendering.
    """
    html = []
    for value, label in choices:
        text = str(value)
        selected = " selected" if text in chosen else ""
        html.append(f'<option value="{escape(text)}"{selected}>{escape(str(label))}</option>')
    return mark_safe("".join(html))


@register.simple_tag
def select(field: Any) -> SafeString:
    """A bound ChoiceField/ModelChoiceField as ``<select>``."""
    value = field.value()
    chosen = {str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v not in (None, "")}
    return select_html(field, option_tags(field.field.choices, chosen))


@register.simple_tag
def lazy_select(field: Any, url: str, trigger: str) -> SafeString:
    """A ModelChoiceField as <select> holding only its empty option and the chosen one; the
    others are fetched from ``url`` (hx-get, which sends the select's own value) on the first
    ``trigger`` or focus. Staff, tag, project and category lists then cost no query on the
    pages, searches and keystrokes that never open them (docs/performance.md, customer list fix C).

    Also a crm.core.forms.LazyChoiceField, whose values are their labels (a plan's name).
    """
    form_field = field.field
    choices: list[tuple[Any, str]] = []
    if form_field.empty_label is not None:
        choices.append(("", form_field.empty_label))
    # Cleaned by the bound form already (one query, only when this filter is in use).
    chosen = getattr(field.form, "cleaned_data", {}).get(field.name)
    value = None
    if isinstance(chosen, Model):
        value = chosen.pk
        choices.append((value, form_field.label_from_instance(chosen)))
    elif chosen:
        value = chosen
        choices.append((value, str(chosen)))
    options = option_tags(choices, {str(value)} if value is not None else set())
    return select_html(
        field, options, **{"hx-get": url, "hx-trigger": f"{trigger}, focus once", "hx-swap": "innerHTML"}
    )
