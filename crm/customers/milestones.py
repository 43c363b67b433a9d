"""Pure rules about deal milestone dates (no database)."""

from __future__ import annotations

from datetime import date, timedelta

from crm.lib.workcalendar import WorkCalendar

# (later, earlier, message): a milestone may not come before the one it depends on.
# Filing (备案) and full payment are independent of each other: with a mortgage the
# contract is filed before the bank pays in full, so only "after signing" is enforced.
ORDER_RULES: tuple[tuple[str, str, str], ...] = (
    ("contracted_on", "subscribed_on", "签约日期不能早于认购日期"),
    ("full_payment_on", "contracted_on", "全款到账日期不能早于签约日期"),
    ("filed_on", "contracted_on", "合同备案日期不能早于签约日期"),
    ("delivery_planned_on", "contracted_on", "计划交房日期不能早于签约日期"),
    ("delivered_on", "contracted_on", "实际交房日期不能早于签约日期"),
    ("moved_in_on", "delivered_on", "入住日期不能早于交房日期"),
)

# A milestone that needs an earlier one to have happened at all.
REQUIRES: tuple[tuple[str, str, str], ...] = (
    ("full_payment_on", "contracted_on", "尚未签约，不能登记全款到账"),
    ("filed_on", "contracted_on", "尚未签约，不能登记合同备案"),
    ("delivered_on", "contracted_on", "尚未签约，不能登记交房"),
    ("moved_in_on", "delivered_on", "尚未交房，不能登记入住"),
)


def milestone_errors(dates: dict[str, date | None], *, today: date | None = None) -> dict[str, str]:
    """Return {field: Chinese message} for every milestone date that breaks the order.

    ``today`` (when given) forbids actual milestones in the future; the planned delivery
    date may of course lie ahead.
    """
    errors: dict[str, str] = {}
    if not dates.get("subscribed_on"):
        errors["subscribed_on"] = "认购日期必填"
    for later, needed, message in REQUIRES:
        if dates.get(later) and not dates.get(needed):
            errors.setdefault(later, message)
    for later, earlier, message in ORDER_RULES:
        a, b = dates.get(later), dates.get(earlier)
        if a and b and a < b:
            errors.setdefault(later, message)
    if today is not None:
        for field in ("subscribed_on", "contracted_on", "full_payment_on", "filed_on", "delivered_on", "moved_in_on"):
            value = dates.get(field)
            if value and value > today:
                errors.setdefault(field, "实际发生的日期不能晚于今天")
    return errors


def signing_deadline(subscribed_on: date, *, days: int, cal: WorkCalendar) -> date:
    """The date by which a subscription must be signed (签约截止日): ``days`` calendar days
    after subscribing, moved to the first working day after a statutory holiday it lands
    on (2026-09-18 + 7 is 中秋 2026-09-25: the deadline is Monday 09-28). A plain weekend
    is kept, since sales offices sign on weekends; a weekend inside a holiday is not.

    Raises CalendarUnknown when the deadline's year has no work calendar yet.
    """
    due = subscribed_on + timedelta(days=days)
    if cal.is_working_day(due):
        return due
    first = cal.holiday_start(due)
    after = cal.next_working_day(due)
    run = (first + timedelta(days=i) for i in range((after - first).days))
    return after if any(day.weekday() < 5 for day in run) else due
