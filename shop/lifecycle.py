"""The order's lifecycle: one table of the moves an order's status may make, and why.

A move is (status, trigger) -> status, where the trigger is the message that asks for it.
Every service that changes an order's status goes through `advance`, which makes the move
the table allows or refuses it. A refusal never raises: many illegal pairs are ordinary
races between independent apps (StockReserved arriving for an order the customer has just
cancelled), and a raising handler would be retried and then dead-lettered for nothing.
It leaves the order as it was, emits nothing and logs which message asked: INFO for the
races listed in RACES, WARNING for any other pair, which only a bug can produce.
"""

import logging

from django.db import models

from messaging.contracts import Message
from messaging.metadata import Metadata
from warehouse.contracts import (
    DispatchCancellationRefused,
    DispatchCancelled,
    DispatchRejected,
    OrderDispatched,
    StockReserved,
    StockUnavailable,
)

from .contracts import CancelOrder

logger = logging.getLogger(__name__)


class Status(models.TextChoices):
    PLACED = "placed", "Placed"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLING = "cancelling", "Cancelling"
    DISPATCHED = "dispatched", "Dispatched"
    CANCELLED = "cancelled", "Cancelled"


Trigger = type[Message]

TRANSITIONS: dict[tuple[Status, Trigger], Status] = {
    (Status.PLACED, StockReserved): Status.CONFIRMED,
    (Status.PLACED, StockUnavailable): Status.CANCELLED,
    # Before the warehouse is asked to dispatch, nobody else has to agree.
    (Status.PLACED, CancelOrder): Status.CANCELLED,
    # After, the parcel may be packing: the warehouse answers CancelDispatch.
    (Status.CONFIRMED, CancelOrder): Status.CANCELLING,
    (Status.CONFIRMED, DispatchRejected): Status.CANCELLED,
    (Status.CONFIRMED, OrderDispatched): Status.DISPATCHED,
    (Status.CANCELLING, DispatchCancelled): Status.CANCELLED,
    # The warehouse refused DispatchOrder before CancelDispatch reached it.
    (Status.CANCELLING, DispatchRejected): Status.CANCELLED,
    # The parcel left before CancelDispatch reached the warehouse, which then refuses it.
    (Status.CANCELLING, OrderDispatched): Status.DISPATCHED,
    # That refusal: the order stays dispatched and the customer is told why.
    (Status.DISPATCHED, DispatchCancellationRefused): Status.DISPATCHED,
}

TRIGGERS: tuple[Trigger, ...] = tuple(dict.fromkeys(trigger for _, trigger in TRANSITIONS))

# Refused pairs that happen without any bug, because the apps act independently.
RACES: frozenset[tuple[Status, Trigger]] = frozenset(
    {
        # The customer cancelled while the warehouse was reserving (it releases the stock
        # when OrderCancelled reaches it).
        (Status.CANCELLED, StockReserved),
        (Status.CANCELLED, StockUnavailable),
        # DispatchRejected cancelled the order while it was cancelling; the warehouse then
        # granted the CancelDispatch behind it.
        (Status.CANCELLED, DispatchCancelled),
        # A Cancel button pressed twice, or left open in another tab while the order moved
        # on: the shop answers with OrderCancellationRefused.
        (Status.CANCELLING, CancelOrder),
        (Status.DISPATCHED, CancelOrder),
        (Status.CANCELLED, CancelOrder),
    }
)

# The customer may ask to cancel in these statuses; once settled, nothing moves it again.
CANCELLABLE: tuple[Status, ...] = tuple(s for s in Status if (s, CancelOrder) in TRANSITIONS)
SETTLED: tuple[Status, ...] = tuple(
    s for s in Status if all(to == s for (at, _), to in TRANSITIONS.items() if at == s)
)


def next_status(status: str, trigger: Trigger) -> Status | None:
    """Where `trigger` moves an order in `status`; None when the table refuses the move."""
    return TRANSITIONS.get((Status(status), trigger))


def advance(order, trigger: Trigger, *, caused_by: Metadata, reason: str = "", **fields) -> bool:
    """Move the (locked) order as the table says, for `reason`, setting `fields` too.

    Returns False, having logged it and changed nothing, when the table refuses the move.
    """
    status = next_status(order.status, trigger)
    if status is None:
        level = logging.INFO if (order.status, trigger) in RACES else logging.WARNING
        logger.log(
            level,
            "order %s: %s %s refused, the order is %s and stays so",
            order.id,
            caused_by.type,
            caused_by.message_id,
            order.status,
        )
        return False
    order.status = status
    if status == Status.CANCELLED:
        # Cancelled after all: an earlier refusal (a second click) no longer stands.
        fields.setdefault("cancellation_refusal", "")
    # The events carry the whole reason; the order keeps what its column holds (a shortage
    # on each of 50 lines makes a long one).
    order.status_reason = truncated(reason, order._meta.get_field("status_reason").max_length)
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", "status_reason", *fields, "updated_at"])
    return True


def truncated(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
