"""Demo consultations, first-responder issues and media watch: ~40 consultations over the
last quarter (a few needing follow-up), issues in every state (one hand-off overdue and
escalated, callbacks due on 刘芳's and 王晓燕's workbench), the fixed media with last
week's review complete and this week's half done, and a handful of findings."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from crm.accounts.models import Company, Department, User
from crm.complaints import consultations, issues, media, services
from crm.complaints.models import Category, ConsultationChannel, ConsultationTopic, CustomerIssue, Medium, Sentiment
from crm.customers.models import Customer
from crm.projects.models import Project

QUESTIONS = (
    ("房源与户型", "三室两厅还有哪些楼层可选？", "3号楼 8–15 层仍有房源"),
    ("价格与优惠", "团购有没有额外优惠？", "5 户以上团购额外优惠 1%"),
    ("付款与按揭", "公积金贷款最长能贷多少年？", "最长 30 年，且不超过退休年龄后 5 年"),
    ("付款与按揭", "首付最低几成？", "首套房最低两成"),
    ("合同与手续", "网签后多久能办理备案？", "一般 7 个工作日内"),
    ("工程进度", "几号楼先交房？", "1、2 号楼预计明年 6 月交付"),
    ("交房与物业", "物业费怎么收？", "高层 2.2 元/平方米·月"),
)
FINDINGS = (
    ("业主论坛", Sentiment.NEGATIVE, "业主发帖称 3 号楼地下车库积水，物业未及时处理"),
    ("房天下", Sentiment.POSITIVE, "网友点评：样板间装修用料扎实，园林效果好"),
    ("安居客", Sentiment.NEUTRAL, "网友询问二期开盘时间"),
    ("本地晚报", Sentiment.NEUTRAL, "报道片区学校规划，提及本项目"),
)


def seed(company: Company, seed_value: int) -> int:
    rng = random.Random(seed_value + 13)
    consultations.ensure_default_topics(company)
    media.ensure_default_media(company)
    services.ensure_default_categories(company)
    staff = {u.username: u for u in User.objects.filter(company=company)}
    service, duty, director, analyst = staff["service1"], staff["duty1"], staff["director1"], staff["analyst1"]
    consultant = staff["consultant1"]
    topics = {t.name: t for t in ConsultationTopic.objects.filter(company=company)}
    projects = list(Project.objects.filter(company=company).order_by("id"))
    customers = list(Customer.objects.filter(company=company, is_archived=False).order_by("id")[:100])
    departments = {d.name: d for d in Department.objects.filter(company=company)}
    now = timezone.now()
    made = 0

    for i in range(40):
        topic, question, answer = QUESTIONS[i % len(QUESTIONS)]
        customer = customers[rng.randrange(len(customers))] if customers and i % 3 == 0 else None
        follow_up = i % 10 == 7
        consultations.register_consultation(
            consultations.ConsultationIntake(
                channel=rng.choice(ConsultationChannel.values),
                topic=topics[topic],
                question=question,
                answer="" if follow_up else answer,
                contact_name=customer.name if customer else rng.choice(("林先生", "高女士", "许先生", "韩女士")),
                contact_mobile=customer.mobile if customer else f"137{rng.randint(10_000_000, 99_999_999)}",
                project=next((p for p in projects if customer and p.pk == customer.project_id), rng.choice(projects)),
                needs_follow_up=follow_up,
                asked_at=now - timedelta(days=rng.randint(0, 80), hours=rng.randint(0, 8)),
            ),
            actor=rng.choice((service, duty)),
            now=now,
        )
        made += 1

    def issue(actor: User, subject: str, description: str, customer: Customer | None, days_ago: int) -> CustomerIssue:
        mobile = customer.mobile if customer else f"139{rng.randint(10_000_000, 99_999_999)}"
        return issues.register_issue(
            issues.IssueIntake(
                subject=subject,
                description=description,
                contact_name=customer.name if customer else "顾女士",
                contact_mobile=mobile,
                project=next((p for p in projects if customer and p.pk == customer.project_id), projects[0]),
            ),
            actor=actor,
            now=now - timedelta(days=days_ago),
        )

    engineering, finance = departments["工程部"], departments["财务部"]
    # Handed off 12 days ago (past the answer time even across a long holiday) and never answered: overdue, escalated to the director.
    late = issue(service, "车库积水", "客户反映地下车库下雨积水", None, 12)
    record = issues.hand_off(
        late, actor=service, department=engineering, asked="车库积水原因和整改时间", now=now - timedelta(days=12)
    )
    if now > record.respond_by:
        issues.escalate_hand_off(record, actor=service, reason="工程部超过答复时限未答复", now=now)
    # Answered: the callback is due (刘芳's workbench).
    due = issue(service, "退定金进度", "客户询问退定金到账时间", None, 2)
    answered = issues.hand_off(
        due, actor=service, department=finance, asked="退款到账时间", now=now - timedelta(days=2)
    )
    issues.record_answer(answered, actor=service, answer="已提交银行，3 个工作日内到账", now=now - timedelta(days=1))
    # A consultant's own customer: callback due on 王晓燕's workbench.
    own = [c for c in customers if c.owner_id == consultant.pk]
    if own:
        mine = issue(consultant, "合同补充条款", "客户询问车位补充条款", own[0], 1)
        issues.mark_answered(mine, actor=consultant, now=now - timedelta(hours=20))
    # Closed after a callback.
    done = issue(service, "维修上门时间", "客户询问卫生间渗水维修上门时间", None, 9)
    first = issues.hand_off(
        done, actor=service, department=engineering, asked="维修上门时间", now=now - timedelta(days=9)
    )
    issues.record_answer(first, actor=service, answer="周四上午上门", now=now - timedelta(days=8))
    issues.record_callback(done, actor=service, result="已告知客户上门时间，客户满意", now=now - timedelta(days=8))
    made += 4

    # Media: last week complete, this week half done, and a few findings.
    all_media = list(Medium.objects.filter(company=company))
    for medium in all_media:
        media.check_medium(medium, actor=analyst, now=now - timedelta(days=7))
    for medium in all_media[: len(all_media) // 2]:
        media.check_medium(medium, actor=analyst, now=now)
    by_name = {m.name: m for m in all_media}
    category = Category.objects.filter(company=company).first()
    for n, (name, sentiment, summary) in enumerate(FINDINGS):
        finding = media.record_finding(
            media.FindingIntake(
                medium=by_name[name], summary=summary, sentiment=sentiment, project=projects[n % len(projects)]
            ),
            actor=analyst,
            now=now - timedelta(days=n * 3),
        )
        if n == 0 and category is not None:
            media.respond_to_finding(finding, actor=director, response="已安排物业排水并在论坛回复业主", now=now)
            media.finding_to_complaint(finding, actor=director, category=category, now=now)
        made += 1
    return made
