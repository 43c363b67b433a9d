"""Two submissions of one survey link at the same moment on PostgreSQL: exactly one
confirms the complaint, the other is told the link was used (the conditional UPDATE)."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection

from crm.care.models import OutboundMessage
from crm.care.rules import Trigger
from crm.complaints import services
from crm.complaints.models import Complaint, ComplaintEvent, SurveyInvitation

from .conftest import REGISTERED_AT

THREADS = 8


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_uses_of_one_survey_link_confirm_once(make_complaint, service, director):
    now: datetime = REGISTERED_AT + timedelta(minutes=30)
    c = make_complaint()
    services.acknowledge_complaint(c, actor=service, now=now)
    services.start_investigation(c, actor=service, now=now)
    services.propose_plan(c, actor=service, plan="道歉", now=now)
    services.approve_plan(c, actor=director, now=now)
    services.start_work(c, actor=service, now=now)
    services.resolve_complaint(c, actor=service, note="已处理", now=now)
    text = OutboundMessage.objects.get(trigger=Trigger.COMPLAINT_SURVEY).text
    token = re.search(r"/complaints/survey/([\w-]+)/", text).group(1)

    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def submit(rating: int) -> None:
        try:
            barrier.wait(timeout=30)
            services.submit_survey(token, rating=rating, now=now + timedelta(minutes=5))
            result = f"ok:{rating}"
        except services.SurveyRefused as exc:
            result = f"refused:{exc.message}"
        except BaseException as exc:
            result = f"error:{exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=submit, args=(3 + i % 3,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [o for o in outcomes if o.startswith("ok:")]
    assert len(ok) == 1, outcomes
    assert all(o.startswith("refused:") for o in outcomes if o not in ok), outcomes
    c.refresh_from_db()
    assert c.status == Complaint.Status.CONFIRMED
    assert c.satisfaction == int(ok[0][3:])
    assert SurveyInvitation.objects.get(complaint=c).rating == c.satisfaction
    assert ComplaintEvent.objects.filter(complaint=c, to_status=Complaint.Status.CONFIRMED).count() == 1
