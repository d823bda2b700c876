from django.core.management.base import BaseCommand

from shop.catalog import catalog_load


class Command(BaseCommand):
    help = "Load the demo catalog (products and categories). Safe to run again."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"catalog: {catalog_load()} products")
