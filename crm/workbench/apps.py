from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "crm.workbench"
    label = "workbench"
    verbose_name = "工作台"
