"""How loyalty reacts to the order's events. Loyalty publishes nothing."""

from messaging.metadata import Metadata
from messaging.registry import ProjectionSpec
from shop.contracts import CustomerErased, OrderCancelled, OrderPlaced

from . import services


def award_points(event: OrderPlaced, metadata: Metadata) -> None:
    services.points_award(
        order_id=event.order_id,
        email=event.customer.email,
        total=event.total.amount,
        currency=event.total.currency,
        placed_at=event.placed_at,
    )


def take_back_points(event: OrderCancelled, metadata: Metadata) -> None:
    services.points_take_back(order_id=event.order_id)


def erase_customer(event: CustomerErased, metadata: Metadata) -> None:
    services.customer_erase(order_id=event.order_id)


COMMAND_HANDLERS: dict = {}
EVENT_HANDLERS = {
    OrderPlaced: [award_points],
    OrderCancelled: [take_back_points],
    CustomerErased: [erase_customer],
}
# The points are a projection of the order facts: rebuilt from them (replay_events --rebuild).
PROJECTIONS = {"loyalty": ProjectionSpec(events=EVENT_HANDLERS, reset=services.projection_reset)}
