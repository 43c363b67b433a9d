from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "crm.referrals"
    label = "referrals"
    verbose_name = "老带新"
