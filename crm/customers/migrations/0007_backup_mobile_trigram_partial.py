"""PostgreSQL only: the backup mobile's trigram index covers only customers that have one.

Most customers have no backup mobile; each of them still cost the GIN index an "empty item"
entry on every insert (0.2 s of a 100,000-row import, docs/performance.md). The search says
``mobile2 <> ''`` beside its LIKE (crm.customers.selectors.search_customers) so the planner
can use the partial index.
"""

from django.db import migrations

from crm.core.migration_ops import postgresql_only

FORWARD = [
    "DROP INDEX IF EXISTS customer_mobile2_trgm",
    "CREATE INDEX customer_mobile2_trgm ON customers_customer USING gin (mobile2 gin_trgm_ops) WHERE mobile2 <> ''",
]
BACKWARD = [
    "DROP INDEX IF EXISTS customer_mobile2_trgm",
    "CREATE INDEX customer_mobile2_trgm ON customers_customer USING gin (mobile2 gin_trgm_ops)",
]


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_leaner_indexes")]
    operations = [postgresql_only(FORWARD, BACKWARD)]
