from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = "Sales"

    def ready(self) -> None:
        from messaging import registry

        from . import handlers, services

        registry.register(
            "sales", commands=handlers.COMMAND_HANDLERS, events=handlers.EVENT_HANDLERS
        )
        registry.register_projection(
            "sales",
            group="sales",
            events=handlers.EVENT_HANDLERS,
            reset=services.projection_reset,
        )
