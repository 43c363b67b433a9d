"""What config.settings asks of the database connection."""

from __future__ import annotations

import pytest
from django.db import connection

from crm.accounts.models import User


@pytest.mark.needs_postgres
@pytest.mark.django_db
def test_foreign_key_checks_against_the_small_staff_table_use_its_primary_key():
    """DB_RANDOM_PAGE_COST (default 1.1) reaches the session; with the server's default of 4
    PostgreSQL plans a foreign-key check against a few pages of staff as a scan of them."""
    User.objects.bulk_create(User(username=f"staff{i}", password="x" * 88, display_name="同事") for i in range(300))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_user")
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"
        # The statement PostgreSQL's referential-integrity trigger runs for each new row.
        cursor.execute(
            "EXPLAIN SELECT 1 FROM ONLY accounts_user x WHERE id = %s FOR KEY SHARE OF x",
            [User.objects.order_by("pk").values_list("pk", flat=True).first()],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using accounts_user_pkey" in plan, plan
