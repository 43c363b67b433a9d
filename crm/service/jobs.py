"""Scheduled 客服运营 work (config/schedule.py). Each job takes ``now``, returns a count and
is idempotent through a unique key, so running it again (or from two runners) adds nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Q

from crm.customers.models import Customer, Deal, FamilyMember, Stage
from crm.lib.dates import local_day
from crm.lib.lunar import lunar_birthday_in
from crm.projects.models import Project
from crm.service import inspection
from crm.service.models import BirthdayEntry, GiftTask, Inspection, InspectionReport, Occasion

# A milestone recorded late (a contract entered a week after signing) still makes its
# task, within this many days; older milestones predate the feature and are left alone.
GIFT_TASK_LOOKBACK_DAYS = 30


def create_gift_tasks(*, now: datetime) -> int:
    """认购礼品 and 签约礼品 (seed 001): a "gift to hand over" task for the deal's
    consultant when a deal was subscribed or contracted in the last 30 days and is still
    active. Scans the deals (indexed by project and date) rather than hooking into the
    customers app; the (deal, occasion) key makes a second run add nothing."""
    since = local_day(now) - timedelta(days=GIFT_TASK_LOOKBACK_DAYS)
    deals = Deal.objects.filter(status=Deal.Status.ACTIVE).filter(
        Q(subscribed_on__gte=since) | Q(contracted_on__gte=since)
    )
    tasks = []
    for deal in deals.only(
        "pk", "company_id", "project_id", "customer_id", "consultant_id", "subscribed_on", "contracted_on"
    ).iterator(chunk_size=2000):
        for occasion, day in ((Occasion.SUBSCRIPTION, deal.subscribed_on), (Occasion.CONTRACT, deal.contracted_on)):
            if day is not None and day >= since:
                tasks.append(
                    GiftTask(
                        company_id=deal.company_id,
                        project_id=deal.project_id,
                        deal_id=deal.pk,
                        customer_id=deal.customer_id,
                        consultant_id=deal.consultant_id,
                        occasion=occasion,
                        milestone_on=day,
                        created_at=now,
                    )
                )
    before = GiftTask.objects.count()
    GiftTask.objects.bulk_create(tasks, ignore_conflicts=True, batch_size=1000)
    return GiftTask.objects.count() - before


def _this_years(year: int, row: Customer | FamilyMember) -> date | None:
    """The solar date of the birthday in ``year``: lunar birthdays with crm.lib.lunar's
    fallbacks (a 30th the month lacks on its last day; a leap month the year lacks in the
    regular month); 29 February on 28 February in other years."""
    if row.birthday_is_lunar:
        if not (row.lunar_month and row.lunar_day):
            return None
        try:
            return lunar_birthday_in(year, row.lunar_month, row.lunar_day, leap=row.lunar_is_leap)
        except ValueError:
            return None  # an impossible lunar date typed in: left out rather than guessed
    if row.birthday_on is None:
        return None
    try:
        return row.birthday_on.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def prepare_birthday_lists(*, now: datetime) -> int:
    """本月生日名单 (seed 001 业主生日礼品: 每月通过台帐筛选出本月客户, 分类发放到销售人员手中):
    for the current month, each owner whose birthday falls in it and who consented to care
    and has not opted out, and each family member who consented (through a customer who
    did) — one line in the owner's consultant's list. Runs daily and fills the month the
    first time it runs in it (normally the 1st); the unique key adds nothing later."""
    today = local_day(now)
    month = today.replace(day=1)
    mm = f"{month.month:02d}"
    # Owners who consented to care and did not opt out (PIPL: consent per purpose).
    consent = {"stage": Stage.OWNER, "consent_care": True, "has_opted_out": False, "is_archived": False}
    reachable = Q(**consent)
    solar_or_lunar = Q(birth_mmdd__startswith=mm, birthday_is_lunar=False) | Q(birthday_is_lunar=True)
    entries = []
    for c in (
        Customer.objects.filter(reachable, solar_or_lunar)
        .only(
            "pk",
            "company_id",
            "owner_id",
            "project_id",
            "name",
            "birthday_on",
            "birthday_is_lunar",
            "lunar_month",
            "lunar_day",
            "lunar_is_leap",
        )
        .iterator(chunk_size=2000)
    ):
        day = _this_years(month.year, c)
        if day is not None and day.month == month.month:
            entries.append(
                BirthdayEntry(
                    company_id=c.company_id,
                    month=month,
                    consultant_id=c.owner_id,
                    project_id=c.project_id,
                    customer_id=c.pk,
                    name=c.name,
                    birthday_on=day,
                    is_lunar=c.birthday_is_lunar,
                )
            )
    members = FamilyMember.objects.filter(
        solar_or_lunar, consent_care=True, **{f"customer__{k}": v for k, v in consent.items()}
    ).select_related("customer")
    for m in members.iterator(chunk_size=2000):
        day = _this_years(month.year, m)
        if day is not None and day.month == month.month:
            c = m.customer
            entries.append(
                BirthdayEntry(
                    company_id=c.company_id,
                    month=month,
                    consultant_id=c.owner_id,
                    project_id=c.project_id,
                    customer_id=c.pk,
                    member_id=m.pk,
                    name=m.name,
                    relation=m.get_relation_display(),
                    birthday_on=day,
                    is_lunar=m.birthday_is_lunar,
                )
            )
    before = BirthdayEntry.objects.filter(month=month).count()
    BirthdayEntry.objects.bulk_create(entries, ignore_conflicts=True, batch_size=1000)
    return BirthdayEntry.objects.filter(month=month).count() - before


def write_inspection_reports(*, now: datetime) -> int:
    """每日巡查报告 (seed 001: 本日工作结束前发送每日巡查报告): from 18:00, one report per
    project of every company for today — the inspection's results, its findings (handled or
    not, overdue or not) and the two flags (not completed by 10:00; a finding not handled
    by 11:00); a project nobody inspected gets a report saying so. The unique (project,
    day) key makes a second run add nothing."""
    today = local_day(now)
    if now < inspection.report_due(today):
        return 0
    done = InspectionReport.objects.filter(day=today).values("project_id")
    made = 0
    for project in Project.objects.exclude(pk__in=done).order_by("id"):
        insp = Inspection.objects.filter(project=project, day=today).select_related("inspector").first()
        summary: dict[str, object] = {"inspected": insp is not None}
        if insp is not None:
            findings = list(insp.findings.all())
            summary |= {
                "inspector": str(insp.inspector),
                "completed_at": insp.completed_at.isoformat() if insp.completed_at else None,
                "late": inspection.inspection_is_late(today, insp.completed_at, now),
                "results": [
                    {"area": r.area, "result": r.get_result_display(), "note": r.note} for r in insp.results.all()
                ],
                "findings": [
                    {
                        "area": f.area,
                        "description": f.description,
                        "department": f.get_department_display(),
                        "handled": f.handled_at is not None,
                        "handled_note": f.handled_note,
                        "overdue": (f.handled_at is None and now > f.due_at)
                        or (f.handled_at is not None and f.handled_at > f.due_at),
                    }
                    for f in findings
                ],
            }
        else:
            summary["late"] = True
        _, created = InspectionReport.objects.get_or_create(
            project=project,
            day=today,
            defaults={"company_id": project.company_id, "inspection": insp, "summary": summary, "created_at": now},
        )
        made += int(created)
    return made
