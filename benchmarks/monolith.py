"""Baseline (a): the same business logic as a synchronous monolith, inside one transaction.

The apps' own services are called in-process, in the order the conversation runs them
through Kafka, with no consumer, no relay and no task in between. They still write their
outbox rows (that is part of their logic); the benchmark stamps those rows published
afterwards, so no relay ever sends them.

`scope="first"` stops after the reactions to OrderPlaced (order, stock, sale, "received"
email and text); `scope="whole"` goes on to confirm, dispatch and tell the customer each
time, which is the work the pipeline does before an order's last reaction.
"""

import uuid

from django.db import transaction

from config.money import format_money
from messaging.metadata import Metadata
from notifications import delivery, messages
from notifications import services as notifications
from sales import services as sales
from shop import services as shop
from shop.contracts import Customer, Money, OrderLine, PlaceOrder, RequestedLine
from warehouse import services as warehouse


@transaction.atomic
def buy_and_fulfil(*, customer: Customer, sku: str, quantity: int, scope: str) -> uuid.UUID:
    command = PlaceOrder(
        order_id=uuid.uuid4(),
        customer=customer,
        lines=(RequestedLine(sku=sku, quantity=quantity),),
    )
    cause = Metadata.for_message(command, correlation_id=uuid.uuid4())
    order = shop.order_place(command=command, caused_by=cause)
    lines = [
        OrderLine(
            sku=ln.sku,
            name=ln.name,
            quantity=ln.quantity,
            unit_price=Money(amount=ln.unit_price, currency=order.currency),
        )
        for ln in order.lines.all()
    ]
    warehouse.stock_reserve(
        order_id=order.id, lines=[(ln.sku, ln.quantity) for ln in lines], caused_by=cause
    )
    sales.sale_record(
        order_id=order.id,
        placed_at=order.placed_at,
        lines=[ln.model_dump(mode="json") for ln in lines],
    )
    notifications.recipient_record(
        order_id=order.id, name=customer.name, email=customer.email, phone=customer.phone
    )
    ref = str(order.id)[:8].upper()
    _tell(
        order.id,
        "received",
        messages.received(customer.name, ref, format_money(order.total, order.currency)),
        cause,
    )
    if scope == "first":
        return order.id
    shop.order_confirm(order_id=order.id, caused_by=cause)
    _tell(order.id, "confirmed", messages.confirmed(customer.name, ref), cause)
    warehouse.dispatch_request(
        order_id=order.id, recipient=customer.name, address=customer.address, caused_by=cause
    )
    shipped = warehouse.dispatch_ship(order_id=order.id)
    shop.order_mark_dispatched(
        order_id=order.id,
        carrier=shipped.carrier,
        tracking_number=shipped.tracking_number,
        caused_by=cause,
    )
    wording = messages.dispatched(customer.name, ref, shipped.carrier, shipped.tracking_number)
    _tell(order.id, "dispatched", wording, cause)
    return order.id


def _tell(order_id: uuid.UUID, kind: str, wording, cause: Metadata) -> None:
    for notification in notifications.notify(
        order_id=order_id, kind=kind, wording=wording, caused_by=cause
    ):
        delivery.notification_deliver(notification_id=notification.id)
