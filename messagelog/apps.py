from django.apps import AppConfig


class MessageLogConfig(AppConfig):
    name = "messagelog"
    verbose_name = "Message log"

    def ready(self) -> None:
        from messaging import registry, retention

        from . import audit
        from .retention import MESSAGE_LOG

        registry.register_record_processor(
            audit.AUDIT_GROUP, audit.record_batch, recorded=audit.recorded
        )
        retention.register(MESSAGE_LOG)
