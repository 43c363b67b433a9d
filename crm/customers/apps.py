from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "crm.customers"
    label = "customers"
    verbose_name = "客户"
    # The cards this app adds to the workbench (crm.core.cards).
    workbench_cards = "crm.customers.cards.workbench_cards"
