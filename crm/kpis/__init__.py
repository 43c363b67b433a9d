"""KPIs (考核指标): the definitions in docs/kpis.md, the dashboard with charts and drill-down, consultant scorecards and the management home page."""
