from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "crm.service"
    label = "service"
    verbose_name = "客服运营"
    # The cards this app adds to the workbench (crm.core.cards).
    workbench_cards = "crm.service.cards.workbench_cards"
