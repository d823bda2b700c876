"""One BUY over HTTP travels through Kafka into every app: the foundation, end to end."""

import uuid

import pytest
from django.db.models import Sum
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from messaging.kafka import bootstrap_servers
from messaging.models import DeadLetter, InboxEntry, MessageRecord
from notifications.models import SentEmail, SentText
from sales.models import DailyProductSales
from shop.models import Order
from tests.e2e.browserless import HttpSession
from tests.factories import product
from warehouse.models import Stock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CUSTOMER = {
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "phone": "+1 555 0100",
    "address": "1 Compiler Way, Arlington",
}


def buy(live_server, sku: str, quantity: int) -> uuid.UUID:
    slug = sku.lower()
    session = HttpSession(live_server.url)
    response = session.post_form(
        f"/products/{slug}/buy/", f"/products/{slug}/", {"quantity": str(quantity), **CUSTOMER}
    )
    assert response.status == 302, response.body
    order_id = uuid.UUID(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    page = session.get(f"/orders/{order_id}/")
    assert page.status == 200 and "PlaceOrder" in page.body
    return order_id


def handled_by(order_id: uuid.UUID) -> set[tuple[str, str]]:
    correlation = Order.objects.filter(id=order_id).values_list("correlation_id", flat=True)
    return set(
        InboxEntry.objects.filter(correlation_id__in=correlation).values_list("group", "type")
    )


def test_buy_reaches_warehouse_notifications_and_sales(live_server, wait_until):
    product("MUG-001", price="14.00", stock=10)

    order_id = buy(live_server, "MUG-001", 3)

    expected = {
        ("shop", "shop.PlaceOrder"),
        ("warehouse", "shop.OrderPlaced"),
        ("notifications", "shop.OrderPlaced"),
        ("sales", "shop.OrderPlaced"),
        ("shop", "warehouse.StockReserved"),
        ("notifications", "shop.OrderConfirmed"),
    }
    wait_until(lambda: expected <= handled_by(order_id), what="every consumer group")
    wait_until(lambda: SentText.objects.count() == 2, what="the texts")

    order = Order.objects.get(id=order_id)
    assert order.status == Order.Status.CONFIRMED
    assert Stock.objects.get(sku="MUG-001").reserved == 3
    ref = str(order_id)[:8].upper()
    subjects = sorted(SentEmail.objects.values_list("subject", flat=True))
    assert subjects == [f"We received your order {ref}", f"Your order {ref} is confirmed"]
    assert set(SentEmail.objects.values_list("to", flat=True)) == {"grace@example.com"}
    figures = DailyProductSales.objects.get(sku="MUG-001")
    assert (figures.orders, figures.units, figures.revenue) == (1, 3, 42)

    # The conversation, as the audit group read it from Kafka: one correlation id, a
    # causation chain back to the BUY, and every record once.
    wait_until(
        lambda: MessageRecord.objects.filter(correlation_id=order.correlation_id).count() == 8,
        what="the message log",
    )
    log = {r.type: r for r in MessageRecord.objects.filter(correlation_id=order.correlation_id)}
    assert log["shop.PlaceOrder"].causation_id is None
    assert log["shop.OrderPlaced"].causation_id == log["shop.PlaceOrder"].message_id
    assert log["warehouse.StockReserved"].causation_id == log["shop.OrderPlaced"].message_id
    assert log["shop.OrderConfirmed"].causation_id == log["warehouse.StockReserved"].message_id
    assert {r.key for r in log.values()} == {str(order_id)}


def test_the_order_placed_record_is_readable_by_any_kafka_client(live_server, wait_until):
    product("MUG-001")
    order_id = buy(live_server, "MUG-001", 1)
    wait_until(
        lambda: ("warehouse", "shop.OrderPlaced") in handled_by(order_id), what="OrderPlaced"
    )

    placed = MessageRecord.objects.get(type="shop.OrderPlaced", key=str(order_id))
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers(), enable_auto_commit=False)
    partition = TopicPartition("orders", placed.partition)
    consumer.assign([partition])
    consumer.seek(partition, placed.offset)
    record = next(r for batch in [consumer.poll(5000)] for r in batch[partition])
    consumer.close()

    headers = {k: v.decode() for k, v in record.headers}
    assert record.key == str(order_id).encode()
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == "shop.OrderPlaced"
    assert headers["ce_source"] == "shop"
    assert headers["ce_id"] == str(placed.message_id)
    assert headers["content-type"] == "application/json"
    assert {"ce_time", "ce_correlationid", "ce_causationid", "ce_messagekind"} <= set(headers)
    assert b'"sku":"MUG-001"' in record.value.replace(b" ", b"")


def test_buying_more_than_is_in_stock_cancels_with_the_reason(live_server, wait_until):
    product("UMB-014", stock=1)

    order_id = buy(live_server, "UMB-014", 2)

    wait_until(
        lambda: ("sales", "shop.OrderCancelled") in handled_by(order_id),
        what="the cancellation to reach sales",
    )
    order = Order.objects.get(id=order_id)
    assert order.status == Order.Status.CANCELLED
    assert "UMB-014 (1 left, 2 wanted)" in order.status_reason
    assert Stock.objects.get(sku="UMB-014").reserved == 0
    figures = DailyProductSales.objects.get(sku="UMB-014")
    assert (figures.orders, figures.units, figures.cancelled_orders) == (0, 0, 1)
    wait_until(
        lambda: SentEmail.objects.filter(subject__contains="cancelled").exists(),
        what="the cancellation email",
    )


def test_a_poison_record_is_set_aside_and_consumers_go_on(live_server, wait_until):
    product("MUG-001")
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers())
    producer.send(
        "orders",
        key=b"poison",
        value=b"\x00not json at all",
        headers=[("ce_type", b"shop.OrderPlaced")],
    )
    producer.flush()
    producer.close()

    order_id = buy(live_server, "MUG-001", 1)

    wait_until(
        lambda: (
            ("sales", "shop.OrderPlaced") in handled_by(order_id)
            and ("warehouse", "shop.OrderPlaced") in handled_by(order_id)
        ),
        what="the order after the poison record",
    )
    wait_until(
        lambda: DeadLetter.objects.filter(key="poison").count() == 3,
        what="the poison record set aside by each group",
    )
    assert set(DeadLetter.objects.filter(key="poison").values_list("group", "reason")) == {
        ("warehouse", "malformed"),
        ("notifications", "malformed"),
        ("sales", "malformed"),
    }
    wait_until(
        lambda: MessageRecord.objects.filter(key="poison").exists(),
        what="the audit log to keep the unreadable record",
    )
    assert MessageRecord.objects.get(key="poison").raw_value.endswith("not json at all")
    assert Stock.objects.aggregate(r=Sum("reserved"))["r"] == 1
