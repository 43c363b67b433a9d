from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "crm.sms"
    label = "sms"
    verbose_name = "短信网关"
