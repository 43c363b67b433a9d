from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "crm.visits"
    label = "visits"
    verbose_name = "回访"
    # The cards this app adds to the workbench (crm.core.cards).
    workbench_cards = "crm.visits.cards.workbench_cards"
