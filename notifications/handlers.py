"""How the notifications app reacts to the order's events."""

from config.money import format_money
from messaging.metadata import Metadata
from shop.contracts import CustomerErased, OrderCancelled, OrderConfirmed, OrderPlaced
from warehouse.contracts import OrderDispatched

from . import messages, services
from .contracts import SendEmail, SendText


def _ref(order_id) -> str:
    return str(order_id)[:8].upper()


def tell_order_received(event: OrderPlaced, metadata: Metadata) -> None:
    customer = event.customer
    recipient = services.recipient_record(
        order_id=event.order_id, name=customer.name, email=customer.email, phone=customer.phone
    )
    wording = messages.received(
        customer.name, _ref(event.order_id), format_money(event.total.amount, event.total.currency)
    )
    services.notify(
        order_id=event.order_id,
        kind="received",
        wording=wording,
        caused_by=metadata,
        recipient=recipient,
    )


def tell_order_confirmed(event: OrderConfirmed, metadata: Metadata) -> None:
    recipient = services.recipient_get(order_id=event.order_id)
    wording = messages.confirmed(recipient.name, _ref(event.order_id))
    services.notify(
        order_id=event.order_id,
        kind="confirmed",
        wording=wording,
        caused_by=metadata,
        recipient=recipient,
    )


def tell_order_cancelled(event: OrderCancelled, metadata: Metadata) -> None:
    recipient = services.recipient_get(order_id=event.order_id)
    wording = messages.cancelled(recipient.name, _ref(event.order_id), event.reason)
    services.notify(
        order_id=event.order_id,
        kind="cancelled",
        wording=wording,
        caused_by=metadata,
        recipient=recipient,
    )


def tell_order_dispatched(event: OrderDispatched, metadata: Metadata) -> None:
    recipient = services.recipient_get(order_id=event.order_id)
    wording = messages.dispatched(
        recipient.name, _ref(event.order_id), event.carrier, event.tracking_number
    )
    services.notify(
        order_id=event.order_id,
        kind="dispatched",
        wording=wording,
        caused_by=metadata,
        recipient=recipient,
    )


def erase_customer(event: CustomerErased, metadata: Metadata) -> None:
    services.customer_erase(order_id=event.order_id)


def send_email(command: SendEmail, metadata: Metadata) -> None:
    services.send_requested(
        order_id=command.order_id,
        channel="email",
        to=command.to,
        subject=command.subject,
        body=command.body,
        caused_by=metadata,
    )


def send_text(command: SendText, metadata: Metadata) -> None:
    services.send_requested(
        order_id=command.order_id,
        channel="text",
        to=command.to,
        subject="",
        body=command.body,
        caused_by=metadata,
    )


COMMAND_HANDLERS = {
    SendEmail: send_email,
    SendText: send_text,
}
EVENT_HANDLERS = {
    OrderPlaced: [tell_order_received],
    OrderConfirmed: [tell_order_confirmed],
    OrderDispatched: [tell_order_dispatched],
    OrderCancelled: [tell_order_cancelled],
    CustomerErased: [erase_customer],
}
