from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and the `make run` entry point. It stands above every app (it imports them
    all to create their rows) and nothing imports it."""

    name = "crm.demo"
    label = "demo"
    verbose_name = "演示数据"
