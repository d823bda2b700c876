"""An order's reservation at each step of its dispatch, made through the warehouse's services."""

import uuid
from dataclasses import dataclass

from messaging.contracts import Message
from messaging.metadata import Metadata
from messaging.models import OutboxMessage
from tests.factories import CUSTOMER, order_placed
from warehouse.contracts import CancelDispatch, DispatchOrder
from warehouse.models import Reservation, Stock
from warehouse.services import dispatch_request, dispatch_ship, stock_reserve


@dataclass(frozen=True)
class Parcel:
    """One order's stock in the warehouse, and the conversation its messages belong to."""

    order_id: uuid.UUID
    correlation_id: uuid.UUID
    lines: tuple[tuple[str, int], ...]

    def about(self, message: Message) -> Metadata:
        """`message` as the warehouse's consumer would receive it, in the conversation."""
        return Metadata.for_message(message, correlation_id=self.correlation_id)

    def dispatch_order(self, address: str = CUSTOMER.address) -> DispatchOrder:
        return DispatchOrder(order_id=self.order_id, recipient=CUSTOMER.name, address=address)

    def cancel_dispatch(self, reason: str = "at your request") -> CancelDispatch:
        return CancelDispatch(order_id=self.order_id, reason=reason)

    def reservation(self) -> Reservation:
        return Reservation.objects.get(order_id=self.order_id)


def reserved(*lines: tuple[str, int]) -> Parcel:
    """A placed order whose every line the warehouse reserved (the products must exist)."""
    placed = order_placed(*lines)
    cause = Metadata.for_message(placed)
    assert stock_reserve(order_id=placed.order_id, lines=list(lines), caused_by=cause)
    return Parcel(placed.order_id, cause.correlation_id, lines)


def short(*lines: tuple[str, int]) -> Parcel:
    """A placed order the warehouse could not reserve: no reservation, StockUnavailable."""
    placed = order_placed(*lines)
    cause = Metadata.for_message(placed)
    assert stock_reserve(order_id=placed.order_id, lines=list(lines), caused_by=cause) is None
    assert not Reservation.objects.filter(order_id=placed.order_id).exists()
    return Parcel(placed.order_id, cause.correlation_id, lines)


def packing(*lines: tuple[str, int]) -> tuple[Parcel, Metadata]:
    """A reserved order being packed, and the DispatchOrder that asked for it.

    Its ship task is never scheduled: the test's transaction never commits.
    """
    parcel = reserved(*lines)
    asked = parcel.about(parcel.dispatch_order())
    dispatch_request(
        order_id=parcel.order_id, recipient=CUSTOMER.name, address=CUSTOMER.address, caused_by=asked
    )
    return parcel, asked


def shipped(*lines: tuple[str, int]) -> tuple[Parcel, Metadata]:
    parcel, asked = packing(*lines)
    dispatch_ship(order_id=parcel.order_id)
    return parcel, asked


def shelf() -> dict[str, tuple[int, int]]:
    """(on hand, reserved) per SKU."""
    return {s.sku: (s.on_hand, s.reserved) for s in Stock.objects.all()}


def outbox_mark() -> int:
    return OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0


def sent_since(mark: int) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(id__gt=mark).order_by("id"))


def row(parcel: Parcel) -> dict:
    """The reservation's whole row, to show that nothing about it changed."""
    return Reservation.objects.values().get(order_id=parcel.order_id)
