"""The order's lifecycle: every (status, message) pair, handled by the shop on the real database.

The grid below is the lifecycle as a customer and an operator see it. Each pair is sent
through the shop's consumer: a move the table allows happens and emits its messages; any
other pair leaves the order as it was, emits nothing (but the answer to a refused
CancelOrder) and is logged naming the message, never raised.
"""

import logging
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from messaging import registry
from messaging.inbox import Outcome, handle_record
from messaging.metadata import Metadata
from messaging.models import OutboxMessage
from messaging.wire import RawRecord, encode
from shop import lifecycle
from shop.contracts import CancelOrder
from shop.models import Order, OrderLine
from tests.factories import CUSTOMER
from warehouse.contracts import (
    DispatchCancellationRefused,
    DispatchCancelled,
    DispatchRejected,
    OrderDispatched,
    ReservedLine,
    Shortage,
    StockReserved,
    StockUnavailable,
)

# A status: the move is allowed and goes there. "race": refused, logged at INFO (normal
# life between independent apps). "bug": refused, logged at WARNING.
GRID = """
            StockReserved StockUnavailable CancelOrder DispatchRejected DispatchCancelled OrderDispatched DispatchCancellationRefused
placed      confirmed     cancelled        cancelled   bug              bug               bug             bug
confirmed   bug           bug              cancelling  cancelled        bug               dispatched      bug
cancelling  bug           bug              race        cancelled        cancelled         dispatched      bug
dispatched  bug           bug              race        bug              bug               bug             dispatched
cancelled   race          race             race        bug              race              bug             bug
"""  # noqa: E501


def grid() -> dict[tuple[str, str], str]:
    header, *rows = GRID.strip().splitlines()
    triggers = header.split()
    return {
        (status, trigger): cell
        for status, *cells in (row.split() for row in rows)
        for trigger, cell in zip(triggers, cells, strict=True)
    }


GRID_CELLS = grid()

# What each allowed move emits, in order.
EMITS = {
    ("placed", "StockReserved"): ["shop.OrderConfirmed", "warehouse.DispatchOrder"],
    ("placed", "StockUnavailable"): ["shop.OrderCancelled"],
    ("placed", "CancelOrder"): ["shop.OrderCancelled"],
    ("confirmed", "CancelOrder"): ["warehouse.CancelDispatch"],
    ("confirmed", "DispatchRejected"): ["shop.OrderCancelled"],
    ("confirmed", "OrderDispatched"): [],
    ("cancelling", "DispatchRejected"): ["shop.OrderCancelled"],
    ("cancelling", "DispatchCancelled"): ["shop.OrderCancelled"],
    ("cancelling", "OrderDispatched"): [],
    # The customer's CancelOrder is refused after all, answered as the shop's own refusals.
    ("dispatched", "DispatchCancellationRefused"): ["shop.OrderCancellationRefused"],
}


def test_the_lifecycle_table_is_the_grid():
    table = {
        (status.value, trigger.__name__): to.value
        for (status, trigger), to in lifecycle.TRANSITIONS.items()
    }
    races = {(status.value, trigger.__name__) for status, trigger in lifecycle.RACES}

    assert {pair for pair, cell in GRID_CELLS.items() if cell not in ("race", "bug")} == set(table)
    assert all(GRID_CELLS[pair] == to for pair, to in table.items())
    assert races == {pair for pair, cell in GRID_CELLS.items() if cell == "race"}
    assert {t.__name__ for t in lifecycle.TRIGGERS} == {t for _, t in GRID_CELLS}
    assert set(EMITS) == set(table)


def test_cancellable_and_settled_come_from_the_table():
    assert Order.CANCELLABLE == (Order.Status.PLACED, Order.Status.CONFIRMED)
    assert Order.SETTLED == (Order.Status.DISPATCHED, Order.Status.CANCELLED)


