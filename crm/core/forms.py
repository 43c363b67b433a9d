"""Form helpers shared by the apps: list page sizes, short choice lists, business errors on forms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator

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


# Page sizes every list offers (customers, deals, the outbox …).
PAGE_SIZES = (25, 50, 100)


def apply_domain_error(form: forms.BaseForm, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Show a service's DomainError on the form field it names, or above the form."""
    field = (aliases or {}).get(exc.field or "", exc.field)
    if field and field in form.fields:
        form.add_error(field, exc.message)
    else:
        form.add_error(None, exc.message)
