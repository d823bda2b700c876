"""The warehouse's message contracts. Other apps may import this module only."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from messaging.contracts import Event


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReservedLine(_Value):
    sku: str
    quantity: Annotated[int, Field(ge=1)]


class Shortage(_Value):
    sku: str
    requested: Annotated[int, Field(ge=1)]
    available: Annotated[int, Field(ge=0)]


class WarehouseEvent(Event):
    abstract = True
    source = "warehouse"
    topic = "warehouse.events"


class StockReserved(WarehouseEvent):
    """Every line of the order is reserved, all or nothing."""

    lines: Annotated[tuple[ReservedLine, ...], Field(min_length=1)]


class StockUnavailable(WarehouseEvent):
    """Nothing was reserved: these lines are short."""

    shortages: Annotated[tuple[Shortage, ...], Field(min_length=1)]


class StockReleased(WarehouseEvent):
    """A reservation was given back after the order was cancelled."""

    lines: Annotated[tuple[ReservedLine, ...], Field(min_length=1)]
