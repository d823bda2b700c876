"""Records written before a contract changed stay readable: upcast, then handled as today.

Version 1 of OrderPlaced carried bare amounts and of DispatchOrder the reserved lines; the
records here are written the way that code wrote them (no `dataschema`: versions did not
exist yet), with a plain Kafka producer, to topics the running shop consumes.
"""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from kafka import KafkaProducer

from messaging import replay
from messaging.kafka import bootstrap_servers
from messaging.models import DeadLetter, ParkedRecord
from notifications.models import SentEmail
from sales.models import DailyProductSales
from tests.e2e.conversation import CUSTOMER
from tests.factories import product
from warehouse.models import Reservation, Stock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def write_version_1(topic: str, order_id: uuid.UUID, type_: str, kind: str, data: dict) -> None:
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", str(uuid.uuid4()).encode()),
        ("ce_source", type_.split(".")[0].encode()),
        ("ce_type", type_.encode()),
        ("ce_time", datetime.now(UTC).isoformat().encode()),
        ("ce_partitionkey", str(order_id).encode()),
        ("ce_correlationid", str(order_id).encode()),
        ("ce_messagekind", kind.encode()),
        ("content-type", b"application/json"),
    ]
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers())
    try:
        value = json.dumps({"order_id": str(order_id), **data}).encode()
        producer.send(topic, key=str(order_id).encode(), value=value, headers=headers).get(10)
    finally:
        producer.close()


def sold(sku: str) -> list[tuple]:
    return list(
        DailyProductSales.objects.filter(sku=sku).values_list("units", "revenue", "currency")
    )


def test_version_1_records_are_upcast_and_handled_by_todays_handlers(wait_until):
    sku = f"OLD-{uuid.uuid4().hex[:6].upper()}"
    product(sku, price="14.00", stock=10)
    order_id = uuid.uuid4()
    line = {"sku": sku, "name": "Old mug", "quantity": 2, "unit_price": "14.00"}

    write_version_1(
        "orders",
        order_id,
        "shop.OrderPlaced",
        "event",
        {
            "customer": CUSTOMER,
            "lines": [line],
            "total": "28.00",
            "placed_at": datetime.now(UTC).isoformat(),
        },
    )

    # Amounts in the shop's currency (SHOP_CURRENCY, EUR here), as the upcaster says.
    wait_until(lambda: sold(sku) == [(2, Decimal("28.00"), "EUR")], what="sales to count it")
    wait_until(
        lambda: Reservation.objects.filter(order_id=order_id).exists(), what="the reservation"
    )
    assert Stock.objects.get(sku=sku).reserved == 2
    email = wait_until(
        lambda: SentEmail.objects.filter(to=CUSTOMER["email"], body__contains="(€28.00)").first(),
        what="the received email, with its amount in euros",
    )
    assert str(order_id)[:8].upper() in email.subject

    # Version 1 of DispatchOrder repeated the lines; its upcaster drops them.
    write_version_1(
        "warehouse.commands",
        order_id,
        "warehouse.DispatchOrder",
        "command",
        {"recipient": CUSTOMER["name"], "address": CUSTOMER["address"], "lines": [line]},
    )
    wait_until(
        lambda: Reservation.objects.get(order_id=order_id).status == Reservation.Status.DISPATCHED,
        what="the dispatch",
    )
    assert not DeadLetter.objects.filter(key=str(order_id), group__in=["sales", "warehouse"])

    # A rebuild reads the version 1 record again from the topic, and upcasts it again.
    DailyProductSales.objects.filter(sku=sku).update(units=0, revenue=0)
    replay.run(replay.plan(projection="sales", rebuild=True))
    assert sold(sku) == [(2, Decimal("28.00"), "EUR")]

    # The shop never placed this order (the test wrote its OrderPlaced), so it cannot take
    # the warehouse's replies: they are retried for a while, then dead-lettered (for an
    # operator to skip). Removed here at once, so the next test's flush meets a quiet
    # pipeline.
    unknown = ParkedRecord.objects.filter(key=str(order_id))
    replies = {("shop", "warehouse.StockReserved"), ("shop", "warehouse.OrderDispatched")}
    wait_until(
        lambda: set(unknown.values_list("group", "type")) == replies,
        what="the shop to park both replies (the dispatch's a moment after the dispatch)",
    )
    unknown.delete()
