"""A customer with personal data in every app, for the erasure, copy and request tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from crm.accounts.models import User
from crm.care import services as care_services
from crm.care.models import OutboundMessage
from crm.complaints import services as complaint_services
from crm.complaints.models import Category, Channel, Complaint
from crm.customers import services as customer_services
from crm.customers.models import CompanyPrivacy, Customer, FamilyMember
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar
from crm.visits.models import VisitTask

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=CHINA_TZ)  # Monday
# GB 11643 check digit valid; not a real person's.
ID_NUMBER = "11010519491231002X"
MOBILE = "13912345678"
MOBILE2 = "13787654321"
NAME = "隐私测试客户"


@dataclass
class World:
    customer: Customer
    complaint: Complaint
    message: OutboundMessage
    task: VisitTask
    family: FamilyMember


@pytest.fixture
def world(make_customer, consultant: User, service: User, project, company) -> World:
    customer = make_customer(NAME, mobile=MOBILE, mobile2=MOBILE2, id_number=ID_NUMBER, notes="喜欢安静，住在幸福路8号")
    # The archive's health item is recorded only where the company switched the sensitive
    # items on (issue 14 item 3); erasure must clear it where it was.
    CompanyPrivacy.objects.create(company=company, archive_sensitive_fields=True)
    customer_services.update_profile(
        customer, actor=consultant, address="幸福路8号", employer="某某科技", health="高血压"
    )
    family = customer_services.add_family_member(
        customer, actor=consultant, relation="spouse", name="配偶甲", mobile="13600001111"
    )
    customer_services.add_note(customer, actor=consultant, text=f"{NAME}来电询问，手机{MOBILE}")
    complaint_services.ensure_default_categories(company)
    category = Category.objects.get(company=company, name="服务质量")
    complaint = complaint_services.register_complaint(
        complaint_services.Intake(
            channel=Channel.PHONE,
            complainant_name=NAME,
            complainant_mobile=MOBILE,
            content=f"{NAME}投诉：物业态度差",
            project=project,
            category=category,
        ),
        actor=service,
        now=NOW,
        calendar=WorkCalendar(),
    )
    rule = care_services.ensure_rules(project)[0]
    message = OutboundMessage.objects.create(
        customer=customer,
        project=project,
        rule=rule,
        trigger=rule.trigger,
        occasion="test-1",
        purpose="care",
        text=f"尊敬的{NAME}，祝您生日快乐",
        scheduled_at=NOW + timedelta(days=1),
        window_ends_at=NOW + timedelta(days=1, hours=1),
        next_attempt_at=NOW + timedelta(days=1),
    )
    task = VisitTask.objects.create(
        company=company,
        customer=customer,
        project=project,
        occasion="test",
        occasion_on=date(2026, 11, 16),
        purpose="签约回访",
        assignee=consultant,
        start_on=date(2026, 11, 16),
        due_on=date(2026, 11, 20),
        opinions=f"{NAME}说停车位太少",
    )
    return World(Customer.objects.get(pk=customer.pk), complaint, message, task, family)
