"""Demo complaints: ~30 over the last five weeks, in every state of the lifecycle, half of
them from customers (linked by mobile) and half from people not in the customer files."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from crm.accounts.models import Company, Department, User
from crm.complaints import services
from crm.complaints.models import Category, Channel
from crm.customers.models import Customer
from crm.projects.models import Project

COUNT = 30
CONTENTS = (
    "售楼处接待人员态度冷淡，咨询户型时无人理睬",
    "宣传资料中的绿化率与实际不符",
    "合同补充条款与销售口头承诺不一致",
    "按揭放款进度迟迟没有通知",
    "交房后卫生间渗水，报修三次仍未处理",
    "外墙瓷砖出现空鼓脱落",
    "置业顾问多次夜间打电话推销",
    "误以为车位随房赠送，实际需另行购买",
    "样板间开放时间与公告不符，白跑一趟",
    "退房退款手续办理缓慢",
)
NAMES = ("陈先生", "刘女士", "王先生", "张女士", "李先生", "赵女士", "孙先生", "周女士")
# How far each demo complaint gets, in order (cycled).
PATHS = (
    (),
    ("acknowledge",),
    ("acknowledge", "investigate"),
    ("acknowledge", "investigate", "propose"),
    ("acknowledge", "investigate", "propose", "approve", "start"),
    ("acknowledge", "investigate", "propose", "approve", "start", "progress"),
    ("acknowledge", "investigate", "wait"),
    ("acknowledge", "investigate", "propose", "approve", "start", "resolve"),
    ("acknowledge", "investigate", "propose", "approve", "start", "resolve", "confirm"),
    ("acknowledge", "investigate", "propose", "approve", "start", "resolve", "confirm", "archive"),
    ("cancel",),
)
NOTES = {
    "propose": "向客户致歉，安排专人核实并于三个工作日内答复",
    "progress": "已与客户电话沟通，工程部已上门查看",
    "wait": "等待客户提供购房合同复印件",
    "resolve": "已按方案处理完毕，客户现场确认",
    "cancel": "客户来电撤回投诉",
}


def seed(company: Company, seed_value: int) -> int:
    rng = random.Random(seed_value + 11)
    services.ensure_default_categories(company)
    staff = {u.username: u for u in User.objects.filter(company=company)}
    service, director = staff["service1"], staff["director1"]
    service_dept = Department.objects.filter(company=company, name="客户服务中心").first()
    Category.objects.filter(company=company).update(owner=service, department=service_dept)
    categories = list(Category.objects.filter(company=company))
    projects = list(Project.objects.filter(company=company).order_by("id"))
    customers = list(Customer.objects.filter(company=company, is_archived=False).order_by("id")[:200])
    now = timezone.now()
    made = 0
    for i in range(COUNT):
        registered = now - timedelta(days=rng.randint(0, 35), hours=rng.randint(0, 8), minutes=rng.randint(0, 59))
        customer = customers[rng.randrange(len(customers))] if customers and i % 2 == 0 else None
        project = next((p for p in projects if customer and p.pk == customer.project_id), rng.choice(projects))
        complaint = services.register_complaint(
            services.Intake(
                channel=rng.choice(Channel.values),
                complainant_name=customer.name if customer else rng.choice(NAMES),
                complainant_mobile=customer.mobile if customer else f"137{rng.randint(10_000_000, 99_999_999)}",
                content=rng.choice(CONTENTS),
                project=project,
                category=rng.choice(categories),
                is_special=i % 9 == 4,
                is_important=i % 7 == 3,
            ),
            actor=staff["duty1"],
            now=registered,
        )
        at = registered
        for verb in PATHS[i % len(PATHS)]:
            at = min(at + timedelta(hours=rng.randint(1, 20)), now)
            actor = director if verb in ("approve", "cancel") else service
            services.perform(
                complaint,
                verb,
                actor=actor,
                note=NOTES.get(verb, ""),
                plan=NOTES["propose"],
                satisfaction=rng.choice((3, 4, 5, 5)),
                now=at,
            )
        made += 1
    return made
