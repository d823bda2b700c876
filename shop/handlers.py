"""How the shop reacts to messages: one handler per command, a list per event."""

from messaging.metadata import Metadata
from warehouse.contracts import StockReserved, StockUnavailable

from . import services
from .contracts import PlaceOrder


def place_order(command: PlaceOrder, metadata: Metadata) -> None:
    services.order_place(command=command, caused_by=metadata)


def confirm_order(event: StockReserved, metadata: Metadata) -> None:
    services.order_confirm(order_id=event.order_id, caused_by=metadata)


def cancel_order_for_shortage(event: StockUnavailable, metadata: Metadata) -> None:
    short = ", ".join(
        f"{s.sku} ({s.available} left, {s.requested} wanted)" for s in event.shortages
    )
    services.order_cancel(
        order_id=event.order_id, reason=f"Out of stock: {short}", caused_by=metadata
    )


COMMAND_HANDLERS = {PlaceOrder: place_order}
EVENT_HANDLERS = {
    StockReserved: [confirm_order],
    StockUnavailable: [cancel_order_for_shortage],
}
