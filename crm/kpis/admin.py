"""Nothing to configure: the KPI app keeps no rows (crm.kpis.models)."""
