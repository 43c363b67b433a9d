"""A victim's data in every app, with markers a response must never show an outsider."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from crm.accounts.models import Company, Department, User
from crm.care import services as care_services
from crm.care.models import OutboundMessage
from crm.complaints import consultations, issues
from crm.complaints import services as complaint_services
from crm.complaints.models import Category, Channel, ConsultationTopic
from crm.core.numbering import reserve
from crm.customers import services as customer_services
from crm.customers.models import Customer
from crm.lib.mobile import mask_mobile
from crm.lib.workcalendar import WorkCalendar
from crm.privacy import services as privacy_services
from crm.projects.models import Building, Project, Unit
from crm.visits.models import VisitTask

VICTIM_NAME = "受害客户甲"
VICTIM_MOBILE = "13900000001"
VICTIM_ID = "11010519491231002X"  # valid GB 11643 check digit, no real person's


@dataclass
class Victim:
    customer: Customer
    markers: tuple[str, ...]
    rows: dict[str, Any] = field(default_factory=dict)


def build_victim(*, company: Company, project: Project, owner: User, service: User, director: User) -> Victim:
    # A customer number no example or placeholder uses (templates show KH00000001).
    reserve(f"customer:{company.pk}", 4170)
    customer = customer_services.create_customer(
        actor=owner,
        company=company,
        name=VICTIM_NAME,
        owner=owner,
        project_id=project.pk,
        mobile=VICTIM_MOBILE,
        source_channel="visit",
        id_number=VICTIM_ID,
        notes=f"{VICTIM_NAME}的备注",
    )
    customer_services.update_profile(customer, actor=owner, address="受害路1号")
    customer_services.add_family_member(customer, actor=owner, relation="spouse", name="受害配偶", mobile="13900000002")
    building, _ = Building.objects.get_or_create(project=project, name="9号楼")
    unit = Unit.objects.create(project=project, building=building, number="901", price=Decimal("1000000"))
    deal = customer_services.create_deal(actor=owner, customer=customer, unit=unit, subscribed_on=date(2026, 11, 2))
    complaint_services.ensure_default_categories(company)
    category = Category.objects.get(company=company, name="服务质量")
    now = timezone.now()
    complaint = complaint_services.register_complaint(
        complaint_services.Intake(
            channel=Channel.PHONE,
            complainant_name=VICTIM_NAME,
            complainant_mobile=VICTIM_MOBILE,
            content=f"{VICTIM_NAME}的投诉内容",
            project=project,
            category=category,
        ),
        actor=service,
        now=now,
        calendar=WorkCalendar(),
    )
    consultations.ensure_default_topics(company)
    topic = ConsultationTopic.objects.filter(company=company).first()
    assert topic is not None
    consultation = consultations.register_consultation(
        consultations.ConsultationIntake(
            channel="phone",
            topic=topic,
            question=f"{VICTIM_NAME}的咨询",
            answer="已答复",
            contact_name=VICTIM_NAME,
            contact_mobile=VICTIM_MOBILE,
            project=project,
            needs_follow_up=False,
        ),
        actor=service,
    )
    issue = issues.register_issue(
        issues.IssueIntake(
            subject="漏水",
            description=f"{VICTIM_NAME}家漏水",
            contact_name=VICTIM_NAME,
            contact_mobile=VICTIM_MOBILE,
            project=project,
            customer=customer,
        ),
        actor=service,
    )
    department = Department.objects.create(company=company, name="工程部")
    hand_off = issues.hand_off(issue, actor=service, department=department, asked=f"请处理{VICTIM_NAME}家漏水")
    rule = care_services.ensure_rules(project)[0]
    message = OutboundMessage.objects.create(
        customer=customer,
        project=project,
        rule=rule,
        trigger=rule.trigger,
        occasion="victim-1",
        purpose="care",
        text=f"尊敬的{VICTIM_NAME}您好",
        scheduled_at=now + timedelta(days=1),
        window_ends_at=now + timedelta(days=1, hours=1),
        next_attempt_at=now + timedelta(days=1),
    )
    task = VisitTask.objects.create(
        company=company,
        customer=customer,
        project=project,
        deal=deal,
        occasion="victim",
        occasion_on=date(2026, 11, 16),
        purpose="签约回访",
        assignee=owner,
        start_on=date(2026, 11, 16),
        due_on=date(2026, 11, 20),
        opinions=f"{VICTIM_NAME}的意见",
    )
    dsr = privacy_services.create_request(
        customer,
        actor=director,
        kind="copy",
        received_via="visit",
        identity_check="核对身份证原件",
        received_on=timezone.localdate(),
        now=now,
    )
    customer.refresh_from_db()
    markers = (VICTIM_NAME, VICTIM_MOBILE, mask_mobile(VICTIM_MOBILE), customer.number, "受害配偶", "受害路1号")
    return Victim(
        customer,
        markers,
        {
            "deal": deal,
            "complaint": complaint,
            "consultation": consultation,
            "issue": issue,
            "hand_off": hand_off,
            "message": message,
            "task": task,
            "request": dsr,
        },
    )
