from datetime import date, datetime, time

import pytest

from crm.lib.dates import CHINA_TZ as SHANGHAI
from crm.sms.backends import locmem


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in Asia/Shanghai (jobs take ``now``; no wall clock)."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _locmem_gateway(settings):
    locmem.reset()
    yield
    locmem.reset()


@pytest.fixture
def owner(make_customer, consultant, unit):
    from crm.customers import services

    customer = make_customer("林业主", mobile="13811112222", birthday_on=date(1980, 11, 23), consent_care=True)
    services.create_deal(
        actor=consultant, customer=customer, unit=unit, subscribed_on=date(2026, 1, 5), contracted_on=date(2026, 1, 9)
    )
    customer.refresh_from_db()
    return customer
