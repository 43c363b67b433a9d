"""Demo visits: the seed's plans on every project (the deep visits assigned to 客服专员
service1), the tasks the job generates today, a wider catch-up so each consultant has
calls for today and some overdue, and a share of them already recorded (reached with
scores, or not reached and waiting for the retry)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from crm.accounts.models import Company, Department, User
from crm.accounts.services import create_staff
from crm.core.calendar import work_calendar
from crm.customers.models import Customer
from crm.lib.dates import local_day
from crm.lib.workcalendar import WorkCalendar
from crm.projects.models import Project
from crm.visits import campaigns, conversion, escalation, planning, repairs, services, supervision
from crm.visits.models import AssigneeRule, ForbiddenPhrase, IssueCategory, VisitIssue, VisitPlan, VisitTask

ISSUES = (
    ("产品质量", "工程部", "卫生间墙面有渗水痕迹"),
    ("服务态度", "销售部", "签约当天等候时间过长"),
    ("政策咨询", "财务部", "想了解公积金贷款提前还款的手续"),
    ("产品质量", "物业部", "地下车库照明不足"),
)
OPINIONS = (
    "对置业顾问的服务很满意",
    "希望售楼处周末多安排停车位",
    "按揭审批比预期慢，希望及时告知进度",
    "关心小区幼儿园何时开园",
    "",
)


def seed(company: Company, seed_value: int) -> int:
    rng = random.Random(seed_value + 12)
    now = timezone.now()
    today = local_day(now)
    calendar = work_calendar()
    service = User.objects.filter(company=company, username="service1").first()
    for project in Project.objects.filter(company=company):
        services.ensure_default_plans(project)
    VisitPlan.objects.filter(company=company, assignee_rule=AssigneeRule.PLAN).update(assignee=service)
    services.ensure_default_issue_categories(company)
    departments = {d.name: d for d in Department.objects.filter(company=company)}
    for category in IssueCategory.objects.filter(company=company, department__isnull=True):
        category.department = departments.get(
            {"产品质量": "工程部", "服务态度": "客户服务中心"}.get(category.name, "客户服务中心")
        )
        category.save()
    categories = {c.name: c for c in IssueCategory.objects.filter(company=company)}
    made = 0
    for plan in VisitPlan.objects.filter(company=company, is_active=True):
        # A demo opened today: include occasions of the last 20 days, so there are overdue
        # calls and some to record (the job itself catches up only ``catch_up_days``).
        plan.catch_up_days = max(plan.catch_up_days, 20)
        made += planning.generate_for_plan(plan, today=today, calendar=calendar)
    # Some of the older ones were already made: reached with scores, or not reached.
    done_before = VisitTask.objects.filter(company=company, due_on__lt=today - timedelta(days=3)).select_related(
        "assignee"
    )
    raised_count = 0  # issues cycle through the classes and the stages
    for task in done_before.order_by("pk"):
        # The first four calls always reach the customer and raise an issue, one per stage
        # (open, being worked, resolved, closed), whatever day the demo is opened on: which
        # tasks are due before it (and how many) depends on the day. The rest at random.
        first = raised_count < 4
        if task.assignee is None or (not first and rng.random() < 0.3):
            continue
        when = now - timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5))
        if first or rng.random() < 0.8:
            issue = ISSUES[raised_count % len(ISSUES)] if first or rng.random() < 0.25 else None
            services.record_outcome(
                task,
                actor=task.assignee,
                reached=True,
                channel=task.channel,
                scores={q: rng.choice((3, 4, 4, 5, 5)) for q in task.questions},
                opinions=rng.choice(OPINIONS),
                now=when,
                calendar=calendar,
            )
            if issue is not None:
                class_name, department, text = issue
                raised = services.raise_issue(
                    task,
                    actor=task.assignee,
                    category=categories[class_name],
                    department=departments.get(department),
                    description=text,
                    promised_on=local_day(when) + timedelta(days=rng.randint(2, 10)),
                    now=when,
                )
                raised_count += 1
                _work_issue(raised, raised_count % 4, when)
        else:
            services.record_outcome(
                task, actor=task.assignee, reached=False, channel=task.channel, now=when, calendar=calendar
            )
    # The department's own queue (issue 12, item 4): 工程部 and 物业部 each get a member who
    # signs in with the demo password (engineer1, property1), without any visit role.
    for username, name, department in (("engineer1", "孙工", "工程部"), ("property1", "周物业", "物业部")):
        if department in departments and not User.objects.filter(username=username).exists():
            member = create_staff(
                username, company=company, roles=(), password=settings.DEMO_PASSWORD, display_name=name
            )
            member.department = departments[department]
            member.save(update_fields=["department"])
    services.remind_issues(now=now, calendar=calendar)
    _repairs(company, rng, now, calendar)
    _campaign(company, now)
    escalation.escalate_overdue(now=now, calendar=calendar)  # the overdue ones: to the team leaders
    _supervision(company, now)
    _conversion(company, now)
    _improvement_plan(company, today)
    return made


def _supervision(company: Company, now: datetime) -> None:
    """回访督查: the company's own phrase list, one record flagged by the phrase check, one
    flagged by the supervisor and answered, one waiting for the visitor's answer."""
    ForbiddenPhrase.objects.get_or_create(company=company, phrase="你自己去问")
    supervisor = User.objects.filter(company=company, username="supervisor1").first()
    ended = list(
        VisitTask.objects.filter(company=company, status=VisitTask.Status.DONE, completed_by__isnull=False).order_by(
            "satisfaction", "pk"
        )[:3]
    )
    if supervisor is None or len(ended) < 3:
        return
    phrase_task, answered_task, open_task = ended
    phrase_task.opinions = "客户问车位何时交付，回访人答复：我不知道，你自己去问物业"
    phrase_task.save(update_fields=["opinions"])
    supervision.check_notes(phrase_task, phrase_task.opinions, now=now - timedelta(hours=3))
    answered = supervision.flag_record(
        answered_task, actor=supervisor, comment="满意度偏低，请说明客户不满的原因", now=now - timedelta(hours=5)
    )
    visitor = answered.visitor
    if visitor is not None:
        supervision.answer_flag(
            answered, actor=visitor, answer="客户对按揭进度不满，已联系银行并回电告知", now=now - timedelta(hours=2)
        )
    supervision.flag_record(open_task, actor=supervisor, comment="意见栏过于简单，请补充客户原话", now=now)


