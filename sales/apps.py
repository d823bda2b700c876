from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = "Sales"

    def ready(self) -> None:
        from messaging import registry

        from . import handlers

        registry.register(
            "sales", commands=handlers.COMMAND_HANDLERS, events=handlers.EVENT_HANDLERS
        )
