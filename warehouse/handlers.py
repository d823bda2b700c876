"""How the warehouse reacts to messages."""

from messaging.metadata import Metadata
from shop.contracts import CustomerErased, OrderCancelled, OrderPlaced

from . import services
from .contracts import CancelDispatch, DispatchOrder


def reserve_stock(event: OrderPlaced, metadata: Metadata) -> None:
    services.stock_reserve(
        order_id=event.order_id,
        lines=[(line.sku, line.quantity) for line in event.lines],
        caused_by=metadata,
    )


def release_stock(event: OrderCancelled, metadata: Metadata) -> None:
    services.stock_release(order_id=event.order_id, caused_by=metadata)


def erase_customer(event: CustomerErased, metadata: Metadata) -> None:
    services.customer_erase(order_id=event.order_id)


def dispatch_order(command: DispatchOrder, metadata: Metadata) -> None:
    services.dispatch_request(
        order_id=command.order_id,
        recipient=command.recipient,
        address=command.address,
        caused_by=metadata,
    )


def cancel_dispatch(command: CancelDispatch, metadata: Metadata) -> None:
    services.dispatch_cancel(order_id=command.order_id, reason=command.reason, caused_by=metadata)


COMMAND_HANDLERS = {
    DispatchOrder: dispatch_order,
    CancelDispatch: cancel_dispatch,
}
EVENT_HANDLERS = {
    OrderPlaced: [reserve_stock],
    OrderCancelled: [release_stock],
    CustomerErased: [erase_customer],
}
