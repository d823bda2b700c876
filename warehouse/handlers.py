"""How the warehouse reacts to messages."""

from messaging.metadata import Metadata
from shop.contracts import OrderCancelled, OrderPlaced

from . import services


def reserve_stock(event: OrderPlaced, metadata: Metadata) -> None:
    services.stock_reserve(
        order_id=event.order_id,
        lines=[(line.sku, line.quantity) for line in event.lines],
        caused_by=metadata,
    )


def release_stock(event: OrderCancelled, metadata: Metadata) -> None:
    services.stock_release(order_id=event.order_id, caused_by=metadata)


COMMAND_HANDLERS: dict = {}
EVENT_HANDLERS = {
    OrderPlaced: [reserve_stock],
    OrderCancelled: [release_stock],
}
