"""Steps shared by the end-to-end tests: buying over HTTP and reading where an order stands."""

import uuid

from messaging.models import InboxEntry
from shop.models import Order
from tests.e2e.browserless import HttpSession

CUSTOMER = {
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "phone": "+1 555 0100",
    "address": "1 Compiler Way, Arlington",
}


def buy(
    live_server, sku: str, quantity: int, session: HttpSession | None = None, **customer
) -> uuid.UUID:
    slug = sku.lower()
    session = session or HttpSession(live_server.url)
    response = session.post_form(
        f"/products/{slug}/buy/",
        f"/products/{slug}/",
        {"quantity": str(quantity), **CUSTOMER, **customer},
    )
    assert response.status == 302, response.body
    order_id = uuid.UUID(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    page = session.get(f"/orders/{order_id}/")
    assert page.status == 200 and "PlaceOrder" in page.body
    return order_id


def handled_by(order_id: uuid.UUID) -> set[tuple[str, str]]:
    correlation = Order.objects.filter(id=order_id).values_list("correlation_id", flat=True)
    return set(
        InboxEntry.objects.filter(correlation_id__in=correlation).values_list("group", "type")
    )


def settled(order_id: uuid.UUID) -> Order | None:
    """The order once it is dispatched or cancelled, else None."""
    return Order.objects.filter(id=order_id, status__in=Order.SETTLED).first()
