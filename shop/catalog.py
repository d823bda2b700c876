"""Loading the demo catalog: the shop keeps what it sells (not what is in stock)."""

import json
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from .models import Category, Product

DEMO_CATALOG = Path(settings.BASE_DIR) / "config" / "demo_catalog.json"


@transaction.atomic
def catalog_load() -> int:
    """Create or update each product of the demo catalog; returns how many."""
    items = json.loads(DEMO_CATALOG.read_text())
    for item in items:
        category, _ = Category.objects.get_or_create(
            slug=slugify(item["category"]), defaults={"name": item["category"]}
        )
        Product.objects.update_or_create(
            sku=item["sku"],
            defaults={
                "slug": slugify(item["name"]),
                "name": item["name"],
                "category": category,
                "description": item["description"],
                "price": Decimal(item["price"]),
                "active": True,
            },
        )
    return len(items)
