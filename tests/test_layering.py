"""The layer order is complete and the capability apps talk only through services and
selectors (what import-linter's contracts in pyproject.toml cannot say by themselves)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LAYERS = next(c for c in CONFIG["contracts"] if c["id"] == "layers")["layers"]
# The apps that carry one capability each (DESIGN 4). Care (the outbox) is the layer above
# customers; complaints (and service) share the layer above care (decision 0018: complaints
# notify through the outbox); visits sit above complaints (a visit issue becomes a
# complaint, a campaign's audience is filtered by complaint category). Every one of them is
# called by another only through services/selectors.
CAPABILITY_APPS = (
    "crm.care",
    "crm.visits",
    "crm.complaints",
    "crm.service",
    "crm.events",
    "crm.portraits",
    "crm.referrals",
    "crm.training",
    "crm.kpis",
    "crm.reports",
)
CARE = "crm.care"
PUBLIC = ("services", "selectors")


def listed_apps() -> set[str]:
    return {name.strip("() ") for layer in LAYERS for name in re.split(r"[|:]", layer)}


def test_every_app_under_crm_is_in_the_layer_order():
    apps = {f"crm.{p.name}" for p in (ROOT / "crm").iterdir() if (p / "__init__.py").exists()}
    assert apps - listed_apps() == set(), "add the new app to [tool.importlinter] layers in pyproject.toml"


def _names(layer: str) -> set[str]:
    return {name.strip("() ") for name in re.split(r"[|:]", layer)}


def _layer_of(app: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if app in _names(layer))


def test_the_capability_apps_sit_above_care_and_visits_above_complaints():
    care_at = _layer_of(CARE)
    assert _names(LAYERS[care_at]) == {CARE}, "care is a layer of its own"
    assert "crm.customers" in _names(LAYERS[care_at + 1])
    # Complaints are the layer directly above care (index 0 is the top).
    assert "crm.complaints" in _names(LAYERS[care_at - 1])
    present = [app for app in CAPABILITY_APPS if app != CARE and (ROOT / app.replace(".", "/")).exists()]
    assert all(_layer_of(app) < care_at for app in present)
    # Visits call complaints (conversion, campaign audience): strictly above, not beside.
    assert _layer_of("crm.visits") < _layer_of("crm.complaints")
    assert "crm.visits" not in _names(LAYERS[_layer_of("crm.complaints")])


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("crm", include_external_packages=False)


def test_capability_apps_call_each_other_only_through_services_and_selectors(graph):
    present = [app for app in CAPABILITY_APPS if app in graph.modules]
    wrong = []
    for importer_app in present:
        for imported_app in present:
            if importer_app == imported_app:
                continue
            for imp in graph.find_matching_direct_imports(import_expression=f"{importer_app}.** -> {imported_app}.**"):
                if ".tests" in imp["importer"]:
                    continue
                if imp["imported"].split(".")[2] not in PUBLIC:
                    wrong.append(f"{imp['importer']} -> {imp['imported']}")
    assert wrong == []


def test_no_import_cycle_between_apps(graph):
    apps = sorted({".".join(m.split(".")[:2]) for m in graph.modules if m.count(".") >= 1})
    edges = {
        (a, b)
        for a in apps
        for b in apps
        if a != b
        and any(
            ".tests" not in imp["importer"]
            for imp in graph.find_matching_direct_imports(import_expression=f"{a}.** -> {b}.**")
        )
    }
    cycles = sorted(f"{a} <-> {b}" for a, b in edges if (b, a) in edges and a < b)
    assert cycles == []
