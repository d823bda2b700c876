from django.apps import AppConfig


class WarehouseConfig(AppConfig):
    name = "warehouse"
    verbose_name = "Warehouse"

    def ready(self) -> None:
        from messaging import registry

        from . import handlers

        registry.register(
            "warehouse", commands=handlers.COMMAND_HANDLERS, events=handlers.EVENT_HANDLERS
        )
