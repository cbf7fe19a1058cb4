from django.apps import AppConfig


class PositionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "positions"
    verbose_name = "Positions"

    def ready(self):
        from django.db.models.signals import m2m_changed

        from positions import audit
        from positions.models import Statement, topic_links_added

        audit.connect_signals()
        m2m_changed.connect(
            topic_links_added, sender=Statement.topics.through, dispatch_uid="topic-links-added"
        )
