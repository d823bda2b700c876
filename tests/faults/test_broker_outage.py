"""The broker unreachable for more than ten seconds, while customers buy and consumers read.

The proxy between the shop and its broker is cut: every connection of the relay and of
the consumers drops and new ones are refused. BUY never waits on Kafka, so it goes on
being accepted; its messages wait in the outbox, and once the broker is back the relay
publishes the backlog by itself, batch after batch, each in the order it was written.
"""

import time
from collections import defaultdict
from datetime import timedelta

import pytest
from django.utils import timezone

from messagelog.models import MessageRecord
from messaging.models import OutboxMessage
from tests.faults.proxy import TcpProxy

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = 10.0
BUYS_DURING_OUTAGE = 80


def test_buys_are_accepted_while_the_broker_is_away_and_published_in_order_after(shop):
    shop.stack.start_all()
    shop.stream.place(60)
    shop.wait(lambda: shop.handled("notifications") >= 20, what="consumers to be reading")

    proxy: TcpProxy = shop.broker.proxy
    connections_before = proxy.connections
    proxy.cut()
    cut_at = timezone.now()
    ends = time.monotonic() + OUTAGE_SECONDS
    bought, peak = 0, 0
    while time.monotonic() < ends:  # the outage lasts its full length, whatever else happens
        if bought < BUYS_DURING_OUTAGE:
            shop.stream.place(1)
            bought += 1
        else:
            time.sleep(0.1)
        peak = max(peak, OutboxMessage.objects.filter(published_at=None).count())
    # A batch the relay had flushed just before the cut may be stamped a moment later.
    published_while_cut = OutboxMessage.objects.filter(
        published_at__gt=cut_at + timedelta(seconds=1)
    ).count()
    backlog = list(
        OutboxMessage.objects.filter(published_at=None)
        .order_by("id")
        .values_list("message_id", flat=True)
    )
    proxy.restore()
    outage = proxy.cuts[-1][1] - proxy.cuts[-1][0]
    shop.stream.place(200 - len(shop.stream.placed))

    exercised = shop.settle()

    shop.report(
        "the broker unreachable through the proxy",
        exercised,
        **{
            "outage (s)": f"{outage:.1f}",
            "BUYs accepted during the outage": bought,
            "outbox backlog peak": peak,
            "rows published during the outage": published_while_cut,
            "connections through the proxy before / after": (
                f"{connections_before} / {proxy.connections - connections_before}"
            ),
        },
    )
    assert outage >= OUTAGE_SECONDS and bought == BUYS_DURING_OUTAGE
    assert published_while_cut == 0 and peak >= BUYS_DURING_OUTAGE
    assert proxy.connections > connections_before, "clients came back through the proxy"
    _published_in_outbox_order(backlog)


def _published_in_outbox_order(backlog: list) -> None:
    """Every row waiting at the end of the outage reached Kafka in the relay's order.

    The relay publishes batch after batch, each one the committed rows it found, in id
    order. Ids alone are not that order: the batch the relay was sending when the
    proxy was cut (it went out first, once the broker was back) may hold a row whose id
    is higher than that of a row committed a moment later, by a transaction that took
    its id first. No order's messages can be split that way, since the shop and the
    warehouse write them under a row lock of the order (the invariants check it). Each
    batch is stamped at one instant, so each partition must show the rows in the order
    of (stamp, id): a producer that reordered retried batches across the outage fails.
    """
    picked = {
        message_id: (published_at, id_)
        for message_id, published_at, id_ in OutboxMessage.objects.filter(
            message_id__in=backlog
        ).values_list("message_id", "published_at", "id")
    }
    first = {}
    for message_id, topic, partition, offset in (
        MessageRecord.objects.filter(message_id__in=backlog)
        .order_by("offset")
        .values_list("message_id", "topic", "partition", "offset")
    ):
        first.setdefault(message_id, (topic, partition, offset))
    assert set(first) == set(backlog), "every row of the backlog reached Kafka"
    by_partition = defaultdict(list)
    for message_id, (topic, partition, offset) in first.items():
        by_partition[topic, partition].append((offset, picked[message_id]))
    for records in by_partition.values():
        in_kafka_order = [when for _, when in sorted(records)]
        assert in_kafka_order == sorted(in_kafka_order)
