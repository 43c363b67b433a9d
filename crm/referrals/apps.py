"""Referrals (老客户带新客户): who brought whom, the status that follows the new customer's deal, rewards with approval."""

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "crm.referrals"
    label = "referrals"
    verbose_name = "老带新"
    # The cards this app adds to the workbench (crm.core.cards).
    workbench_cards = "crm.referrals.cards.workbench_cards"

    def ready(self) -> None:
        from crm.customers.signals import referrer_changed
        from crm.referrals.receivers import on_referrer_changed

        referrer_changed.connect(on_referrer_changed, dispatch_uid="referrals_sync")
