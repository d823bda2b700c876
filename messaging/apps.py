from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from . import audit, registry

        registry.register_record_processor(audit.AUDIT_GROUP, audit.record_batch)
