"""BUY: the storefront asks the shop, through Kafka, to place an order."""

import pytest

from shop import services
from shop.contracts import RequestedLine
from shop.models import Order
from tests.factories import CUSTOMER
from tests.shop.orders import sent

pytestmark = pytest.mark.django_db


def test_a_request_starts_a_conversation_with_one_place_order():
    request = services.order_request(
        customer=CUSTOMER, lines=[RequestedLine(sku="MUG-001", quantity=2)], account_id=None
    )

    [command] = sent()
    assert (command.type, command.kind, command.topic, command.key) == (
        "shop.PlaceOrder",
        "command",
        "shop.commands",
        str(request.order_id),
    )
    assert (command.correlation_id, command.causation_id) == (request.correlation_id, None)
    assert command.payload == {
        "order_id": str(request.order_id),
        "customer": CUSTOMER.model_dump(),
        "lines": [{"sku": "MUG-001", "quantity": 2}],
        "account_id": None,
    }
    assert not Order.objects.exists()  # the shop creates it when it handles the command


def test_every_request_is_a_new_order_in_a_conversation_of_its_own():
    lines = [RequestedLine(sku="MUG-001", quantity=1)]

    first = services.order_request(customer=CUSTOMER, lines=lines)
    second = services.order_request(customer=CUSTOMER, lines=lines)

    assert first.order_id != second.order_id
    assert first.correlation_id != second.correlation_id
    assert [(m.key, m.correlation_id) for m in sent()] == [
        (str(first.order_id), first.correlation_id),
        (str(second.order_id), second.correlation_id),
    ]
