from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "crm.kpis"
    label = "kpis"
    verbose_name = "指标看板"
