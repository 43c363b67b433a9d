"""站内通知 (crm.core.notifications): once per event and recipient, the bell's count in every
page's header, the inbox, marking read, the workbench card, the API, retention."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from crm.core import jobs, notifications
from crm.core.models import Notification
from crm.lib.dates import CHINA_TZ

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)


def send(users, key: str, *, title: str = "投诉 TS202611230001 已超时升级", now: datetime = NOW, **kw) -> int:
    return notifications.notify(users, kind="test", title=title, key=key, link="/complaints/1/", now=now, **kw)


def test_one_notification_per_recipient_and_event_however_often_it_is_sent(consultant, teammate):
    assert send([consultant, teammate, consultant.pk], "complaint:1:event:9") == 2
    assert send([consultant, teammate], "complaint:1:event:9") == 0
    assert send([consultant], "complaint:1:event:10") == 1
    assert Notification.objects.filter(recipient=consultant).count() == 2
    assert Notification.objects.filter(recipient=teammate).count() == 1


def test_the_actor_is_not_told_of_their_own_deed(consultant, teammate):
    assert send([consultant, teammate], "k", exclude=consultant) == 1
    assert not Notification.objects.filter(recipient=consultant).exists()


def test_a_link_must_stay_inside_the_site(consultant):
    with pytest.raises(ValueError, match="inside the site"):
        notifications.notify([consultant], kind="test", title="x", key="k", link="https://evil.example/")
    with pytest.raises(ValueError, match="inside the site"):
        notifications.notify([consultant], kind="test", title="x", key="k", link="//evil.example/")


def test_long_titles_and_texts_are_clipped_not_refused(consultant):
    notifications.notify([consultant], kind="test", title="长" * 300, text="文" * 900, key="k", now=NOW)
    row = Notification.objects.get()
    assert len(row.title) == 200
    assert row.title.endswith("…")
    assert len(row.text) == 500


def test_mark_read_and_mark_all_read_touch_only_the_readers_rows(consultant, teammate):
    send([consultant, teammate], "a")
    send([consultant, teammate], "b")
    mine = notifications.for_user(consultant).first()
    assert notifications.mark_read(mine, actor=consultant, now=NOW) is True
    assert notifications.mark_read(mine, actor=consultant, now=NOW + timedelta(hours=1)) is False
    mine.refresh_from_db()
    assert mine.read_at == NOW
    theirs = notifications.for_user(teammate).first()
    with pytest.raises(Http404):
        notifications.mark_read(theirs, actor=consultant)
    assert notifications.unread_count(consultant) == 1
    assert notifications.mark_all_read(actor=consultant, now=NOW) == 1
    assert notifications.unread_count(consultant) == 0
    assert Notification.objects.filter(recipient=teammate, read_at__isnull=True).count() == 2


def test_the_header_shows_the_bell_with_the_count_for_the_right_user(login, consultant, teammate):
    send([consultant], "a")
    send([consultant], "b")
    html = login(consultant).get("/customers/").content.decode()
    assert 'class="bell has-unread"' in html
    assert '<span class="bell-count">2</span>' in html
    assert 'aria-label="通知，2 条未读"' in html
    html = login(teammate).get("/customers/").content.decode()
    assert 'class="bell"' in html
    assert "bell-count" not in html


def test_the_header_costs_one_query_however_many_notifications(login, consultant):
    client = login(consultant)
    client.get("/")  # warm the session and the access cache

    def queries_for_workbench() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            client.get("/")
        counts = [q["sql"] for q in captured.captured_queries if "core_notification" in q["sql"]]
        return len(captured.captured_queries), len(counts)

    total_none, counts_none = queries_for_workbench()
    for i in range(30):
        send([consultant], f"k{i}")
    total_many, counts_many = queries_for_workbench()
    assert counts_none == counts_many == 1  # the bell and the workbench card share it
    assert total_many == total_none


def test_the_count_is_read_once_per_request_even_when_asked_twice(consultant):
    send([consultant], "a")
    with CaptureQueriesContext(connection) as captured:
        assert notifications.unread_count(consultant) == 1
        assert notifications.unread_count(consultant) == 1
    assert len(captured.captured_queries) == 1


def test_the_inbox_lists_newest_first_unread_highlighted_and_pages(login, consultant, teammate):
    for i in range(25):
        send([consultant], f"k{i}", title=f"通知{i:02d}", now=NOW + timedelta(minutes=i))
    send([teammate], "other", title="别人的通知")
    notifications.mark_read(notifications.for_user(consultant).get(dedupe_key="k24"), actor=consultant)
    client = login(consultant)
    html = client.get("/notifications/").content.decode()
    assert html.index("通知24") < html.index("通知23") < html.index("通知05")
    assert "通知04" not in html  # 20 a page
    assert "别人的通知" not in html
    assert html.count('class="notification unread"') == 19
    assert html.count('class="notification"') == 1
    assert '未读 <b class="unread-total">24</b> 条' in html
    page2 = client.get("/notifications/?page=2").content.decode()
    assert "通知04" in page2
    assert "通知00" in page2
    only_unread = client.get("/notifications/?show=unread").content.decode()
    assert "通知24" not in only_unread
    assert "通知23" in only_unread


def test_opening_a_notification_marks_it_read_and_follows_its_link(login, consultant, teammate):
    send([consultant, teammate], "a")
    mine = notifications.for_user(consultant).get()
    client = login(consultant)
    response = client.get(f"/notifications/{mine.pk}/")
    assert response.status_code == 302
    assert response["Location"] == "/complaints/1/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    theirs = notifications.for_user(teammate).get()
    assert client.get(f"/notifications/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_notification_without_a_link_opens_the_inbox(login, consultant):
    notifications.notify([consultant], kind="test", title="x", key="k", now=NOW)
    row = Notification.objects.get()
    response = login(consultant).get(f"/notifications/{row.pk}/")
    assert response["Location"] == "/notifications/"


def test_mark_all_read_from_the_inbox(login, consultant, teammate):
    send([consultant, teammate], "a")
    send([consultant], "b")
    client = login(consultant)
    assert client.get("/notifications/read-all/").status_code == 405
    response = client.post("/notifications/read-all/", follow=True)
    assert "已将 2 条通知标为已读" in response.content.decode()
    assert notifications.unread_count(consultant) == 0
    assert Notification.objects.get(recipient=teammate).read_at is None


def test_the_workbench_card_shows_only_while_something_is_unread(login, consultant):
    client = login(consultant)
    assert 'data-card="notifications"' not in client.get("/").content.decode()
    send([consultant], "a")
    html = client.get("/").content.decode()
    assert 'data-card="notifications"' in html
    assert 'href="/notifications/?show=unread" data-stat="unread"><b>1</b><span>未读通知</span>' in html


def test_the_api_lists_and_marks_the_callers_own_notifications(login, consultant, teammate):
    send([consultant, teammate], "a", now=NOW)
    send([consultant], "b", now=NOW + timedelta(minutes=1))
    client = login(consultant)
    body = client.get("/api/notifications/").json()
    assert body["count"] == 2
    newest = body["results"][0]
    assert newest["is_read"] is False
    assert newest["link"] == "/complaints/1/"
    response = client.post(f"/api/notifications/{newest['id']}/read/")
    assert response.json() == {"marked": 1, "unread": 1}
    assert client.get("/api/notifications/?unread=1").json()["count"] == 1
    theirs = notifications.for_user(teammate).get()
    assert client.get(f"/api/notifications/{theirs.pk}/").status_code == 404
    assert client.post(f"/api/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post("/api/notifications/read-all/").json() == {"marked": 1, "unread": 0}
    assert notifications.unread_count(teammate) == 1


def test_retention_deletes_read_notifications_past_the_period_and_keeps_unread_ones(consultant, settings):
    settings.NOTIFICATION_RETENTION_DAYS = 90
    send([consultant], "old-read", now=NOW - timedelta(days=200))
    send([consultant], "old-unread", now=NOW - timedelta(days=200))
    send([consultant], "recent-read", now=NOW - timedelta(days=10))
    Notification.objects.filter(dedupe_key="old-read").update(read_at=NOW - timedelta(days=91))
    Notification.objects.filter(dedupe_key="recent-read").update(read_at=NOW - timedelta(days=89))
    assert jobs.purge_read_notifications(now=NOW) == 1
    assert set(Notification.objects.values_list("dedupe_key", flat=True)) == {"old-unread", "recent-read"}
    assert jobs.purge_read_notifications(now=NOW) == 0


def test_the_admin_lists_notifications_read_only(login, admin_user, consultant):
    send([consultant], "a")
    client = login(admin_user)
    assert "投诉 TS202611230001 已超时升级" in client.get("/admin/core/notification/").content.decode()
    assert client.get("/admin/core/notification/add/").status_code == 403


@pytest.mark.needs_postgres
def test_the_bells_count_reads_the_partial_unread_index(consultant):
    for i in range(400):
        send([consultant], f"k{i}")
    Notification.objects.filter(dedupe_key__in=[f"k{i}" for i in range(380)]).update(read_at=NOW)
    with CaptureQueriesContext(connection) as captured:
        assert notifications.unread_count(consultant) == 20
    [query] = captured.captured_queries  # the bell's one query, as run (parameters inlined)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_notification")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {query['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "notification_unread_idx" in plan, plan
