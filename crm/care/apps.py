from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "crm.care"
    label = "care"
    verbose_name = "温馨速递"
    # The cards this app adds to the workbench (crm.core.cards).
    workbench_cards = "crm.care.cards.workbench_cards"
