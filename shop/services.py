"""The shop's writes: placing, confirming and cancelling orders.

Every service that changes an order records the matching message in the outbox in the
same transaction; the message goes out only if the change commits.
"""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from messaging import outbox
from messaging.metadata import Metadata

from .contracts import (
    Customer,
    OrderCancelled,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    OrderRejected,
    PlaceOrder,
    RequestedLine,
)
from .models import Order, Product
from .models import OrderLine as OrderLineRow


@dataclass(frozen=True)
class OrderRequest:
    order_id: uuid.UUID
    correlation_id: uuid.UUID


@transaction.atomic
def order_request(*, customer: Customer, lines: list[RequestedLine]) -> OrderRequest:
    """BUY: ask the shop, through Kafka, to place an order. Starts a conversation."""
    command = PlaceOrder(order_id=uuid.uuid4(), customer=customer, lines=tuple(lines))
    metadata = outbox.send(command, correlation_id=uuid.uuid4())
    return OrderRequest(order_id=command.order_id, correlation_id=metadata.correlation_id)


@transaction.atomic
def order_place(*, command: PlaceOrder, caused_by: Metadata) -> Order | None:
    """Create the order and announce it, or reject the request if a product is gone."""
    existing = Order.objects.filter(id=command.order_id).first()
    if existing is not None:
        return existing
    skus = [line.sku for line in command.lines]
    products = Product.objects.filter(sku__in=skus, active=True).in_bulk(field_name="sku")
    missing = sorted(set(skus) - set(products))
    if missing:
        reason = f"No longer for sale: {', '.join(missing)}"
        outbox.send(OrderRejected(order_id=command.order_id, reason=reason), caused_by=caused_by)
        return None

    lines = [
        OrderLine(
            sku=line.sku,
            name=products[line.sku].name,
            quantity=line.quantity,
            unit_price=products[line.sku].price,
        )
        for line in command.lines
    ]
    customer = command.customer
    order = Order.objects.create(
        id=command.order_id,
        correlation_id=caused_by.correlation_id,
        customer_name=customer.name,
        email=customer.email,
        phone=customer.phone,
        address=customer.address,
        total=sum(line.unit_price * line.quantity for line in lines),
        placed_at=timezone.now(),
    )
    OrderLineRow.objects.bulk_create(
        OrderLineRow(
            order=order,
            sku=line.sku,
            name=line.name,
            unit_price=line.unit_price,
            quantity=line.quantity,
        )
        for line in lines
    )
    outbox.send(
        OrderPlaced(
            order_id=order.id,
            customer=customer,
            lines=tuple(lines),
            total=order.total,
            placed_at=order.placed_at,
        ),
        caused_by=caused_by,
    )
    return order


@transaction.atomic
def order_confirm(*, order_id: uuid.UUID, caused_by: Metadata) -> Order:
    order = Order.objects.select_for_update().get(id=order_id)
    if order.status == Order.Status.PLACED:
        order.status = Order.Status.CONFIRMED
        order.save(update_fields=["status", "updated_at"])
        outbox.send(OrderConfirmed(order_id=order.id), caused_by=caused_by)
    return order


@transaction.atomic
def order_cancel(*, order_id: uuid.UUID, reason: str, caused_by: Metadata) -> Order:
    order = Order.objects.select_for_update().get(id=order_id)
    if order.status in (Order.Status.PLACED, Order.Status.CONFIRMED):
        order.status = Order.Status.CANCELLED
        order.status_reason = reason
        order.save(update_fields=["status", "status_reason", "updated_at"])
        outbox.send(OrderCancelled(order_id=order.id, reason=reason), caused_by=caused_by)
    return order
