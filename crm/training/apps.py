from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "crm.training"
    label = "training"
    verbose_name = "培训"
    # The cards this app adds to the workbench (crm.core.cards).
    workbench_cards = "crm.training.cards.workbench_cards"
