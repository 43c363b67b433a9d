from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "crm.complaints"
    label = "complaints"
    verbose_name = "投诉"
    # The cards this app adds to the workbench (crm.core.cards).
    workbench_cards = "crm.complaints.cards.workbench_cards"
