"""Nothing to configure: the KPI app keeps only the hourly job's counts of closed months
(crm.kpis.models, decision 0030), which nobody edits by hand."""
