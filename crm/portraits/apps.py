from django.apps import AppConfig


class PortraitsConfig(AppConfig):
    name = "crm.portraits"
    label = "portraits"
    verbose_name = "客户描摹"
