"""The mixed workload of ``make loadtest``: staff who log in once, then browse and call the API.

Each simulated user logs in once (the login form, with its CSRF token) as one of the demo
accounts of its role and keeps the session, as staff do during a working day (a session
ends after 30 idle minutes). It then browses with a think time of 1–3 s: the workbench, the
customer list (plain and with a search), a customer's 360° page, the complaint list, the
visit queue; about one request in six is an API call with the same session. Request names
group the URLs with ids, so the figures are per page type. Used by bench/load/run.py.
"""

from __future__ import annotations

import itertools
import os
import random
import re
from typing import Any

from locust import HttpUser, between, events, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "EstateDemo@2026")
# Demo accounts (crm/demo/foundation.py) whose roles see customers, complaints and visits.
ACCOUNTS = ("consultant1", "consultant2", "consultant3", "leader1", "leader2", "service1", "director1", "admin")
# Sales roles do not see complaints (crm/accounts/roles.py): their complaint turn is the workbench.
SEES_COMPLAINTS = frozenset({"service1", "director1", "admin"})
SEARCHES = ("王", "李", "138", "张伟", "1号楼")
_next_account = itertools.count()
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_CUSTOMER_LINK = re.compile(r'href="/customers/(\d+)/"')


# Every browsing request's time (all but the login), written when locust quits to
# LOAD_TIMES_FILE: the run's "browsing" p95 is computed over them (bench/load/run.py).
LOGIN = frozenset({"login", "login form"})
_browsing_ms: list[float] = []


def _record(name: str, response_time: float, **_: Any) -> None:
    if name not in LOGIN:
        _browsing_ms.append(response_time)


def _write(**_: Any) -> None:
    path = os.environ.get("LOAD_TIMES_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(f"{ms:.1f}" for ms in _browsing_ms))


events.request.add_listener(_record)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_write)  # type: ignore[no-untyped-call]


class Staff(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.username = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
        self.customer_ids: list[str] = []
        form = self.client.get("/login/", name="login form")
        match = _CSRF.search(form.text)
        token = match.group(1) if match else ""
        with self.client.post(
            "/login/",
            data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.host}/login/"},
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login of {self.username} answered {response.status_code}")
        self.csrf = self.client.cookies.get("csrftoken", "")

    def _page(self, url: str, name: str) -> Any:
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            elif "/login/" in response.url:
                response.failure("sent to the login page (session lost)")
            return response

    @task(3)
    def workbench(self) -> None:
        self._page("/", "workbench")

    @task(4)
    def customer_list(self) -> None:
        response = self._page("/customers/", "customer list")
        found = _CUSTOMER_LINK.findall(response.text or "")
        if found:
            self.customer_ids = found[:20]

    @task(3)
    def customer_search(self) -> None:
        self._page(f"/customers/?q={random.choice(SEARCHES)}", "customer list ?q=")

    @task(4)
    def customer_360(self) -> None:
        if not self.customer_ids:
            self.customer_list()
        if self.customer_ids:
            self._page(f"/customers/{random.choice(self.customer_ids)}/", "customer 360°")

    @task(2)
    def complaint_list(self) -> None:
        if self.username in SEES_COMPLAINTS:
            self._page("/complaints/", "complaint list")
        else:
            self.workbench()

    @task(2)
    def visit_queue(self) -> None:
        self._page("/visits/", "visit queue")

    @task(2)
    def api_customers(self) -> None:
        self._page("/api/customers/?page_size=20", "api customers")

    @task(1)
    def api_complaints(self) -> None:
        if self.username in SEES_COMPLAINTS:
            self._page("/api/complaints/?page_size=20", "api complaints")
        else:
            self.api_customers()

    @task(1)
    def api_notifications(self) -> None:
        self._page("/api/notifications/", "api notifications")
