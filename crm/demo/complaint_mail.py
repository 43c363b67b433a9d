"""Demo rows of email intake, repeats and retention: a complaint that came by email (an
address only), a repeat of an earlier complaint, a mail held for the director, and the
purge record of a complaint archived more than a year ago."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from crm.accounts.models import Company, User
from crm.complaints import services
from crm.complaints.models import Category, Channel, InboundMail, PurgeRecord
from crm.projects.models import Project


def seed(company: Company, seed_value: int) -> int:
    services.ensure_default_categories(company)
    duty = User.objects.get(company=company, username="duty1")
    project = Project.objects.filter(company=company).order_by("id").first()
    if project is None:
        return 0
    service_quality = Category.objects.get(company=company, name="服务质量")
    after_sales = Category.objects.get(company=company, name="售后")
    now = timezone.now()
    mailed = services.register_complaint(
        services.Intake(
            channel=Channel.EMAIL,
            complainant_name="邱女士",
            complainant_mobile="",
            complainant_email="qiu.demo@example.com",
            content="【邮件主题】售楼处电话无人接听\n\n连续三天拨打售楼处电话均无人接听。",
            project=project,
            category=service_quality,
        ),
        actor=duty,
        now=now - timedelta(hours=3),
    )
    InboundMail.objects.get_or_create(
        message_key=f"mid:demo-{seed_value}-registered@example.com",
        defaults={
            "company": company,
            "status": InboundMail.Status.REGISTERED,
            "sender_email": "qiu.demo@example.com",
            "sender_name": "邱女士",
            "subject": "售楼处电话无人接听",
            "received_at": mailed.registered_at,
            "complaint": mailed,
        },
    )
    InboundMail.objects.get_or_create(
        message_key=f"mid:demo-{seed_value}-held@example.com",
        defaults={
            "company": company,
            "status": InboundMail.Status.HELD,
            "reason": "无法登记为投诉：无法确定楼盘：邮件中没有楼盘名称，发件人也不是已知客户，且未设置默认楼盘（COMPLAINT_IMAP_PROJECT）",
            "sender_email": "anon.demo@example.com",
            "subject": "小区噪音问题",
            "received_at": now - timedelta(hours=1),
            "raw": "From: anon.demo@example.com\r\nSubject: 小区噪音问题\r\n\r\n晚上施工噪音很大。\r\n".encode(),
        },
    )
    for days in (20, 5):  # the same unlinked mobile and category: the second is flagged
        services.register_complaint(
            services.Intake(
                channel=Channel.PHONE,
                complainant_name="钟先生",
                complainant_mobile="13755550101",
                content="地下车库积水，电梯停运",
                project=project,
                category=after_sales,
            ),
            actor=duty,
            now=now - timedelta(days=days),
        )
    PurgeRecord.objects.get_or_create(
        number=f"TS{(now - timedelta(days=800)):%Y%m%d}0001",
        defaults={
            "company": company,
            "category_name": "合同",
            "channel": Channel.PHONE,
            "registered_at": now - timedelta(days=800),
            "archived_at": now - timedelta(days=780),
            "purged_at": now - timedelta(days=780 - 366),
            "event_count": 9,
        },
    )
    return 4
