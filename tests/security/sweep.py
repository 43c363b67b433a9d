"""Every URL pattern and API operation, enumerated from the resolver and the OpenAPI schema,
turned into concrete requests against a victim's rows."""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver

# Pages anyone may open without a login, and endpoints authenticated by something other than
# a staff login (gateway callback tokens, integration API keys): not part of the persona sweep.
PUBLIC = {
    "login",
    "logout",
    "healthz",
    "api-token",
    "api-schema",
    "api-docs",
    "api-root",
    "public_complaints:form",
    "public_complaints:status",
    "complaints:survey",
    "care:callback",
    "api-integration-complaints",
    "api-integration-choices",
}
# Django's admin is for staff (is_staff) only; no persona of the sweep is staff.
STAFF_ONLY_PREFIX = "admin/"

STRING_VALUES: dict[str, tuple[str, ...]] = {
    "verb": ("dispatch", "acknowledge", "resolve", "archive", "cancel", "reopen", "reassign", "close", "callback"),
    "action": ("start", "complete", "refuse", "erase"),
    "fmt": ("json", "csv"),
    "field": ("owner", "project"),
    "kind": ("customers", "deals"),
}
YEAR = ("2026",)

_PATH_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    name: str
    template: str  # "customers/{pk}/edit/"
    params: tuple[str, ...]
    is_api: bool


def _piece(pattern: Any) -> tuple[str, list[str]]:
    text = str(pattern)
    params: list[str] = []
    if text.startswith("^") or text.endswith("$") or "(?P<" in text:
        text = text.lstrip("^").rstrip("$")

        def group(m: re.Match[str]) -> str:
            params.append(m.group("name"))
            return "{" + m.group("name") + "}"

        text = _REGEX_PARAM.sub(group, text).replace("\\.", ".").replace("/?", "/")
    else:

        def conv(m: re.Match[str]) -> str:
            params.append(m.group("name"))
            return "{" + m.group("name") + "}"

        text = _PATH_PARAM.sub(conv, text)
    return text, params


def routes() -> Iterator[Route]:
    def walk(patterns: list[Any], prefix: str, params: list[str], namespace: str) -> Iterator[Route]:
        for p in patterns:
            text, own = _piece(p.pattern)
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                yield from walk(p.url_patterns, prefix + text, params + own, ns)
            elif isinstance(p, URLPattern):
                template = prefix + text
                yield Route(f"{namespace}{p.name or ''}", template, tuple(params + own), template.startswith("api/"))

    yield from walk(get_resolver().url_patterns, "", [], "")


def swept_routes() -> list[Route]:
    """The routes the personas try: everything but the public pages, the staff-only admin
    and the format-suffix twins of API routes (same view, ``.json`` appended)."""
    return [
        r
        for r in routes()
        if r.name not in PUBLIC
        and not r.template.startswith(STAFF_ONLY_PREFIX)
        and "format" not in r.params
        and r.template not in ("api/", "api/{format}")
    ]


def concrete(route: Route, ids: tuple[int, ...]) -> list[str]:
    choices = []
    for name in route.params:
        if name in STRING_VALUES:
            choices.append(STRING_VALUES[name])
        elif name == "year":
            choices.append(YEAR)
        else:  # pk, customer_pk, complaint_pk, hand_off_pk, attachment_id, medium_pk, token …
            choices.append(tuple(str(i) for i in ids))
    urls = []
    for combo in itertools.product(*choices):
        url = route.template
        for name, value in zip(route.params, combo, strict=True):
            url = url.replace("{" + name + "}", value)
        urls.append("/" + url)
    return urls


def body_text(response: HttpResponse) -> str:
    """What a person would read in the response: the body, and the text of an .xlsx inside it."""
    streaming = getattr(response, "streaming", False)
    raw = b"".join(response.streaming_content) if streaming else response.content  # type: ignore[attr-defined]
    text = raw.decode("utf-8", "replace")
    if raw[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(raw)) as book:
            text += "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist() if n.endswith(".xml"))
    return text


EXCLUDED_FROM_SNAPSHOT = {
    "sessions.session",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
    "core.auditlog",  # a refused attempt may be recorded; the check is on the data itself
}


def snapshot() -> dict[str, tuple[int, int]]:
    """Every table's row count and a hash of all its values (updated_at included)."""
    out = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        # A proxy reads its concrete model's table (crm.accounts' LoginLock… read axes' own).
        if label in EXCLUDED_FROM_SNAPSHOT or not model._meta.managed or model._meta.proxy:
            continue
        # last_login: the sweep's own logins.
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "last_login"]
        rows = list(model._default_manager.order_by("pk").values_list(*fields))
        out[label] = (len(rows), hash(repr(rows)))
    return out


def ids_of(objects: list[models.Model]) -> tuple[int, ...]:
    return tuple(sorted({int(o.pk) for o in objects}))
