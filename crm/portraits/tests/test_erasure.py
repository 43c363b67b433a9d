"""Erasing a customer blanks what the consultant wrote about their life; the structured
answers stay for the quarter's counts."""

import pytest
from django.utils import timezone

from crm.privacy.erasure import anonymise_customer

from .conftest import cn

pytestmark = pytest.mark.django_db


def test_erasure_blanks_the_portraits_free_text(submit, customer, consultant, admin_user):
    portrait = submit(customer, consultant, cn(2026, 9, 30, 10))
    anonymise_customer(customer, actor=admin_user, reason="客户要求删除", now=timezone.now())
    portrait.refresh_from_db()
    assert (portrait.occupation, portrait.family_note, portrait.interests, portrait.living_note, portrait.notes) == (
        "",
        "",
        "",
        "",
        "",
    )
    assert (portrait.industry, portrait.quarter) == ("finance", "2026Q3")
