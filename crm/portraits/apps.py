from django.apps import AppConfig


class PortraitsConfig(AppConfig):
    name = "crm.portraits"
    label = "portraits"
    verbose_name = "客户描摹"
    # The cards this app adds to the workbench (crm.core.cards).
    workbench_cards = "crm.portraits.cards.workbench_cards"
