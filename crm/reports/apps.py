from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "crm.reports"
    label = "reports"
    verbose_name = "报告"
    workbench_cards = "crm.reports.cards.workbench_cards"

    def ready(self) -> None:
        from crm.privacy.erasure import register_eraser
        from crm.reports.erasure import erase_from_packs

        # The erasure (crm.privacy, a layer below, which cannot import this app) rewrites
        # the report snapshots through this eraser.
        register_eraser("reports.reportpack", erase_from_packs)
