from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "crm.privacy"
    label = "privacy"
    verbose_name = "个人信息保护"
    # The card this app adds to the workbench (crm.core.cards): requests due soon.
    workbench_cards = "crm.privacy.cards.workbench_cards"
