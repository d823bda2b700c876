"""The broker restarts empty while orders are in flight, as the demo's in-memory broker does.

Every topic, record and committed offset is gone; the outbox still says the records it
had sent were published, and consumers had not read all of them. The relay notices that
the broker no longer holds what it acknowledged, publishes again what some consumer
group still waits for, and every order the shop accepted settles, once.
"""

import pytest

from messagelog.models import MessageRecord
from messaging.topics import create_topics
from shop.models import Order
from tests.faults.conftest import PARTITIONS

pytestmark = pytest.mark.faults


def test_after_the_broker_restarts_empty_every_accepted_order_settles_once(shop, caplog):
    shop.stack.start_all()
    shop.stream.place(80)
    shop.wait(lambda: shop.handled("warehouse") >= 20, what="orders to be in flight")
    in_flight = Order.objects.exclude(status__in=Order.SETTLED).count() + (
        len(shop.stream.placed) - Order.objects.count()
    )
    logged_before = MessageRecord.objects.count()

    shop.broker.restart_empty()
    create_topics(partitions=PARTITIONS)  # as `make demo` does each time it starts
    shop.stream.place(60)
    exercised = shop.settle()

    republished = shop.stack.log("relay").count("the broker lost")
    reread = sum(
        shop.stack.log(name).count("reading the partition again from its beginning")
        for name in shop.stack.logs
        if name.startswith("worker-")
    )
    shop.report(
        "the broker restarted empty with orders in flight",
        exercised,
        **{
            "orders not settled when the broker restarted": in_flight,
            "records in the message log before the restart": logged_before,
            "partitions the relay found emptied": republished,
            "partitions consumers read again from their beginning": reread,
        },
    )
    assert in_flight > 0 and republished > 0
