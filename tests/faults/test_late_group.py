"""A consumer group that joins after the orders: loyalty, started late, reads the history.

Loyalty's group has never committed an offset, so it starts from the beginning of the
`orders` topic: customers who ordered before it ran get their points, and the points of
the orders cancelled meanwhile are taken back. Nothing else is restarted or replayed.
"""

import math
import uuid
from collections import Counter

import pytest
from django.test import Client

from loyalty import selectors
from loyalty.models import Award
from shop.models import Order
from tests.faults import offsets
from tests.faults.stream import ADDRESS

pytestmark = pytest.mark.faults

WORKER = "worker-loyalty"
REGULAR = "regular@example.com"  # one customer with several orders: a balance adds up


def buy_as(shop, browser: Client, email: str, sku: str, quantity: int):
    form = {"quantity": str(quantity), "name": "Regular", "email": email,
            "phone": "+1 555 0100", "address": ADDRESS}  # fmt: skip
    response = browser.post(f"/products/{sku.lower()}/buy/", form)
    assert response.status_code == 302, response.content[:500]
    order_id = uuid.UUID(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    shop.stream.placed.append(order_id)
    shop.stream.browsers[order_id] = browser
    return order_id


def test_loyalty_started_after_the_orders_awards_what_they_imply(shop):
    shop.stack.start_all(without=[WORKER])
    shop.stream.place(30)
    browser = Client()  # the regular customer's
    regular = [
        buy_as(shop, browser, REGULAR, sku, n) for sku, n in (("FLT-TEE", 2), ("FLT-PEN", 3))
    ]
    regular.append(buy_as(shop, browser, REGULAR, "FLT-MUG", 1))
    shop.wait(lambda: Order.objects.count() == 33, what="the shop to place every order")
    # The regular customer's last order, and some others, are cancelled before loyalty runs.
    cancelled = browser.post(f"/orders/{regular[-1]}/cancel/")
    assert cancelled.status_code == 302
    shop.stream.cancel_some(4)
    shop.wait(
        lambda: not Order.objects.exclude(status__in=Order.SETTLED).exists(),
        what="every order to be dispatched or cancelled without loyalty",
        timeout=120,
    )
    assert Order.objects.get(id=regular[-1]).status == Order.Status.CANCELLED
    # Loyalty has not run: no award, no handling, no offset committed for its group.
    assert not Award.objects.exists() and shop.handled("loyalty") == 0
    assert set(offsets.committed("loyalty").values()) <= {-1}

    shop.stack.start(WORKER)
    exercised = shop.settle()  # its invariants include each order's points (points_match_orders)

    orders = list(Order.objects.all())
    kept = Counter()
    for order in orders:
        if order.status != Order.Status.CANCELLED:
            kept[order.email] += math.floor(order.total)
    assert {order.email: selectors.balance(email=order.email) for order in orders} == {
        order.email: kept[order.email] for order in orders
    }
    regular_orders = Order.objects.filter(id__in=regular)
    assert selectors.balance(email=REGULAR) == sum(
        math.floor(o.total) for o in regular_orders if o.status != Order.Status.CANCELLED
    )
    assert sorted(a.order_id for a in selectors.awards(email=REGULAR) if a.cancelled) == sorted(
        o.id for o in regular_orders if o.status == Order.Status.CANCELLED
    )
    shop.report(
        "a consumer group started after the orders reads the history",
        exercised,
        **{
            "orders placed before loyalty ran": len(orders),
            "of those cancelled before it ran": sum(
                o.status == Order.Status.CANCELLED for o in orders
            ),
            "points awarded and kept": sum(kept.values()),
        },
    )
