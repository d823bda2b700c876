"""The shop's message contracts: the commands it handles and the events it publishes.

Other apps may import this module (and only this one) from the shop.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, TypeVar
from uuid import UUID

from django.conf import settings
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from messaging.contracts import ERASED_EMAIL, Command, Event, Personal, upcaster

MAX_QUANTITY = 20
MAX_LINES = 50
Sku = Annotated[str, Field(min_length=1, max_length=40)]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code")]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Money(_Value):
    """An amount in a currency: a price never travels as a bare number."""

    amount: Amount
    currency: Currency


# What an erased phone number reads: a value the field's pattern accepts, so a redacted
# record still validates.
ERASED_PHONE = "000000"


class Customer(_Value):
    """The person: every field is personal, masked in the admin and erased on request."""

    name: Annotated[str, Field(min_length=1, max_length=100), Personal()]
    email: Annotated[
        str,
        Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254),
        Personal(erased=ERASED_EMAIL),
    ]
    phone: Annotated[str, Field(pattern=r"^\+?[0-9 ()-]{6,20}$"), Personal(erased=ERASED_PHONE)]
    address: Annotated[str, Field(min_length=1, max_length=500), Personal()]


class RequestedLine(_Value):
    sku: Sku
    quantity: Quantity


class OrderLine(_Value):
    sku: Sku
    name: str
    quantity: Quantity
    unit_price: Money

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price.amount * self.quantity


Lines = TypeVar("Lines", bound=tuple)


def _one_line_per_sku(lines: Lines) -> Lines:
    """An order names each product on one line.

    Else MAX_QUANTITY holds per line, not per product, and whoever adds lines up by SKU
    (the warehouse reserving, sales counting) sees the product twice.
    """
    seen: set[str] = set()
    repeated = []  # indexes of the lines whose SKU an earlier line has
    for index, line in enumerate(lines):
        if line.sku in seen:
            repeated.append(index)
        seen.add(line.sku)
    if repeated:
        skus = ", ".join(dict.fromkeys(lines[i].sku for i in repeated))
        raise PydanticCustomError(
            "sku_on_two_lines",
            "Each product goes on one line, with its whole quantity; on more than one: {skus}",
            {"skus": skus, "lines": tuple(repeated)},
        )
    return lines


# The lines PlaceOrder asks for: the one rule every entrypoint that places an order relies on.
RequestedLines = Annotated[
    tuple[RequestedLine, ...],
    Field(min_length=1, max_length=MAX_LINES),
    AfterValidator(_one_line_per_sku),
]


class ShopCommand(Command):
    abstract = True
    senders = ("shop",)  # the storefront and the API
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
    lines: RequestedLines
    # The signed-in account placing it, if any: "My orders" lists it. It names the person.
    account_id: Annotated[int | None, Personal(erased=None)] = None


class CancelOrder(ShopCommand):
    """Sent when the customer cancels: granted until the order is dispatched, else refused."""

    # The customer's own words, when they give any.
    reason: Annotated[str, Field(min_length=1, max_length=200), Personal()] = "at your request"


class OrderPlaced(ShopEvent):
    """The order exists, at these prices: what the warehouse reserves, sales counts and the
    customer is told. Version 2: every amount is Money (version 1's were bare numbers)."""

    version = 2

    customer: Customer
    lines: Annotated[tuple[OrderLine, ...], Field(min_length=1), AfterValidator(_one_line_per_sku)]
    total: Money
    placed_at: datetime


@upcaster(OrderPlaced, from_version=1)
def _order_placed_with_money(data: dict) -> dict:
    """Version 1 carried bare amounts; the shop has only ever sold in its one currency."""
    currency = settings.SHOP_CURRENCY

    def money(amount) -> dict:
        return {"amount": amount, "currency": currency}

    return {
        **data,
        "lines": [{**line, "unit_price": money(line["unit_price"])} for line in data["lines"]],
        "total": money(data["total"]),
    }


class OrderRejected(ShopEvent):
    """PlaceOrder was refused: no order exists (e.g. a product was withdrawn meanwhile)."""

    role = "rejection"

    reason: str


class OrderCancellationRefused(ShopEvent):
    """CancelOrder was refused (too late, already asked, no such order): the order is as it was."""

    role = "rejection"

    reason: str


class OrderConfirmed(ShopEvent):
    """Every line is reserved: the shop has asked the warehouse to dispatch it."""


class OrderCancelled(ShopEvent):
    """A compensating event: the placed order will not be fulfilled, for the reason given."""

    role = "compensation"

    # The customer's own words when they cancelled (CancelOrder's reason, which they type),
    # else the shop's: personal, as a free text a person types may say anything of them.
    reason: Annotated[str, Personal()]


class CustomerErased(ShopEvent):
    """The customer asked to be forgotten: the shop erased the person from this order (its
    lines and totals stay), and every app that keeps a copy of them erases its own.

    One per order, in the order's conversation and keyed by it, so it follows everything
    earlier about the order. It names the order only: the apps find their copies by its
    id, and an email on the topic would be one more copy to erase.
    """

    # The platform redacts its own copies of every message with this key (messaging.erasure).
    erases_personal_data = True
