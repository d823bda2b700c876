"""Building blocks for tests: catalog and stock, records as they would come off Kafka."""

import uuid
from decimal import Decimal

from messaging.contracts import Message
from messaging.metadata import Metadata
from messaging.wire import RawRecord, encode
from shop.contracts import Customer, Money, OrderLine, OrderPlaced
from shop.models import Category, Product
from warehouse.models import Stock

CUSTOMER = Customer(
    name="Ada Lovelace",
    email="ada@example.com",
    phone="+44 20 7946 0000",
    address="12 Analytical Row, London",
)


def product(
    sku: str = "MUG-001", *, price: str = "14.00", stock: int = 10, active: bool = True
) -> Product:
    category, _ = Category.objects.get_or_create(slug="kitchen", defaults={"name": "Kitchen"})
    item = Product.objects.create(
        sku=sku,
        slug=sku.lower(),
        name=f"Product {sku}",
        category=category,
        price=Decimal(price),
        active=active,
    )
    Stock.objects.create(sku=sku, on_hand=stock)
    return item


def euros(amount) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def order_placed(*lines: tuple[str, int], order_id: uuid.UUID | None = None) -> OrderPlaced:
    order_lines = tuple(
        OrderLine(sku=sku, name=f"Product {sku}", quantity=qty, unit_price=euros("10.00"))
        for sku, qty in lines
    )
    return OrderPlaced(
        order_id=order_id or uuid.uuid4(),
        customer=CUSTOMER,
        lines=order_lines,
        total=euros(sum(line.subtotal for line in order_lines)),
        placed_at="2026-11-24T10:00:00Z",
    )


def database_session():
    """A PostgreSQL session of its own (autocommit) on the test database: a second process."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


def record_of(message: Message, *, offset: int = 0, caused_by: Metadata | None = None) -> RawRecord:
    """The Kafka record the relay would have produced for `message`."""
    metadata = Metadata.for_message(message, caused_by=caused_by)
    wire = encode(message.topic, metadata, message.model_dump(mode="json"))
    return RawRecord(
        topic=wire.topic,
        partition=0,
        offset=offset,
        key=wire.key,
        value=wire.value,
        headers=wire.headers,
    )


def raw_record(
    value: bytes,
    headers: list[tuple[str, bytes]] | None = None,
    *,
    topic: str = "orders",
    offset: int = 0,
) -> RawRecord:
    return RawRecord(
        topic=topic, partition=0, offset=offset, key=b"k", value=value, headers=headers or []
    )
