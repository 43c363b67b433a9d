from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "crm.events"
    label = "events"
    verbose_name = "客户活动"
