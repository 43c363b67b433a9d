"""Which projects and units the API shows a user: the same rule as the pages
(crm.projects.selectors); customer and deal scope come from crm.customers.selectors."""

from crm.projects.selectors import UNIT_ORDER, projects_visible_to, units_visible_to

__all__ = ["UNIT_ORDER", "projects_visible_to", "units_visible_to"]
