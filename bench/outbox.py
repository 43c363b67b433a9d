"""Due care notifications for runs that drain the outbox: the fault drill (bench/fault.py)
and the reliability tests (tests/reliability/harness.py).

Imports product models, so it is imported only once Django is set up.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from crm.accounts.models import Company, User
from crm.care import services
from crm.care.models import OutboundMessage
from crm.care.rules import Purpose, Trigger
from crm.customers.models import Channel, Customer
from crm.projects.models import Project

# Aliyun sends by template: the fake (crm/sms/fakes/aliyun.py) refuses a call without one.
TEMPLATE_CODE = "SMS_100000001"


def make_due_notifications(
    company: Company,
    project: Project,
    owner: User,
    count: int,
    *,
    number_prefix: str,
    name_prefix: str,
    mobile_prefix: str,
    occasion_prefix: str,
    text: str,
    window: timedelta,
) -> list[int]:
    """``count`` new customers of ``owner`` with one 全款到账 notification each, due a minute
    ago, its send window open for ``window`` from now; returns the notifications' ids.

    Customers are numbered from the current customer count, so repeated calls add new ones:
    number ``{number_prefix}0000123``, name ``{name_prefix}123``, mobile
    ``{mobile_prefix}00000123`` (``mobile_prefix`` three digits). Notifications are not held
    by the quiet hours, so a run works at any time of day. The project's 全款到账 rule is
    given a gateway template code, which sending through Aliyun requires.
    """
    now = timezone.now()
    rule = services.rule_for(project.pk, Trigger.FULL_PAYMENT)
    rule.gateway_template_code = TEMPLATE_CODE
    rule.save(update_fields=["gateway_template_code"])
    start = Customer.objects.count()
    customers = Customer.objects.bulk_create(
        Customer(
            company=company,
            project=project,
            owner=owner,
            number=f"{number_prefix}{start + i:07d}",
            name=f"{name_prefix}{start + i}",
            mobile=f"{mobile_prefix}{start + i:08d}",
            source_channel=Channel.VISIT,
            consent_notification=True,
        )
        for i in range(count)
    )
    messages = OutboundMessage.objects.bulk_create(
        OutboundMessage(
            customer=customer,
            project=project,
            rule=rule,
            trigger=rule.trigger,
            occasion=f"{occasion_prefix}{customer.pk}",
            purpose=Purpose.NOTIFICATION,
            text=text,
            scheduled_at=now - timedelta(minutes=1),
            next_attempt_at=now - timedelta(minutes=1),
            window_ends_at=now + window,
        )
        for customer in customers
    )
    return [message.pk for message in messages]
