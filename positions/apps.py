from django.apps import AppConfig


class PositionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "positions"
    verbose_name = "Positions"

    def ready(self):
        from positions import audit

        audit.connect_signals()
