"""The shop's contracts: one line per product, for every entrypoint; refusals are marked."""

import uuid

import pytest
from pydantic import ValidationError

from messaging.contracts import message_role
from messaging.models import OutboxMessage
from shop import services
from shop.contracts import OrderLine, OrderPlaced, PlaceOrder, RequestedLine
from tests.factories import CUSTOMER, euros

MUG, KETTLE = "MUG-001", "KTL-002"


def requested(*skus: str) -> tuple[RequestedLine, ...]:
    return tuple(RequestedLine(sku=sku, quantity=20) for sku in skus)


def test_place_order_names_each_product_on_one_line():
    with pytest.raises(ValidationError) as refused:
        PlaceOrder(order_id=uuid.uuid4(), customer=CUSTOMER, lines=requested(MUG, KETTLE, MUG))

    [error] = refused.value.errors()
    assert error["loc"] == ("lines",)
    assert error["msg"] == (
        "Each product goes on one line, with its whole quantity; on more than one: MUG-001"
    )
    assert error["ctx"]["lines"] == (2,)  # which line repeats, for entrypoints to point at


def test_order_placed_names_each_product_on_one_line():
    line = OrderLine(sku=MUG, name="Mug", quantity=1, unit_price=euros("14.00"))

    with pytest.raises(ValidationError, match="on more than one: MUG-001"):
        OrderPlaced(
            order_id=uuid.uuid4(),
            customer=CUSTOMER,
            lines=(line, line),
            total=euros("28.00"),
            placed_at="2026-11-24T10:00:00Z",
        )


def test_different_products_on_many_lines_are_an_order():
    command = PlaceOrder(order_id=uuid.uuid4(), customer=CUSTOMER, lines=requested(MUG, KETTLE))

    assert [line.sku for line in command.lines] == [MUG, KETTLE]


@pytest.mark.django_db
def test_no_entrypoint_can_send_a_product_on_two_lines():
    with pytest.raises(ValidationError):
        services.order_request(customer=CUSTOMER, lines=list(requested(MUG, MUG)))

    assert not OutboxMessage.objects.exists()


def test_a_refused_cancellation_is_a_rejection_and_a_shortage_a_plain_fact():
    assert message_role("shop.OrderCancellationRefused") == "rejection"
    # StockUnavailable answers an event (OrderPlaced), and events are never rejected; the
    # shop's OrderCancelled is the compensation the message log marks.
    assert message_role("warehouse.StockUnavailable") == ""
