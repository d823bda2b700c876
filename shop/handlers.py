"""How the shop reacts to messages: one handler per command, a list per event.

Which status each message may move an order from, and to, is the lifecycle's table
(lifecycle.py): a message that arrives too late or too early is refused there, not here.
"""

from messaging.metadata import Metadata
from messaging.registry import ProjectionSpec
from warehouse.contracts import (
    DispatchCancellationRefused,
    DispatchCancelled,
    DispatchRejected,
    OrderDispatched,
    StockLevelChanged,
    StockReserved,
    StockUnavailable,
)

from . import services
from .contracts import CancelOrder, PlaceOrder


def place_order(command: PlaceOrder, metadata: Metadata) -> None:
    services.order_place(command=command, caused_by=metadata)


def cancel_order(command: CancelOrder, metadata: Metadata) -> None:
    services.order_cancel_by_customer(command=command, caused_by=metadata)


def confirm_order(event: StockReserved, metadata: Metadata) -> None:
    services.order_confirm(order_id=event.order_id, caused_by=metadata)


def cancel_for_shortage(event: StockUnavailable, metadata: Metadata) -> None:
    services.order_cancel_for_shortage(
        order_id=event.order_id, shortages=event.shortages, caused_by=metadata
    )


def cancel_for_rejected_dispatch(event: DispatchRejected, metadata: Metadata) -> None:
    services.order_cancel_for_rejected_dispatch(
        order_id=event.order_id, reason=event.reason, caused_by=metadata
    )


def cancel_for_stopped_dispatch(event: DispatchCancelled, metadata: Metadata) -> None:
    services.order_cancel_for_stopped_dispatch(
        order_id=event.order_id, reason=event.reason, caused_by=metadata
    )


def mark_dispatched(event: OrderDispatched, metadata: Metadata) -> None:
    services.order_mark_dispatched(
        order_id=event.order_id,
        carrier=event.carrier,
        tracking_number=event.tracking_number,
        caused_by=metadata,
    )


def refuse_cancellation(event: DispatchCancellationRefused, metadata: Metadata) -> None:
    services.order_refuse_cancellation_for_dispatch(
        order_id=event.order_id, reason=event.reason, caused_by=metadata
    )


def track_availability(event: StockLevelChanged, metadata: Metadata) -> None:
    services.availability_record(sku=event.sku, available=event.available)


COMMAND_HANDLERS = {
    PlaceOrder: place_order,
    CancelOrder: cancel_order,
}
EVENT_HANDLERS = {
    StockReserved: [confirm_order],
    StockUnavailable: [cancel_for_shortage],
    DispatchRejected: [cancel_for_rejected_dispatch],
    DispatchCancelled: [cancel_for_stopped_dispatch],
    OrderDispatched: [mark_dispatched],
    DispatchCancellationRefused: [refuse_cancellation],
    StockLevelChanged: [track_availability],
}
# The shop's own view of what can be sold, kept from the warehouse's stock levels.
PROJECTIONS = {
    "availability": ProjectionSpec(events=[StockLevelChanged], reset=services.availability_reset),
}
