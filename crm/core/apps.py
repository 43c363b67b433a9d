from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "crm.core"
    label = "core"
    verbose_name = "基础"
    # The cards this app adds to the workbench (crm.core.cards).
    workbench_cards = "crm.core.cards.workbench_cards"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from crm.core.models import CalendarDay, CalendarYear

        # The cached work calendar follows its rows whichever path writes them (the
        # services, the admin, a shell): not business flow, so a signal (crm.core.calendar).
        for model in (CalendarDay, CalendarYear):
            post_save.connect(_calendar_rows_changed, sender=model, dispatch_uid=f"work-calendar-save-{model.__name__}")
            post_delete.connect(
                _calendar_rows_changed, sender=model, dispatch_uid=f"work-calendar-delete-{model.__name__}"
            )


def _calendar_rows_changed(**kwargs: object) -> None:
    from crm.core.calendar import calendar_changed

    calendar_changed()
