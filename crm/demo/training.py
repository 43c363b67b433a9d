"""Demo training (培训): 郑洁 (行政主管) plans this quarter's business-etiquette training for
the sales staff; last week's 电话礼仪 session is recorded (attendance, scores, one leave,
two summaries, one still due), next week's 拜访礼仪 session is still to come, taught by
赵刚 (销售组长), and a property-service session trains the duty officer."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

from django.utils import timezone

from crm.accounts.models import Company, User
from crm.lib.dates import at, local_day
from crm.training import services
from crm.training.models import Attendance

SALES = ("consultant1", "consultant3", "consultant2", "leader1", "leader2")
SCORES = {"consultant1": 92, "consultant3": 85, "leader1": 88, "leader2": 90}
SUMMARIES = {
    "consultant1": "接听电话三声之内，先报项目名称和自己的姓名；通话结束等客户先挂机。",
    "leader1": "组内每周抽查一次来电接听录音，按电话礼仪要求点评。",
}


def seed(company: Company, seed_value: int) -> int:
    people = {u.username: u for u in User.objects.filter(company=company)}
    planner = people.get("supervisor1")
    if planner is None:
        return 0
    now = timezone.now()
    today = local_day(now)
    plan = services.create_plan(
        actor=planner,
        title=f"{today.year}年商务礼仪培训（销售人员）",
        topic="etiquette",
        starts_on=today - timedelta(days=14),
        ends_on=today + timedelta(days=45),
        audience="销售人员，分两批",
        description="社交礼仪、职场魅力修炼、拜访礼仪、电话礼仪；培训后每人提交总结，定期考核。",
        now=now - timedelta(days=20),
    )
    sales = [people[name] for name in SALES if name in people]
    past = services.schedule_session(
        plan,
        actor=planner,
        topic="电话礼仪：可以听到的形象",
        starts_at=at(today - timedelta(days=6), time(14, 0)),
        attendees=sales,
        trainer_name="外请讲师 王老师",
        hours=Decimal(2),
        location="锦华苑售楼处二楼会议室",
        now=now - timedelta(days=14),
    )
    rows = {a.attendee.username: a for a in past.attendances.select_related("attendee")}
    entries: list[tuple[Attendance, str, int | None]] = [
        (row, "attended", SCORES[name]) if name in SCORES else (row, "leave", None) for name, row in rows.items()
    ]
    services.record_attendance(past, actor=planner, entries=entries, now=past.starts_at + timedelta(hours=3))
    for name, text in SUMMARIES.items():
        if name in rows:
            services.write_summary(rows[name], actor=people[name], text=text, now=past.starts_at + timedelta(days=1))
    services.schedule_session(
        plan,
        actor=planner,
        topic="拜访礼仪与职场形象",
        starts_at=at(today + timedelta(days=7), time(10, 0)),
        attendees=sales,
        trainer=people.get("leader1"),
        trainer_name="" if "leader1" in people else "销售组长",
        location="锦华苑售楼处二楼会议室",
        now=now,
    )
    duty = [people[name] for name in ("duty1", "service1") if name in people]
    if duty:
        property_plan = services.create_plan(
            actor=planner,
            title="物业服务人员服务标准",
            topic="property",
            starts_on=today,
            ends_on=today + timedelta(days=30),
            audience="保安、保洁、水吧服务人员及值班人员",
            now=now,
        )
        services.schedule_session(
            property_plan,
            actor=planner,
            topic="门岗问候与引导、水吧保洁标准",
            starts_at=at(today + timedelta(days=3), time(9, 30)),
            attendees=duty,
            trainer_name="物业公司 李经理",
            location="售楼处大堂",
            now=now,
        )
    return 3
