from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "crm.events"
    label = "events"
    verbose_name = "客户活动"
    # The cards this app adds to the workbench (crm.core.cards).
    workbench_cards = "crm.events.cards.workbench_cards"
