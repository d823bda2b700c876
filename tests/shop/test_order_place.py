"""PlaceOrder: the shop creates the order at the catalog's names and prices, or rejects it."""

import uuid
from decimal import Decimal

import pytest

from messaging.metadata import Metadata
from shop import services
from shop.contracts import PlaceOrder, RequestedLine
from shop.models import Order, OrderLine
from tests.factories import CUSTOMER, product
from tests.shop.orders import sent

pytestmark = pytest.mark.django_db


def place_order(*lines: tuple[str, int], account_id: int | None = None) -> PlaceOrder:
    return PlaceOrder(
        order_id=uuid.uuid4(),
        customer=CUSTOMER,
        lines=tuple(RequestedLine(sku=sku, quantity=qty) for sku, qty in lines),
        account_id=account_id,
    )


def test_the_order_is_created_as_the_catalog_had_it_and_announced():
    product("MUG-001", price="14.00")
    product("KTL-002", price="30.50")
    command = place_order(("MUG-001", 2), ("KTL-002", 1))
    cause = Metadata.for_message(command)  # the BUY's command starts the conversation

    returned = services.order_place(command=command, caused_by=cause)

    order = Order.objects.get(id=command.order_id)
    assert returned == order
    assert (order.status, order.correlation_id, order.total, order.account_id) == (
        Order.Status.PLACED,
        cause.correlation_id,
        Decimal("58.50"),
        None,
    )
    assert (order.customer_name, order.email, order.phone, order.address) == (
        CUSTOMER.name,
        CUSTOMER.email,
        CUSTOMER.phone,
        CUSTOMER.address,
    )
    assert list(
        order.lines.order_by("sku").values_list("sku", "name", "unit_price", "quantity")
    ) == [
        ("KTL-002", "Product KTL-002", Decimal("30.50"), 1),
        ("MUG-001", "Product MUG-001", Decimal("14.00"), 2),
    ]
    [placed] = sent()
    assert (placed.type, placed.kind, placed.topic, placed.key) == (
        "shop.OrderPlaced",
        "event",
        "orders",
        str(order.id),
    )
    assert (placed.correlation_id, placed.causation_id) == (cause.correlation_id, cause.message_id)
    # Every amount with its currency (OrderPlaced version 2), the shop's: SHOP_CURRENCY.
    euros = {"currency": "EUR"}
    assert placed.payload["lines"] == [
        {
            "sku": "MUG-001",
            "name": "Product MUG-001",
            "quantity": 2,
            "unit_price": {"amount": "14.00", **euros},
        },
        {
            "sku": "KTL-002",
            "name": "Product KTL-002",
            "quantity": 1,
            "unit_price": {"amount": "30.50", **euros},
        },
    ]
    assert placed.payload["customer"] == CUSTOMER.model_dump()
    assert placed.payload["total"] == {"amount": "58.50", **euros}
    assert (placed.version, order.currency) == (2, "EUR")


def test_the_signed_in_account_is_kept_for_my_orders(django_user_model):
    product("MUG-001")
    ada = django_user_model.objects.create_user("ada")
    command = place_order(("MUG-001", 1), account_id=ada.id)

    services.order_place(command=command, caused_by=Metadata.for_message(command))

    assert Order.objects.get(id=command.order_id).account_id == ada.id


def test_a_product_no_longer_for_sale_rejects_the_request_and_creates_nothing():
    product("MUG-001")
    product("OLD-002", active=False)
    product("ANCIENT-004", active=False)
    command = place_order(("OLD-002", 1), ("MUG-001", 1), ("GHOST-003", 1), ("ANCIENT-004", 1))
    cause = Metadata.for_message(command)

    assert services.order_place(command=command, caused_by=cause) is None

    assert not Order.objects.exists() and not OrderLine.objects.exists()
    [rejected] = sent()
    assert (rejected.type, rejected.key) == ("shop.OrderRejected", str(command.order_id))
    assert rejected.payload == {
        "order_id": str(command.order_id),
        "reason": "No longer for sale: ANCIENT-004, GHOST-003, OLD-002",
    }
    assert (rejected.correlation_id, rejected.causation_id) == (
        cause.correlation_id,
        cause.message_id,
    )


def test_an_order_is_placed_once():
    product("MUG-001")
    command = place_order(("MUG-001", 1))

    first = services.order_place(command=command, caused_by=Metadata.for_message(command))
    again = services.order_place(command=command, caused_by=Metadata.for_message(command))

    assert again == first
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 1
    assert [m.type for m in sent()] == ["shop.OrderPlaced"]
