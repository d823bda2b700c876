"""The shop's message contracts: the commands it handles and the events it publishes.

Other apps may import this module (and only this one) from the shop.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from messaging.contracts import Command, Event

MAX_QUANTITY = 20
Sku = Annotated[str, Field(min_length=1, max_length=40)]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Customer(_Value):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
    phone: Annotated[str, Field(pattern=r"^\+?[0-9 ()-]{6,20}$")]
    address: Annotated[str, Field(min_length=1, max_length=500)]


class RequestedLine(_Value):
    sku: Sku
    quantity: Quantity


class OrderLine(_Value):
    sku: Sku
    name: str
    quantity: Quantity
    unit_price: Money


class ShopCommand(Command):
    abstract = True
    source = "shop"
    topic = "shop.commands"

    order_id: UUID


class ShopEvent(Event):
    abstract = True
    source = "shop"
    topic = "orders"

    order_id: UUID


class PlaceOrder(ShopCommand):
    """Sent by the storefront's BUY: the shop creates the order, or rejects it."""

    customer: Customer
    lines: Annotated[tuple[RequestedLine, ...], Field(min_length=1, max_length=50)]
    # The signed-in account placing it, if any: "My orders" lists it.
    account_id: int | None = None


class CancelOrder(ShopCommand):
    """Sent when the customer cancels: granted until the order is dispatched, else refused."""

    reason: Annotated[str, Field(min_length=1, max_length=200)] = "at your request"


class OrderPlaced(ShopEvent):
    customer: Customer
    lines: Annotated[tuple[OrderLine, ...], Field(min_length=1)]
    total: Money
    placed_at: datetime


class OrderRejected(ShopEvent):
    """PlaceOrder was refused: no order exists (e.g. a product was withdrawn meanwhile)."""

    role = "rejection"

    reason: str


class OrderConfirmed(ShopEvent):
    """Every line is reserved: the shop has asked the warehouse to dispatch it."""


class OrderCancelled(ShopEvent):
    """A compensating event: the placed order will not be fulfilled, for `reason`."""

    role = "compensation"

    reason: str
