from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from messaging import registry

        from . import handlers

        registry.register(
            "notifications", commands=handlers.COMMAND_HANDLERS, events=handlers.EVENT_HANDLERS
        )
