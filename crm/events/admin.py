"""客户活动 has no admin pages: events are run on their own pages (crm.events.views), not configured."""
