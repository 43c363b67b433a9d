from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "crm.kpis"
    label = "kpis"
    verbose_name = "指标看板"
    # The cards this app adds to the workbench (crm.core.cards).
    workbench_cards = "crm.kpis.cards.workbench_cards"
