"""老带新 fixtures on top of the personas in the root conftest.

old     张老业主, an owner of project A (the consultant's), who brings people in
new     李新客, a new customer of project A registered without a referrer
"""

from __future__ import annotations

from datetime import datetime

import pytest

from crm.customers.models import Customer
from crm.lib.dates import CHINA_TZ

# Tuesday 2026-09-15 10:00 in China.
NOW = datetime(2026, 9, 15, 10, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def old(make_customer) -> Customer:
    return make_customer("张老业主")


@pytest.fixture
def new(make_customer) -> Customer:
    return make_customer("李新客")
