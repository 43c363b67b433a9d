from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "crm.training"
    label = "training"
    verbose_name = "培训"
