from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "crm.care"
    label = "care"
    verbose_name = "温馨速递"
