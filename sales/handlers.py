"""How sales reacts to the order's events. Sales publishes nothing."""

from messaging.metadata import Metadata
from messaging.registry import ProjectionSpec
from shop.contracts import OrderCancelled, OrderPlaced

from . import services


def record_sale(event: OrderPlaced, metadata: Metadata) -> None:
    services.sale_record(
        order_id=event.order_id,
        placed_at=event.placed_at,
        lines=[line.model_dump(mode="json") for line in event.lines],
    )


def reverse_sale(event: OrderCancelled, metadata: Metadata) -> None:
    services.sale_reverse(order_id=event.order_id)


COMMAND_HANDLERS: dict = {}
EVENT_HANDLERS = {
    OrderPlaced: [record_sale],
    OrderCancelled: [reverse_sale],
}
# Sales is a projection of the order facts: rebuilt from them (replay_events --rebuild).
PROJECTIONS = {"sales": ProjectionSpec(events=EVENT_HANDLERS, reset=services.projection_reset)}
