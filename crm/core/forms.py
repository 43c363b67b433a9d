"""Form helpers shared by the apps: list page sizes, short choice lists, business errors on forms."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.choices import BaseChoiceIterator

from crm.core.errors import DomainError


class ListedChoiceIterator(ModelChoiceIterator[Any]):
    """Options from one ordinary query, kept for the form's life.

    Django's iterator reads the queryset with ``.iterator()``, which on PostgreSQL is a
    server-side cursor: DECLARE, FETCH and CLOSE, three round trips for a dozen projects,
    and again each time the options are listed.
    """

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:  # evaluated once, then the queryset's own cache
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField[Any]):
    """A ModelChoiceField for short lists (projects, sizes of a few dozen) shown on busy pages."""

    iterator = ListedChoiceIterator


class LazyChoiceField(forms.ChoiceField):
    """A ChoiceField whose values are their labels (a visit plan's name), read by
    ``set_values``' function only when the options are listed or a chosen value is checked;
    shown with ``{% lazy_select %}``, which starts with ``empty_label`` and the chosen value."""

    def __init__(self, *, empty_label: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.empty_label = empty_label

    def set_values(self, values: Callable[[], Iterable[str]]) -> None:
        self.choices = _EmptyThenValues(self.empty_label, values)


class _EmptyThenValues(BaseChoiceIterator):
    """The empty option, then the values: the widget's first look (whether a ``required``
    attribute applies) stops at the empty option without reading the values."""

    def __init__(self, empty_label: str, values: Callable[[], Iterable[str]]) -> None:
        self.empty_label = empty_label
        self.values = values

    def __iter__(self) -> Iterator[tuple[str, str]]:
        yield ("", self.empty_label)
        for value in self.values():
            yield (value, value)


# Page sizes every list offers (customers, deals, the outbox …).
PAGE_SIZES = (25, 50, 100)


def apply_domain_error(form: forms.BaseForm, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Show a service's DomainError on the form field it names, or above the form."""
    field = (aliases or {}).get(exc.field or "", exc.field)
    if field and field in form.fields:
        form.add_error(field, exc.message)
    else:
        form.add_error(None, exc.message)


class NoticeForm(forms.Form):
    """The State Council's holiday notice, pasted as text (工作日历)."""

    text = forms.CharField(
        label="通知全文",
        max_length=20_000,
        widget=forms.Textarea(
            attrs={"rows": 10, "placeholder": "一、元旦：1月1日（周五）至3日（周日）放假，共3天。\n二、春节：……"}
        ),
        error_messages={"required": "请粘贴通知全文"},
        help_text="从中国政府网复制“国务院办公厅关于某年部分节假日安排的通知”全文粘贴到这里。",
    )


class NoticeApplyForm(NoticeForm):
    problems_acknowledged = forms.BooleanField(
        label="我已核对上面标红的内容：它们不会被录入，需要时保存后在日历上逐日点选", required=False
    )


class CalendarDayForm(forms.Form):
    day = forms.DateField()


class ListFilterForm(forms.Form):
    """A list page's filters, read from the query string: an invalid value is ignored
    rather than an error, so a hand-edited URL never breaks the page."""

    per_page = forms.TypedChoiceField(required=False, coerce=int, choices=[(n, f"每页 {n} 条") for n in PAGE_SIZES])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The page size comes last, after the filters a subclass declares.
        self.fields["per_page"] = self.fields.pop("per_page")

    def value(self, name: str) -> Any:
        """The cleaned value, or None when absent or invalid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or None

    @property
    def page_size(self) -> int:
        size: int = self.value("per_page") or PAGE_SIZES[0]
        return size

    @property
    def is_filtered(self) -> bool:
        return any(self.value(name) for name in self.fields if name != "per_page")
