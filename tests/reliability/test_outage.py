"""PostgreSQL outage: the web answers a Chinese 503, jobs wait and resume, nothing is sent twice.

PostgreSQL-only (deselected on SQLite, marker ``needs_postgres``): the outage is played by a
TCP proxy between the application and the server (bench/faultproxy.py), since the machine's
server is shared and cannot be stopped. ``cut()`` refuses new connections and aborts open
ones, as a stopped server does. The outage here lasts a few seconds; ``python -m bench.fault``
runs the full 30-second one with web traffic (docs/reliability.md).
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token
from werkzeug.test import Client as WsgiClient

from bench.faultproxy import FaultProxy
from crm.care.models import OutboundMessage

from .harness import DONE, assert_each_received_once, make_outbox, received, statuses, wait_until, worker_env

pytestmark = [pytest.mark.needs_postgres, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 3


@pytest.fixture
def proxy():
    db = connection.settings_dict
    fault = FaultProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)).start()
    yield fault
    fault.stop()


@pytest.fixture
def through_proxy(proxy):
    """This process's own connection goes through the proxy for the duration of the test."""
    saved = (connection.settings_dict["HOST"], connection.settings_dict["PORT"])
    connection.close()
    connection.settings_dict["HOST"], connection.settings_dict["PORT"] = "127.0.0.1", str(proxy.port)
    yield proxy
    proxy.restore()
    connection.close()
    connection.settings_dict["HOST"], connection.settings_dict["PORT"] = saved


def proxy_url(proxy: FaultProxy) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@127.0.0.1:{proxy.port}/{db['NAME']}"


def test_pages_and_api_answer_503_in_chinese_while_the_database_is_away_and_recover(through_proxy, consultant):
    # Through Django's WSGI handler, as gunicorn calls it: Django's test client would skip
    # the request_started signal that replaces a broken connection.
    proxy = through_proxy
    session = Client()
    session.force_login(consultant)
    token = Token.objects.create(user=consultant)
    app = get_wsgi_application()
    browser = WsgiClient(app)
    browser.set_cookie(settings.SESSION_COOKIE_NAME, session.cookies[settings.SESSION_COOKIE_NAME].value)
    api = WsgiClient(app)
    api_headers = {"Authorization": f"Token {token.key}"}
    assert browser.get("/").status_code == 200
    assert api.get("/api/customers/", headers=api_headers).status_code == 200

    proxy.cut()
    page = browser.get("/customers/")
    listing = api.get("/api/customers/", headers=api_headers)
    health = browser.get("/healthz")
    login = WsgiClient(app).get("/login/")

    text = page.get_data(as_text=True)
    assert page.status_code == 503
    assert "数据库暂时无法连接" in text
    assert "Traceback" not in text
    assert page.headers["Retry-After"] == "30"
    assert listing.status_code == 503
    assert listing.json["detail"].startswith("数据库暂时无法连接")
    assert health.status_code == 503
    assert login.status_code in (200, 503)  # the login form itself needs no database

    proxy.restore()
    # The first request after the outage works: the dead connection is replaced.
    assert browser.get("/customers/").status_code == 200
    assert api.get("/api/customers/", headers=api_headers).status_code == 200


def test_a_dispatcher_and_the_job_runner_wait_through_an_outage_and_send_each_message_once(
    processes, start_fake, proxy, company, project, consultant
):
    fake = start_fake()
    ids = make_outbox(company, project, consultant, 1000)
    env = worker_env(fake, database=proxy_url(proxy))
    worker = processes.manage("dispatch", "dispatch", "--until-empty", "--max-seconds", "120", env=env)
    runner = processes.manage("runjobs", "runjobs", env=env)
    wait_until(lambda: len(received(fake)) >= 150, timeout=60, interval=0.01, what="150 messages sent before the cut")

    proxy.cut()
    at_cut = len(received(fake))
    time.sleep(OUTAGE_SECONDS)
    during = len(received(fake)) - at_cut
    proxy.restore()

    assert processes.finish(worker, timeout=120) == 0, processes.log_of(worker)[-3000:]
    assert at_cut < 1000, "the outbox was empty before the cut; the test proves nothing"
    # A gateway call already under way at the cut may finish; nothing new starts without the database.
    assert during <= 50, during
    assert runner.poll() is None, f"the job runner died: {processes.log_of(runner)[-3000:]}"
    assert "数据库暂时无法连接" in processes.log_of(worker) + processes.log_of(runner)
    assert_each_received_once(fake, ids)
    assert fake.send_calls == 1000, "a message was submitted to the gateway twice"
    assert set(statuses(ids)) <= DONE, statuses(ids)
    assert not OutboundMessage.objects.filter(pk__in=ids, status=OutboundMessage.Status.SUBMITTING).exists()
