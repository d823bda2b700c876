"""The warehouse's message contracts. Other apps may import this module only."""

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from messaging.contracts import Command, Event, Personal, upcaster


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReservedLine(_Value):
    sku: str
    quantity: Annotated[int, Field(ge=1)]


class Shortage(_Value):
    sku: str
    requested: Annotated[int, Field(ge=1)]
    available: Annotated[int, Field(ge=0)]


class WarehouseCommand(Command):
    abstract = True
    senders = ("shop",)
    source = "warehouse"
    topic = "warehouse.commands"

    order_id: UUID


class WarehouseEvent(Event):
    abstract = True
    source = "warehouse"
    topic = "warehouse.events"


class OrderStockEvent(WarehouseEvent):
    abstract = True

    order_id: UUID


class DispatchOrder(WarehouseCommand):
    """Ship what is reserved for the order to this address. Answered by OrderDispatched or
    DispatchRejected. The warehouse ships its own reservation: the lines are not repeated."""

    version = 2

    recipient: Annotated[str, Field(min_length=1, max_length=100), Personal()]
    address: Annotated[str, Field(min_length=1, max_length=500), Personal()]


@upcaster(DispatchOrder, from_version=1)
def _dispatch_order_without_lines(data: dict) -> dict:
    """Version 1 repeated the reserved lines, which the warehouse never read."""
    return {name: value for name, value in data.items() if name != "lines"}


class CancelDispatch(WarehouseCommand):
    """Do not ship after all. Answered by DispatchCancelled, or DispatchCancellationRefused
    when the parcel has already left."""

    # CancelOrder's reason, the customer's own words: personal, as they may say anything.
    reason: Annotated[str, Personal()]


class StockReserved(OrderStockEvent):
    """Every line of the order is reserved, all or nothing."""

    lines: Annotated[tuple[ReservedLine, ...], Field(min_length=1)]


class StockUnavailable(OrderStockEvent):
    """Nothing was reserved: these lines are short."""

    # No role: a fact, not a rejection (it answers OrderPlaced, and events are never refused).

    shortages: Annotated[tuple[Shortage, ...], Field(min_length=1)]


class StockReleased(OrderStockEvent):
    """A reservation was given back after the order was cancelled."""

    role = "compensation"

    lines: Annotated[tuple[ReservedLine, ...], Field(min_length=1)]


class OrderDispatched(OrderStockEvent):
    """The parcel left the warehouse with this carrier; the customer can track it."""

    carrier: str
    tracking_number: str


class DispatchRejected(OrderStockEvent):
    """DispatchOrder was refused; nothing was shipped."""

    role = "rejection"

    reason: str


class DispatchCancelled(OrderStockEvent):
    """CancelDispatch was granted: the parcel will not leave."""

    role = "compensation"

    reason: Annotated[str, Personal()]  # CancelDispatch's, the customer's words


class DispatchCancellationRefused(OrderStockEvent):
    """CancelDispatch came too late: the parcel had already left."""

    role = "rejection"

    reason: str


class StockLevelChanged(WarehouseEvent):
    """How many units of a SKU can be sold now. Keyed by SKU: the latest one is the truth."""

    key_field = "sku"

    sku: str
    available: Annotated[int, Field(ge=0)]