def an_order(status: str) -> Order:
    order = Order.objects.create(
        correlation_id=uuid.uuid4(),
        status=status,
        # A cancelling order asked the warehouse to stop the parcel; a dispatched one may
        # have (a DispatchCancellationRefused is its answer, tests/shop has one without).
        cancel_dispatch_pending=status in ("cancelling", "dispatched"),
        status_reason="as it was",
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        phone=CUSTOMER.phone,
        address=CUSTOMER.address,
        total=Decimal("28.00"),
        placed_at=timezone.now(),
    )
    OrderLine.objects.create(
        order=order, sku="MUG-001", name="Mug", unit_price=Decimal("14.00"), quantity=2
    )
    return order


def message(trigger: str, order_id: uuid.UUID):
    return {
        "StockReserved": lambda: StockReserved(
            order_id=order_id, lines=(ReservedLine(sku="MUG-001", quantity=2),)
        ),
        "StockUnavailable": lambda: StockUnavailable(
            order_id=order_id, shortages=(Shortage(sku="MUG-001", requested=2, available=1),)
        ),
        "CancelOrder": lambda: CancelOrder(order_id=order_id),
        "DispatchRejected": lambda: DispatchRejected(
            order_id=order_id, reason="Our carrier cannot deliver to a PO box"
        ),
        "DispatchCancelled": lambda: DispatchCancelled(order_id=order_id, reason="at your request"),
        "OrderDispatched": lambda: OrderDispatched(
            order_id=order_id, carrier="Parcel Post", tracking_number="PP0000000042"
        ),
        "DispatchCancellationRefused": lambda: DispatchCancellationRefused(
            order_id=order_id, reason="Already dispatched with Parcel Post"
        ),
    }[trigger]()


def shop_handles(order: Order, trigger: str) -> Metadata:
    """The shop's consumer handles `trigger` about the order, as Kafka would deliver it."""
    sent = message(trigger, order.id)
    metadata = Metadata.for_message(sent, correlation_id=order.correlation_id)
    wire = encode(sent.topic, metadata, sent.model_dump(mode="json"))
    record = RawRecord(wire.topic, 0, 0, wire.key, wire.value, wire.headers)
    # A refusal must not raise: a raising handler is retried, then dead-lettered.
    assert handle_record(registry.group("shop"), record) == Outcome.HANDLED
    return metadata


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "trigger"), list(GRID_CELLS), ids=[f"{s}-{t}" for s, t in GRID_CELLS]
)
def test_every_pair(status, trigger, caplog):
    order = an_order(status)
    row_before = Order.objects.values().get(id=order.id)
    expected = GRID_CELLS[status, trigger]

    with caplog.at_level(logging.INFO, logger="shop.lifecycle"):
        cause = shop_handles(order, trigger)

    after = Order.objects.get(id=order.id)
    emitted = list(OutboxMessage.objects.order_by("id").values_list("type", flat=True))
    refusals = [r for r in caplog.records if r.name == "shop.lifecycle"]
    if expected in ("race", "bug"):
        # A refused CancelOrder is answered, and the answer kept for the customer to read.
        answer = {"cancellation_refusal", "updated_at"} if trigger == "CancelOrder" else set()
        row_after = Order.objects.values().get(id=order.id)
        assert {k: v for k, v in row_after.items() if k not in answer} == {
            k: v for k, v in row_before.items() if k not in answer
        }
        assert bool(after.cancellation_refusal) == (trigger == "CancelOrder")
        assert emitted == (["shop.OrderCancellationRefused"] if trigger == "CancelOrder" else [])
        [logged] = refusals
        assert logged.levelno == (logging.INFO if expected == "race" else logging.WARNING)
        said = logged.getMessage()
        assert str(order.id) in said and cause.type in said and str(cause.message_id) in said
    else:
        assert after.status == expected
        assert emitted == EMITS[status, trigger]
        assert not refusals
    assert all(
        row.causation_id == cause.message_id and row.correlation_id == order.correlation_id
        for row in OutboxMessage.objects.all()
    )


@pytest.mark.django_db
def test_the_dispatch_is_recorded_with_its_tracking_number():
    order = an_order(Order.Status.CANCELLING)

    shop_handles(order, "OrderDispatched")

    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (
        Order.Status.DISPATCHED,
        "Parcel Post",
        "PP0000000042",
    )
    assert order.status_reason == ""  # no longer "as it was": the cancellation is moot