def _conversion(company: Company, now: datetime) -> None:
    """One serious 产品质量 issue already converted into a complaint (渠道 转办)."""
    director = User.objects.filter(company=company, username="director1").first()
    issue = (
        VisitIssue.objects.filter(company=company, category__name="产品质量", complaint__isnull=True)
        .select_related("category")
        .order_by("pk")
        .first()
    )
    if director is None or issue is None:
        return
    category = conversion.suggested_category(issue, director)
    if category is not None:
        conversion.convert_to_complaint(
            issue, actor=director, category=category, note="渗水面积大，客户要求赔偿", now=now
        )


def _improvement_plan(company: Company, today: date) -> None:
    """Last month's improvement plan for consultant1, written by the team leader."""
    leader = User.objects.filter(company=company, username="leader1").first()
    consultant = User.objects.filter(company=company, username="consultant1").first()
    if leader is None or consultant is None:
        return
    last = today.replace(day=1) - timedelta(days=1)
    services.save_improvement_plan(
        consultant,
        actor=leader,
        month=last,
        plan="每天上午 10 点前完成当日回访；未接通的客户当天下午换时段重拨",
    )


def _campaign(company: Company, now: datetime) -> None:
    """专项回访: the director's campaign to owners of 锦华苑 about the school-district policy,
    launched (tasks for their consultants)."""
    director = User.objects.filter(company=company, username="director1").first()
    project = Project.objects.filter(company=company, code="JHY").first()
    if director is None or project is None:
        return
    today = local_day(now)
    campaign = campaigns.create_campaign(
        actor=director,
        name="学区划分政策专项回访",
        purpose="告知业主学区划分新政策，了解业主的关注点和意见",
        script="您好，{客户}先生/女士，我是{楼盘}的置业顾问。教育局近期公布了学区划分新政策，跟您简单介绍一下……",
        questions="对政策告知及时性的满意程度\n对政策解答清楚程度的满意程度",
        project=project,
        milestone="contracted",
        start_on=today,
        due_on=today + timedelta(days=14),
        now=now,
    )
    campaigns.launch(campaign, actor=director, now=now)


REPAIRS = (
    ("厨房水龙头漏水", "华安维修"),
    ("入户门锁芯松动", "永固门业"),
    ("卫生间地漏返味", "华安维修"),
    ("阳台推拉门卡滞", "金窗门窗"),
)


def _repairs(company: Company, rng: random.Random, now: datetime, calendar: WorkCalendar) -> None:
    """报修: repairs of the last quarter and this one, most completed (each with its
    callback, most of last quarter's already made), some still open; then last quarter's
    20% re-check sample for the director."""
    service = User.objects.filter(company=company, username="service1").first()
    owners = list(Customer.objects.filter(company=company, deals__isnull=False).distinct().order_by("pk")[:40])
    quarter_start = repairs.Quarter.of(local_day(now)).first_day
    for i, customer in enumerate(owners):
        problem, contractor = REPAIRS[i % len(REPAIRS)]
        completed = None
        if i % 5 != 4:
            days_back = rng.randint(1, 80) if i % 2 else rng.randint(1, 10)
            completed = now - timedelta(days=days_back, hours=rng.randint(0, 6))
        repair = repairs.record_repair(
            actor=service,
            customer=customer,
            problem=problem,
            contractor=contractor,
            completed_at=completed,
            now=completed or now,
            calendar=calendar,
        )
        task = repair.tasks.first()
        if task is not None and completed is not None and local_day(completed) < quarter_start and task.assignee:
            services.record_outcome(
                task,
                actor=task.assignee,
                reached=True,
                channel=task.channel,
                scores={q: rng.choice((4, 5, 5)) for q in task.questions},
                now=completed + timedelta(hours=20),
                calendar=calendar,
            )
    repairs.draw_due_samples(now=now, calendar=calendar)


def _work_issue(issue: VisitIssue, stage: int, when: datetime) -> None:
    """Some issues are already being worked, resolved (waiting for the visitor to tell the
    customer) or closed, so every stage shows on the pages."""
    handler = User.objects.filter(company_id=issue.company_id, username="director1").first()
    if handler is None:
        return
    if stage == 1:
        return
    services.start_issue(issue, actor=handler, note="已安排人员处理", now=when + timedelta(hours=2))
    if stage == 2:
        return
    services.resolve_issue(issue, actor=handler, resolution="已处理完毕", now=when + timedelta(hours=20))
    if stage == 3 or issue.raised_by is None:
        return
    services.inform_customer(
        issue, actor=issue.raised_by, accepted=True, note="已电话告知客户", now=when + timedelta(days=1)
    )
