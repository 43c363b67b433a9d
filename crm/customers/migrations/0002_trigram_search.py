"""PostgreSQL only: trigram GIN indexes for the customer search (mobile and name fragments).

Django's ``contains`` lookup compiles to LIKE '%x%', which pg_trgm's gin_trgm_ops
answers from these indexes for fragments of 3+ characters. SQLite has no such index;
there the search scans, which is fine at the embedded default's scale.
"""

from django.db import migrations

from crm.core.migration_ops import postgresql_only

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_mobile_trgm ON customers_customer USING gin (mobile gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_mobile2_trgm ON customers_customer USING gin (mobile2 gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_name_trgm ON customers_customer USING gin (name gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS customer_mobile_trgm",
    "DROP INDEX IF EXISTS customer_mobile2_trgm",
    "DROP INDEX IF EXISTS customer_name_trgm",
]


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [postgresql_only(FORWARD, BACKWARD)]
