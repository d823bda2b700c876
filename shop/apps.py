from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        from messaging import registry
        from warehouse.contracts import StockLevelChanged

        from . import handlers, services

        registry.register(
            "shop", commands=handlers.COMMAND_HANDLERS, events=handlers.EVENT_HANDLERS
        )
        registry.register_projection(
            "availability",
            group="shop",
            events=[StockLevelChanged],
            reset=services.availability_reset,
        )
