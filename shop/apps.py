from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        from messaging import registry

        from . import handlers

        registry.register(
            "shop", commands=handlers.COMMAND_HANDLERS, events=handlers.EVENT_HANDLERS
        )
