"""Demo data and its command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.customers.models import Customer, Deal
from crm.demo import seed as demo
from crm.lib.mobile import normalize_mobile


@pytest.fixture
def demo_world(db, settings):
    settings.DEMO_PASSWORD = "demo-pass-1"
    return demo.seed(customers=200)


def test_demo_has_a_user_of_every_role_who_can_log_in(demo_world, client):
    for role in Role:
        assert User.objects.filter(groups__name=str(role.label)).exists(), role
    for username in ("admin", "consultant1", "consultant2", "service1", "director1", "approver1"):
        response = client.post("/login/", {"username": username, "password": "demo-pass-1"})
        assert response.status_code == 302, username


def test_demo_consultants_one_and_two_are_in_different_teams(demo_world):
    one, two = User.objects.get(username="consultant1"), User.objects.get(username="consultant2")
    assert one.team_id != two.team_id


def test_demo_customers_have_valid_unique_mobiles_and_deals_at_every_milestone(demo_world):
    mobiles = list(Customer.objects.values_list("mobile", flat=True))
    assert len(mobiles) == 200
    assert len(set(mobiles)) == 200
    # The demo's one erased customer (crm.demo.privacy) keeps a placeholder with no digit.
    erased = [m for m in mobiles if not m[0].isdigit()]
    assert len(erased) == 1
    assert all(normalize_mobile(m) == m for m in mobiles if m not in erased)
    deals = Deal.objects.all()
    assert deals.filter(contracted_on__isnull=True).exists()
    assert deals.filter(contracted_on__isnull=False, delivered_on__isnull=True).exists()
    assert deals.filter(moved_in_on__isnull=False).exists()
    assert all(d.customer.stage == "owner" for d in deals.select_related("customer"))


def test_seed_demo_command_does_not_run_twice(demo_world):
    out = StringIO()
    call_command("seed_demo", customers=10, stdout=out)
    assert "跳过" in out.getvalue()
    assert Customer.objects.count() == 200


def test_demo_customers_were_registered_over_two_years(demo_world):
    from django.db.models import Max, Min

    span = Customer.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert (span["last"] - span["first"]).days > 300


def test_demo_deals_come_after_the_customers_registration(demo_world):
    for deal in Deal.objects.select_related("customer"):
        assert deal.subscribed_on >= timezone.localtime(deal.customer.created_at).date()


def test_demo_complaints_cover_the_lifecycle_and_keep_their_numbers(demo_world):
    from crm.complaints.models import Complaint

    # The complaints step makes 30; the media-watch and mail steps add their own.
    complaints = Complaint.objects.all()
    assert complaints.count() >= 30
    statuses = set(complaints.values_list("status", flat=True))
    assert {"dispatched", "plan_proposed", "in_progress", "waiting_for_customer", "archived", "cancelled"} <= statuses
    assert complaints.filter(customer__isnull=False).exists()
    assert complaints.filter(customer__isnull=True).exists()
    assert len(set(complaints.values_list("number", flat=True))) == complaints.count()


def test_demo_has_visit_plans_tasks_and_recorded_visits(demo_world):
    from crm.visits.models import VisitIssue, VisitPlan, VisitTask

    assert VisitPlan.objects.filter(name="签约回访").count() >= 1
    tasks = VisitTask.objects.all()
    assert tasks.filter(assignee__username="consultant1").exists()
    assert tasks.filter(status=VisitTask.Status.DONE, satisfaction__isnull=False).exists()
    assert tasks.filter(status__in=list(VisitTask.OPEN)).exists()
    assert VisitIssue.objects.exists()


def test_demo_has_public_complaints_with_photos_and_the_website_client(demo_world):
    from PIL import Image

    from crm.complaints.models import Complaint, ComplaintAttachment, IntegrationClient

    public = Complaint.objects.filter(registered_by__isnull=True, channel="website")
    assert public.count() == 4
    assert set(public.values_list("channel", flat=True)) == {"website"}
    unsorted = public.filter(status="registered", category__name="待分类")
    assert unsorted.count() == 2
    assert public.exclude(category__name="待分类").filter(assignee__isnull=False).count() == 2
    rows = ComplaintAttachment.objects.filter(complaint__in=public)
    assert rows.count() == 7
    row = rows.first()
    with row.file.open("rb") as handle:
        image = Image.open(handle)
        assert (image.format, image.size) == ("JPEG", (row.width, row.height))
    client = IntegrationClient.objects.get(name="官网表单")
    assert client.channel == "website"
    assert client.is_enabled
    assert len(client.key_hash) == 64
    assert client.last_used_at is not None
    assert public.filter(events__note__contains="由接入方“官网表单”提交").count() == 1


def test_demo_has_consultations_issues_and_media_watch(demo_world):
    from crm.complaints.models import Consultation, CustomerIssue, IssueEscalation, MediaCheck, MediaFinding

    assert Consultation.objects.count() == 40
    assert CustomerIssue.objects.filter(status=CustomerIssue.Status.CALLBACK_DUE).exists()
    assert CustomerIssue.objects.filter(status=CustomerIssue.Status.CLOSED).exists()
    assert IssueEscalation.objects.count() == 1
    assert MediaCheck.objects.exists()
    assert MediaFinding.objects.filter(complaint__isnull=False).count() == 1


def test_demo_has_a_mailed_complaint_a_repeat_a_held_mail_and_a_purge_record(demo_world):
    from crm.complaints.models import Complaint, InboundMail, PurgeRecord

    assert Complaint.objects.filter(channel="email", complainant_email="qiu.demo@example.com").exists()
    assert Complaint.objects.filter(complainant_mobile="13755550101", is_repeat=True).count() == 1
    assert InboundMail.objects.filter(status=InboundMail.Status.HELD).count() == 1
    assert PurgeRecord.objects.count() == 1


def test_demo_directors_have_notifications_read_and_unread(demo_world):
    from crm.complaints import alerts
    from crm.core.models import Notification

    director = User.objects.get(username="director1")
    mine = Notification.objects.filter(recipient=director)
    assert mine.filter(kind=alerts.KIND_ESCALATED).exists()
    assert mine.filter(kind=alerts.KIND_PLAN_PROPOSED).exists()
    assert mine.filter(read_at__isnull=True).exists()
    assert mine.filter(read_at__isnull=False).exists()
    assert Notification.objects.filter(recipient__username="service1", kind=alerts.KIND_ASSIGNED).exists()


def test_demo_issues_reach_the_departments_queues_at_several_stages(demo_world):
    from crm.accounts.models import User
    from crm.visits import selectors
    from crm.visits.models import VisitIssue

    engineer = User.objects.get(username="engineer1")
    assert engineer.department is not None
    assert engineer.department.name == "工程部"
    assert selectors.department_issues(engineer).exists()
    assert VisitIssue.objects.order_by().values("status").distinct().count() >= 2


def test_demo_duty_roster_has_accepted_handovers_and_one_refused_still_open(demo_world):
    from crm.service.models import DutyCheck, Handover, Shift

    assert Shift.objects.count() >= 10
    assert Handover.objects.filter(status=Handover.Status.ACCEPTED).count() >= 8
    still_open = Handover.objects.exclude(status=Handover.Status.ACCEPTED)
    assert still_open.count() == 1
    assert "公物缺失" in still_open.get().refusal_reasons
    assert DutyCheck.objects.exists()


def test_demo_gifts_have_stock_tasks_and_issues(demo_world):
    from crm.service.models import GiftIssue, GiftStock, GiftTask

    assert GiftStock.objects.filter(quantity__gt=0).count() >= 8
    assert GiftTask.objects.filter(status="done").exists()
    assert GiftTask.objects.filter(status="open").exists()
    assert GiftIssue.objects.filter(occasion="on_site", customer__isnull=True).exists()


def test_demo_events_have_a_past_party_with_gifts_and_a_tour_with_invitations(demo_world):
    from crm.care.models import OutboundMessage
    from crm.events.models import Event, EventGift, Invitee

    assert set(Event.objects.values_list("status", flat=True)) == {"done", "published", "draft"}
    assert Invitee.objects.filter(event__status="done", attended_at__isnull=False).exists()
    assert EventGift.objects.filter(event__status="done", issue__occasion="event").exists()
    assert OutboundMessage.objects.filter(occasion__endswith="-invite", trigger="event").exists()


def test_demo_inspections_have_reports_and_one_late(demo_world):
    from crm.service.models import Inspection, InspectionReport

    assert Inspection.objects.count() == 10
    assert InspectionReport.objects.count() == 10
    assert InspectionReport.objects.filter(summary__late=True).count() == 1


def test_demo_has_privacy_requests_an_erasure_and_a_retention_run(demo_world):
    from crm.privacy.models import DataSubjectRequest, ErasureRecord, RetentionRun

    assert set(DataSubjectRequest.objects.values_list("kind", flat=True)) == {"copy", "correct", "erase"}
    assert DataSubjectRequest.objects.filter(status="completed", kind="erase").count() == 1
    record = ErasureRecord.objects.get()
    assert Customer.objects.get(pk=record.customer_pk).name == "已注销客户"
    assert RetentionRun.objects.count() == 1


def test_demo_has_an_export_waiting_for_approval_and_an_access_alert(demo_world, client):
    from crm.customers.models import AccessAlert, ExportRequest

    assert ExportRequest.objects.filter(status="requested").count() == 1
    assert AccessAlert.objects.filter(resolved_at__isnull=True).count() == 1
    client.force_login(User.objects.get(username="supervisor1"))
    body = client.get("/").content.decode()
    assert "导出待审批" in body
    assert "异常访问告警" in body


def test_demo_has_supervision_flags_a_converted_issue_and_an_improvement_plan(demo_world):
    from crm.visits.models import ForbiddenPhrase, ImprovementPlan, ReviewFlag, VisitIssue

    flags = ReviewFlag.objects.filter(company=demo_world)
    assert set(flags.values_list("status", flat=True)) == {"open", "answered"}
    assert flags.filter(source="phrase", phrase__contains="我不知道").exists()
    assert ForbiddenPhrase.objects.filter(company=demo_world).exists()
    converted = VisitIssue.objects.get(company=demo_world, complaint__isnull=False)
    assert converted.complaint.channel == "transferred"
    assert ImprovementPlan.objects.filter(company=demo_world, consultant__username="consultant1").exists()


def test_demo_has_a_submitted_weekly_pack_and_a_monthly_draft(demo_world):
    from crm.reports.models import Kind, ReportPack

    weekly = ReportPack.objects.get(kind=Kind.WEEKLY)
    assert weekly.is_submitted
    assert weekly.summary
    assert weekly.period_end - weekly.period_start == timedelta(days=6)
    monthly = ReportPack.objects.get(kind=Kind.MONTHLY)
    assert (monthly.status, monthly.project) == ("draft", None)
    assert [s["title"] for s in monthly.data["sections"]][-1] == "下月客户维护工作重点"


def test_serve_points_sms_links_at_its_own_port_unless_site_url_is_set(monkeypatch, settings):
    from crm.demo.management.commands.serve import ensure_site_url

    monkeypatch.delenv("SITE_URL", raising=False)
    assert ensure_site_url("127.0.0.1", "8080") == "http://127.0.0.1:8080"
    assert settings.SITE_URL == "http://127.0.0.1:8080"
    monkeypatch.setenv("SITE_URL", "https://crm.example.cn")
    settings.SITE_URL = "https://crm.example.cn"
    assert ensure_site_url("127.0.0.1", "9000") == "https://crm.example.cn"


def test_demo_referrals_have_every_reward_state_and_follow_customer_referrer(demo_world):
    from crm.referrals.models import Referral, Reward

    assert Referral.objects.count() >= 5
    assert set(Reward.objects.values_list("state", flat=True)) >= {"pending", "approved", "paid"}
    for referral in Referral.objects.select_related("referred"):
        assert referral.referred.referrer_id == referral.referrer_id
