from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "crm.core"
    label = "core"
    verbose_name = "基础"
    # The cards this app adds to the workbench (crm.core.cards).
    workbench_cards = "crm.core.cards.workbench_cards"
