"""The service centre's free text: blanked after its retention (with a RetentionRun), and
an erased customer's name is left in none of the handover, duty-log, spot-check or
stock-ledger texts that quote it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from crm.accounts.roles import Role
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar
from crm.privacy import erasure, jobs, services
from crm.privacy.models import RetentionRun
from crm.service import jobs as service_jobs
from crm.service import services as service_services
from crm.service.models import (
    DutyCheck,
    DutyLogEntry,
    Gift,
    Handover,
    HandoverEvent,
    HandoverItem,
    InspectionReport,
    StockMovement,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 9, 29, 8, 0, tzinfo=CHINA_TZ)  # an ordinary working day
NAME = "欧阳测试"
MOBILE = "13955556666"


@pytest.fixture
def officers(make_staff, project):
    return (
        make_staff("duty", Role.DUTY, projects=(project,), display_name="孙值班"),
        make_staff("duty2", Role.DUTY, projects=(project,), display_name="钱接班"),
    )


def _shift_and_handover(director, project, officers, *, summary: str, explanation: str = ""):
    duty, duty2 = officers
    shift = service_services.plan_shift(
        actor=director,
        project=project,
        officer=duty,
        starts_at=START,
        ends_at=START + timedelta(hours=12),
        now=START - timedelta(days=3),
        calendar=WorkCalendar(),
    )
    handover = service_services.start_handover(shift, actor=duty, incoming=duty2, now=START + timedelta(hours=11))
    service_services.update_handover(
        handover,
        actor=duty,
        log_summary=summary,
        open_matters=summary,
        major_repair_open=False,
        major_repair_note="",
        now=START + timedelta(hours=11),
    )
    if explanation:
        item = handover.items.get(name="钥匙")
        service_services.check_item(
            item, actor=duty, state="missing", explanation=explanation, now=START + timedelta(hours=11)
        )
    return shift, handover


# ---------------------------------------------------------------- erasure quotes


def test_after_erasure_the_customers_name_is_in_no_service_text(make_customer, director, admin_user, project, officers):
    customer = make_customer(NAME, mobile=MOBILE)
    other = make_customer("另一位客户")
    duty = officers[0]
    shift, _handover = _shift_and_handover(
        director,
        project,
        officers,
        summary=f"{NAME}来电催交房，已登记；另一位客户来访",
        explanation=f"钥匙被{NAME}的家人借走",
    )
    # A log entry about the customer that was not linked to the archive, and one naming
    # the customer by mobile only.
    service_services.log_duty(shift, actor=duty, kind="call", content="来电咨询车位", caller_name=NAME, at=START)
    service_services.log_duty(shift, actor=duty, kind="call", content=f"{MOBILE} 来电投诉噪音", at=START)
    unrelated = service_services.log_duty(shift, actor=duty, kind="visit", content="另一位客户来访看样板间", at=START)
    service_services.record_spot_check(shift, actor=director, result="problem", note=f"未及时回复{NAME}", now=START)
    gift = Gift.objects.create(company=project.company, name="雨伞")
    service_services.stock_in(gift, actor=director, project=project, quantity=5, now=START)
    service_services.issue_gift(
        gift, actor=director, project=project, quantity=1, occasion="on_site", visitor_name=NAME, reason="雨天"
    )

    outcome = erasure.anonymise_customer(
        customer, actor=admin_user, reason="客户申请删除", now=START + timedelta(days=1)
    )

    texts = [
        *DutyLogEntry.objects.values_list("content", "caller_name"),
        *Handover.objects.values_list("log_summary", "open_matters", "major_repair_note"),
        *HandoverItem.objects.values_list("explanation", flat=False),
        *HandoverEvent.objects.values_list("note", flat=False),
        *DutyCheck.objects.values_list("note", flat=False),
        *StockMovement.objects.values_list("note", flat=False),
    ]
    flat = " ".join(value for row in texts for value in row)
    assert NAME not in flat
    assert MOBILE not in flat
    assert erasure.REMOVED in flat
    # Texts that do not quote the customer stay as written.
    assert DutyLogEntry.objects.get(pk=unrelated.pk).content == "另一位客户来访看样板间"
    assert other.name == "另一位客户"
    assert outcome.rows["service.handover.quoted"] == 2  # log summary and open matters
    assert outcome.rows["service.stockmovement.quoted"] == 1


def test_another_companys_texts_are_not_touched(make_customer, admin_user, director, project, officers):
    customer = make_customer(NAME, mobile=MOBILE)
    _shift_and_handover(director, project, officers, summary=f"{NAME}来电")
    from crm.accounts.models import Company

    other = Company.objects.create(name="别家")
    Handover.objects.update(company=other)
    erasure.anonymise_customer(customer, actor=admin_user, reason="客户申请删除", now=START)
    assert Handover.objects.get().log_summary == f"{NAME}来电"


# ---------------------------------------------------------------- retention


@override_settings(SERVICE_NOTES_RETENTION_DAYS=365)
def test_old_service_texts_are_blanked_and_the_run_is_recorded(
    company, make_customer, director, service, admin_user, project, officers, django_capture_on_commit_callbacks
):
    shift, handover = _shift_and_handover(director, project, officers, summary="本班来电两次", explanation="钥匙在物业")
    duty = officers[0]
    entry = service_services.log_duty(
        shift, actor=duty, kind="call", content="张先生来电", caller_name="张先生", at=START
    )
    held_customer = make_customer("诉讼客户")
    held_entry = service_services.log_duty(
        shift, actor=duty, kind="call", content="诉讼客户来电", customer=held_customer, at=START
    )
    services.set_legal_hold(held_customer, actor=admin_user, reason="诉讼保全", now=START)
    insp = service_services.start_inspection(project, actor=service, now=START + timedelta(hours=1))
    finding = service_services.report_finding(
        insp,
        actor=service,
        area="更衣室",
        description="3栋201业主反映柜门损坏",
        department="property",
        photo=SimpleUploadedFile("a.jpg", b"\xff\xd8\xff\xe0x"),
        now=START + timedelta(hours=1),
    )
    service_jobs.write_inspection_reports(now=START + timedelta(hours=11))
    photo_name = finding.photo.name
    storage = finding.photo.storage
    assert storage.exists(photo_name)

    # A day before the year is up: nothing is due yet.
    assert jobs.blank_service_notes(now=START + timedelta(days=364)) == 0
    assert DutyLogEntry.objects.get(pk=entry.pk).content == "张先生来电"

    later = START + timedelta(days=366)
    with django_capture_on_commit_callbacks(execute=True):
        blanked = jobs.blank_service_notes(now=later)

    entry.refresh_from_db()
    assert (entry.content, entry.caller_name) == (erasure.REMOVED, "")
    assert entry.kind == "call"  # the row and its facts stay for the counts
    assert DutyLogEntry.objects.get(pk=held_entry.pk).content == "诉讼客户来电"
    handover.refresh_from_db()
    assert (handover.log_summary, handover.open_matters) == (erasure.REMOVED, "")
    assert HandoverItem.objects.get(handover=handover, name="钥匙").explanation == ""
    assert not HandoverEvent.objects.filter(note__contains="钥匙在物业").exists()
    finding.refresh_from_db()
    assert (finding.description, finding.photo.name) == (erasure.REMOVED, "")
    assert not storage.exists(photo_name)
    report = InspectionReport.objects.get(project=project)
    assert report.summary["findings"][0]["description"] == erasure.REMOVED
    assert blanked >= 5

    run = RetentionRun.objects.filter(job=jobs.SERVICE_NOTES_JOB, company=company).latest("id")
    assert run.held == 1
    assert run.anonymised == blanked
    assert "值班记录" in run.note
    assert "巡查问题" in run.note
    # A second run blanks nothing more and records that too.
    assert jobs.blank_service_notes(now=later) == 0
    assert RetentionRun.objects.filter(job=jobs.SERVICE_NOTES_JOB, company=company).latest("id").note == "无到期内容"
