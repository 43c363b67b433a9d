"""The signing deadline (签约截止日): recorded at subscription, the configured number of
days later, never on a statutory holiday (real 2026 dates, the library's calendar)."""

from datetime import date

import pytest
import time_machine

from crm.core.errors import DomainError
from crm.core.models import CalendarDay, CalendarYear
from crm.customers import services
from crm.customers.milestones import signing_deadline
from crm.lib.workcalendar import WorkCalendar

CAL = WorkCalendar()


@pytest.mark.parametrize(
    ("subscribed_on", "deadline"),
    [
        (date(2026, 9, 14), date(2026, 9, 21)),  # a Monday: a Monday
        (date(2026, 9, 18), date(2026, 9, 28)),  # + 7 = 中秋 Fri 09-25: after the holiday, Mon 09-28
        (date(2026, 9, 30), date(2026, 10, 8)),  # + 7 = 10-07, National Day: Thu 10-08
        (date(2026, 10, 3), date(2026, 10, 10)),  # + 7 = Sat 10-10, a make-up working day
        (date(2026, 11, 7), date(2026, 11, 14)),  # + 7 = a plain Saturday: sales offices sign on weekends
        (date(2026, 2, 10), date(2026, 2, 24)),  # + 7 = 02-17, Spring Festival: Tue 02-24
        (date(2026, 2, 7), date(2026, 2, 14)),  # + 7 = Sat 02-14, the make-up day before it
    ],
)
def test_the_deadline_is_never_a_statutory_holiday(subscribed_on, deadline):
    assert signing_deadline(subscribed_on, days=7, cal=CAL) == deadline


def test_the_weekend_inside_a_holiday_moves_too():
    # + 8 = Sat 2026-09-26, inside 中秋 (09-25..09-27).
    assert signing_deadline(date(2026, 9, 18), days=8, cal=CAL) == date(2026, 9, 28)


@pytest.mark.django_db
class TestRecordedAtSubscription:
    def subscribe(self, make_customer, make_unit, consultant, on, **kw):
        customer = make_customer("认购客户")
        return services.create_deal(actor=consultant, customer=customer, unit=make_unit(), subscribed_on=on, **kw)

    def test_a_subscription_records_its_deadline_off_the_holiday(self, make_customer, make_unit, consultant):
        deal = self.subscribe(make_customer, make_unit, consultant, date(2026, 9, 18))
        deal.refresh_from_db()
        assert deal.signing_deadline_on == date(2026, 9, 28)

    def test_the_configured_number_of_days_counts(self, make_customer, make_unit, consultant, settings):
        settings.CARE_SIGNING_DEADLINE_DAYS = 10
        deal = self.subscribe(make_customer, make_unit, consultant, date(2026, 9, 14))
        assert deal.signing_deadline_on == date(2026, 9, 24)

    def test_a_deadline_given_is_kept_and_must_not_precede_the_subscription(self, make_customer, make_unit, consultant):
        deal = self.subscribe(
            make_customer, make_unit, consultant, date(2026, 9, 14), signing_deadline_on=date(2026, 9, 30)
        )
        assert deal.signing_deadline_on == date(2026, 9, 30)
        with pytest.raises(DomainError, match="签约截止日不能早于认购日期") as exc:
            self.subscribe(
                make_customer, make_unit, consultant, date(2026, 9, 14), signing_deadline_on=date(2026, 9, 1)
            )
        assert exc.value.field == "signing_deadline_on"

    def test_a_deal_signed_at_once_has_no_deadline(self, make_customer, make_unit, consultant):
        deal = self.subscribe(make_customer, make_unit, consultant, date(2026, 9, 14), contracted_on=date(2026, 9, 14))
        assert deal.signing_deadline_on is None

    def test_a_corrected_subscription_date_moves_the_deadline(self, make_customer, make_unit, consultant):
        deal = self.subscribe(make_customer, make_unit, consultant, date(2026, 9, 14))
        services.update_deal(deal, actor=consultant, subscribed_on=date(2026, 9, 18))
        deal.refresh_from_db()
        assert deal.signing_deadline_on == date(2026, 9, 28)
        services.update_deal(deal, actor=consultant, signing_deadline_on=date(2026, 10, 9))
        services.update_deal(deal, actor=consultant, price=1)
        deal.refresh_from_db()
        assert deal.signing_deadline_on == date(2026, 10, 9)

    @time_machine.travel(date(2027, 1, 8), tick=False)  # create_deal refuses dates after today
    def test_an_unknown_year_records_no_guess(self, make_customer, make_unit, consultant):
        deal = self.subscribe(make_customer, make_unit, consultant, date(2026, 12, 28))  # + 7 is in 2027
        assert deal.signing_deadline_on is None
        CalendarYear.objects.create(year=2027)
        CalendarDay.objects.create(day=date(2027, 1, 1), is_working_day=False, name="元旦")
        deal = self.subscribe(make_customer, make_unit, consultant, date(2026, 12, 25))  # + 7 = 2027-01-01
        assert deal.signing_deadline_on == date(2027, 1, 4)
