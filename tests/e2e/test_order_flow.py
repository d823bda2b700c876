"""One BUY over HTTP travels through Kafka into every app: the foundation, end to end."""

from collections import Counter

import pytest
from django.db.models import Sum
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from messagelog.models import MessageRecord
from messaging.kafka import bootstrap_servers
from messaging.models import DeadLetter
from notifications.models import SentEmail, SentText
from sales.models import DailyProductSales
from shop.models import Order
from tests.e2e.conversation import CUSTOMER, buy, handled_by, settled
from tests.factories import product
from warehouse.models import Stock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_buy_reaches_every_app_and_the_order_is_dispatched(live_server, wait_until):
    product("MUG-001", price="14.00", stock=10)

    order_id = buy(live_server, "MUG-001", 3)

    order = wait_until(lambda: settled(order_id), what="the order to be dispatched")
    assert order.status == Order.Status.DISPATCHED
    assert order.carrier == "ParcelPost" and order.tracking_number.startswith("PP")
    expected_handlings = {
        ("shop", "shop.PlaceOrder"),
        ("warehouse", "shop.OrderPlaced"),
        ("notifications", "shop.OrderPlaced"),
        ("sales", "shop.OrderPlaced"),
        ("shop", "warehouse.StockReserved"),
        ("notifications", "shop.OrderConfirmed"),
        ("warehouse", "warehouse.DispatchOrder"),
        ("shop", "warehouse.OrderDispatched"),
        ("notifications", "warehouse.OrderDispatched"),
    }
    wait_until(lambda: expected_handlings <= handled_by(order_id), what="every consumer group")
    wait_until(lambda: SentText.objects.count() == 3, what="the three texts")
    stock = Stock.objects.get(sku="MUG-001")
    assert (stock.on_hand, stock.reserved) == (7, 0)
    ref = str(order_id)[:8].upper()
    assert sorted(SentEmail.objects.values_list("subject", flat=True)) == [
        f"We received your order {ref}",
        f"Your order {ref} is confirmed",
        f"Your order {ref} is on its way",
    ]
    assert order.tracking_number in SentText.objects.get(body__contains="dispatched").body
    assert set(SentEmail.objects.values_list("to", flat=True)) == {CUSTOMER["email"]}
    figures = DailyProductSales.objects.get(sku="MUG-001")
    assert (figures.orders, figures.units, figures.revenue) == (1, 3, 42)

    # The conversation as the audit group read it from Kafka: one correlation id, a
    # causation chain back to the BUY, every record once.
    expected = Counter(
        {
            "shop.PlaceOrder": 1,
            "shop.OrderPlaced": 1,
            "warehouse.StockReserved": 1,
            "warehouse.StockLevelChanged": 1,
            "shop.OrderConfirmed": 1,
            "warehouse.DispatchOrder": 1,
            "warehouse.OrderDispatched": 1,
            "notifications.EmailSent": 3,
            "notifications.TextSent": 3,
        }
    )

    def logged():
        return Counter(
            MessageRecord.objects.filter(correlation_id=order.correlation_id).values_list(
                "type", flat=True
            )
        )

    wait_until(lambda: logged() == expected, what=f"the message log to hold {expected}")
    log = {r.type: r for r in MessageRecord.objects.filter(correlation_id=order.correlation_id)}
    assert log["shop.PlaceOrder"].causation_id is None
    assert log["shop.OrderPlaced"].causation_id == log["shop.PlaceOrder"].message_id
    assert log["warehouse.StockReserved"].causation_id == log["shop.OrderPlaced"].message_id
    assert log["shop.OrderConfirmed"].causation_id == log["warehouse.StockReserved"].message_id
    assert log["warehouse.DispatchOrder"].causation_id == log["warehouse.StockReserved"].message_id
    assert (
        log["warehouse.OrderDispatched"].causation_id == log["warehouse.DispatchOrder"].message_id
    )
    assert log["warehouse.DispatchOrder"].kind == "command"
    assert {r.key for t, r in log.items() if t != "warehouse.StockLevelChanged"} == {str(order_id)}
    assert log["warehouse.StockLevelChanged"].key == "MUG-001"


def test_the_order_placed_record_is_readable_by_any_kafka_client(live_server, wait_until):
    product("MUG-001")
    order_id = buy(live_server, "MUG-001", 1)
    placed = wait_until(
        lambda: MessageRecord.objects.filter(type="shop.OrderPlaced", key=str(order_id)).first(),
        what="OrderPlaced in the message log",
    )

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


def test_a_poison_record_is_dead_lettered_and_consumers_go_on(live_server, wait_until):
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
        lambda: DeadLetter.objects.filter(key="poison").count() == 4,
        what="the poison record dead-lettered by each group",
    )
    assert set(DeadLetter.objects.filter(key="poison").values_list("group", "reason")) == {
        ("warehouse", "malformed"),
        ("notifications", "malformed"),
        ("sales", "malformed"),
        ("loyalty", "malformed"),
    }
    wait_until(
        lambda: MessageRecord.objects.filter(key="poison").exists(),
        what="the audit log to keep the unreadable record",
    )
    assert MessageRecord.objects.get(key="poison").raw_value.endswith("not json at all")
    assert Stock.objects.aggregate(r=Sum("reserved"))["r"] == 1
