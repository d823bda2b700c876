"""Orders as the shop keeps them, in any status, and what the shop sent about them."""

import uuid
from decimal import Decimal

from django.utils import timezone

from messaging.contracts import Message
from messaging.metadata import Metadata
from messaging.models import OutboxMessage
from shop.models import Order, OrderLine
from tests.factories import CUSTOMER

PRICE = Decimal("14.00")


def an_order(
    status: str = Order.Status.PLACED,
    *,
    status_reason: str = "",
    lines: tuple[tuple[str, int], ...] = (("MUG-001", 2),),
) -> Order:
    """An order in `status`, as if its messages had brought it there."""
    order = Order.objects.create(
        correlation_id=uuid.uuid4(),
        status=status,
        status_reason=status_reason,
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        phone=CUSTOMER.phone,
        address=CUSTOMER.address,
        total=sum(PRICE * quantity for _, quantity in lines),
        placed_at=timezone.now(),
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, sku=sku, name=f"Product {sku}", unit_price=PRICE, quantity=qty)
        for sku, qty in lines
    )
    return order


def about(order: Order, message: Message) -> Metadata:
    """`message` as the shop's consumer would receive it, in the order's conversation."""
    return Metadata.for_message(message, correlation_id=order.correlation_id)


def sent() -> list[OutboxMessage]:
    """Everything in the outbox, in the order it was written."""
    return list(OutboxMessage.objects.order_by("id"))


def row(order: Order) -> dict:
    """The order's whole row, to show that nothing about it changed."""
    return Order.objects.values().get(id=order.id)
