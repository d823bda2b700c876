"""A stream of orders bought through the storefront, with every outcome in the mix.

Most orders ship; some ask for a product that runs out (StockUnavailable: cancelled), some
go to a PO box the carrier refuses (DispatchRejected: cancelled after reserving), and a
few are cancelled by the customer while packing. Choices come from a seeded generator,
so a failing run can be replayed order for order.
"""

import random
import uuid
from dataclasses import dataclass, field

from django.test import Client

from shop.models import Order
from tests.factories import product

# sku: (price, stock). The scarce one runs out part-way through a stream of 200.
CATALOG = {
    "FLT-MUG": ("14.00", 10_000),
    "FLT-TEE": ("22.50", 10_000),
    "FLT-PEN": ("3.20", 10_000),
    "FLT-LAMP": ("89.99", 40),
}
ADDRESS = "1 Compiler Way, Arlington"
PO_BOX = "PO Box 42, Arlington"


def stock_catalog() -> dict[str, int]:
    """Put the catalog on sale; returns the stock each SKU starts with."""
    for sku, (price, stock) in CATALOG.items():
        product(sku, price=price, stock=stock)
    return {sku: stock for sku, (_, stock) in CATALOG.items()}


@dataclass
class Stream:
    seed: str
    placed: list[uuid.UUID] = field(default_factory=list)
    cancel_requests: int = 0

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        # Each order is another customer's, bought from a browser of its own (a browser
        # remembers only its latest orders), which is also the one that cancels it.
        self.browsers: dict[uuid.UUID, Client] = {}

    def place(self, count: int) -> list[uuid.UUID]:
        """BUY `count` times; every one must be accepted (whatever Kafka is doing)."""
        return [self._buy() for _ in range(count)]

    def _buy(self) -> uuid.UUID:
        sku = self.random.choices(list(CATALOG), weights=[30, 30, 25, 15])[0]
        return self.buy(sku, address=PO_BOX if self.random.random() < 0.08 else ADDRESS)

    def buy(self, sku: str, *, address: str = ADDRESS) -> uuid.UUID:
        """One BUY of `sku`, as the storefront's form sends it."""
        form = {
            "quantity": str(self.random.randint(1, 3)),
            "name": f"Customer {len(self.placed)}",
            "email": f"customer{len(self.placed)}@example.com",
            "phone": "+1 555 0100",
            "address": address,
        }
        browser = Client()
        response = browser.post(f"/products/{sku.lower()}/buy/", form)
        assert response.status_code == 302, response.content[:500]
        order_id = uuid.UUID(response["Location"].rstrip("/").rsplit("/", 1)[-1])
        self.placed.append(order_id)
        self.browsers[order_id] = browser
        return order_id

    def cancel_some(self, count: int) -> int:
        """The customer's Cancel on up to `count` orders that can still be cancelled."""
        cancellable = list(
            Order.objects.filter(id__in=self.placed, status__in=Order.CANCELLABLE).values_list(
                "id", flat=True
            )
        )
        chosen = self.random.sample(cancellable, min(count, len(cancellable)))
        for order_id in chosen:
            response = self.browsers[order_id].post(f"/orders/{order_id}/cancel/")
            assert response.status_code == 302
        self.cancel_requests += len(chosen)
        return len(chosen)
