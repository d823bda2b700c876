from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        from messaging import retention

        from .retention import IDEMPOTENCY_KEYS

        retention.register(IDEMPOTENCY_KEYS)
