import json

from django.conf import settings
from django.core.management.base import BaseCommand

from warehouse.models import Stock
from warehouse.services import stock_set


class Command(BaseCommand):
    help = "Put the demo catalog's opening stock on the shelves (only for SKUs not yet stocked)."

    def handle(self, *args, **options) -> None:
        # The catalog file is shared data, not shared code: each app reads its own part.
        items = json.loads((settings.BASE_DIR / "config" / "demo_catalog.json").read_text())

        stocked = set(Stock.objects.values_list("sku", flat=True))
        new = [item for item in items if item["sku"] not in stocked]
        for item in new:
            stock_set(sku=item["sku"], on_hand=item["stock"])
        self.stdout.write(f"stock: {len(new)} SKUs stocked, {len(stocked)} kept as they were")
