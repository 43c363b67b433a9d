"""The personal-information registry covers every model field of every crm app."""

from __future__ import annotations

from django.apps import apps

from crm.accounts.roles import Role
from crm.customers.pi_registry import NON_PI, REGISTRY, Category


def _crm_fields() -> dict[str, set[str]]:
    fields: dict[str, set[str]] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("crm."):
            continue
        names = {f.name for f in model._meta.get_fields() if f.concrete and not f.auto_created}
        names |= {f.name for f in model._meta.many_to_many}
        fields[model._meta.label] = names
    return fields


def test_every_model_field_is_registered_as_personal_information_or_listed_as_not():
    registered = {(entry.model, entry.field) for entry in REGISTRY}
    unclassified = [
        f"{label}.{name}"
        for label, names in _crm_fields().items()
        for name in sorted(names)
        if (label, name) not in registered and name not in NON_PI.get(label, frozenset())
    ]
    assert unclassified == [], "add these to crm/customers/pi_registry.py (REGISTRY or NON_PI)"


def test_the_registry_names_only_fields_that_exist_and_never_both_ways():
    fields = _crm_fields()
    stale = [f"{e.model}.{e.field}" for e in REGISTRY if e.field not in fields.get(e.model, set())]
    stale += [f"{label}.{n}" for label, names in NON_PI.items() for n in names if n not in fields.get(label, set())]
    assert stale == []
    both = [f"{e.model}.{e.field}" for e in REGISTRY if e.field in NON_PI.get(e.model, frozenset())]
    assert both == []


def test_each_entry_says_why_how_long_and_who_reads_it_in_full():
    for entry in REGISTRY:
        assert entry.purpose
        assert entry.retention
        assert entry.full_read, f"{entry.model}.{entry.field}"


def test_id_numbers_and_health_are_sensitive_and_children_are_minors_data():
    by_field = {(e.model, e.field): e for e in REGISTRY}
    assert by_field[("customers.Customer", "id_number_encrypted")].category == Category.SENSITIVE
    assert by_field[("customers.CustomerProfile", "health")].category == Category.SENSITIVE
    assert by_field[("customers.CustomerProfile", "children_status")].category == Category.MINOR
    # Full mobiles: only roles that may reveal (an approver of care drafts may not).
    assert Role.APPROVER not in by_field[("customers.Customer", "mobile")].full_read
    assert Role.CONSULTANT in by_field[("customers.Customer", "mobile")].full_read
