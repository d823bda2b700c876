"""The chain's commands: each addressed to one service, on that service's own topic.

Plain dataclasses, JSON on the wire, the message id and the type in headers, keyed by the
order id (one order's commands stay in order on one partition), like the shop's records.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field

TOPICS = {
    "warehouse": "chain.warehouse",
    "notifications": "chain.notifications",
    "sales": "chain.sales",
}


TYPES: dict[str, type] = {}  # by name, for decoding: every command registers itself


def register(cls: type) -> type:
    TYPES[cls.__name__] = cls
    return cls


@dataclass(frozen=True)
class Command:
    order_id: str
    message_id: str = field(default_factory=lambda: str(uuid.uuid4()), kw_only=True)

    service = ""  # the one service that handles it

    @property
    def topic(self) -> str:
        return TOPICS[self.service]


@register
@dataclass(frozen=True)
class DispatchProduct(Command):
    """Reserve and ship an order's lines to the customer (the BUY's command)."""

    service = "warehouse"
    name: str
    email: str
    phone: str
    address: str
    placed_at: str
    lines: list[dict]  # [{"sku", "name", "quantity", "unit_price": {"amount", "currency"}}]


@register
@dataclass(frozen=True)
class SendEmail(Command):
    service = "notifications"
    kind: str
    to: str
    subject: str
    body: str
    # The next step of the chain, carried for it: the sale to record once this email is out.
    then_record_sale: dict | None = None


@register
@dataclass(frozen=True)
class SendText(Command):
    service = "notifications"
    kind: str
    to: str
    body: str


@register
@dataclass(frozen=True)
class RecordSale(Command):
    service = "sales"
    placed_at: str
    lines: list[dict]


def encode(command: Command) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    """(topic, key, value, headers) of a command's record."""
    data = asdict(command)
    message_id = data.pop("message_id")
    headers = [("ce_type", type(command).__name__.encode()), ("ce_id", message_id.encode())]
    return command.topic, command.order_id.encode(), json.dumps(data).encode(), headers


def decode(value: bytes, headers: list[tuple[str, bytes]]) -> Command:
    meta = {k: v.decode() for k, v in headers}
    return TYPES[meta["ce_type"]](**json.loads(value), message_id=meta["ce_id"])
