"""The message log is complete: every record the shop produced is logged once, with the
outcome of every consumer group that follows it, and the conversation page shows it all."""

import time
import uuid
from collections import Counter, defaultdict

import pytest
from django.urls import reverse
from kafka import TopicPartition

from messagelog.models import MessageRecord
from messagelog.outcomes import followers
from messaging.kafka import reader
from messaging.models import BrokerLoss, DeadLetter, HandlingFailure, InboxEntry, OutboxMessage
from notifications.models import Notification, SentEmail, SentText
from shop.models import Order
from tests.e2e.conversation import buy, settled
from tests.factories import product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_two_orders_are_logged_completely_and_each_reads_as_one_conversation(
    live_server, wait_until, admin_client
):
    product("MUG-001", stock=5)
    product("UMB-014", stock=1)

    dispatched_id = buy(live_server, "MUG-001", 2)
    refused_id = buy(live_server, "UMB-014", 3)  # one left: the warehouse refuses

    dispatched = wait_until(lambda: settled(dispatched_id), what="the mug order to settle")
    refused = wait_until(lambda: settled(refused_id), what="the umbrella order to settle")
    assert (dispatched.status, refused.status) == (Order.Status.DISPATCHED, Order.Status.CANCELLED)
    # received, confirmed and dispatched; received and cancelled: by email and by text.
    # Sent, then announced (EmailSent, TextSent) once the task's sends are all done: a task
    # may carry several orders' notifications, so wait for the announcements, not the sends.
    wait_until(
        lambda: (
            SentEmail.objects.count() == 5
            and SentText.objects.count() == 5
            and Notification.objects.filter(
                order_id__in=[dispatched_id, refused_id], status=Notification.Status.SENT
            ).count()
            == 10
        ),
        what="every email and text, sent and announced",
    )
    conversations = {dispatched.correlation_id, refused.correlation_id}
    wait_until(lambda: log_is_complete(conversations), what="the message log to be complete")

    sent = set(
        OutboxMessage.objects.filter(correlation_id__in=conversations).values_list(
            "message_id", flat=True
        )
    )
    logged = MessageRecord.objects.filter(correlation_id__in=conversations)
    # Every message sent was read back from Kafka exactly once, and nothing else.
    times_logged = Counter(logged.values_list("message_id", flat=True))
    assert set(times_logged) == sent
    twice = logged.filter(message_id__in=[m for m, n in times_logged.items() if n > 1])
    assert not twice, (list(twice.values_list("type", "topic", "offset")), BrokerLoss.objects.all())
    assert Counter(logged.values_list("type", flat=True)) == Counter(
        {
            "shop.PlaceOrder": 2,
            "shop.OrderPlaced": 2,
            "warehouse.StockReserved": 1,
            "warehouse.StockLevelChanged": 1,
            "shop.OrderConfirmed": 1,
            "warehouse.DispatchOrder": 1,
            "warehouse.OrderDispatched": 1,
            "warehouse.StockUnavailable": 1,
            "shop.OrderCancelled": 1,
            "notifications.EmailSent": 5,
            "notifications.TextSent": 5,
        }
    )
    # What is on the topics, where these messages are, is all in the log.
    on_kafka = kafka_records_spanning(logged)
    assert set(on_kafka) <= set(
        MessageRecord.objects.values_list("topic", "partition", "offset")
    ), "a record on Kafka is missing from the log"
    ours = {m for m, correlation in on_kafka.values() if correlation in conversations}
    assert ours == sent

    # Every group that follows a message handled it once; nothing failed or was dead-lettered.
    for record in logged:
        groups = set(
            InboxEntry.objects.filter(message_id=record.message_id).values_list("group", flat=True)
        )
        assert groups == set(followers(record.type)), record.type
    assert not DeadLetter.objects.filter(correlation_id__in=conversations).exists()
    assert not HandlingFailure.objects.filter(correlation_id__in=conversations).exists()

    for order in (dispatched, refused):
        url = reverse("admin:messagelog_conversation", args=[order.correlation_id])
        response = admin_client.get(url)
        page = response.content.decode()
        assert response.status_code == 200
        for record in logged.filter(correlation_id=order.correlation_id):
            assert f'id="m-{record.message_id}"' in page
        assert "nothing failed" in page and " still waiting</span>" not in page
    refused_page = admin_client.get(
        reverse("admin:messagelog_conversation", args=[refused.correlation_id])
    ).content.decode()
    # The shortage is a fact, not a rejection; the cancellation compensates for the order.
    assert "rejection: StockUnavailable" not in refused_page
    assert "compensation: OrderCancelled" in refused_page


def log_is_complete(conversations: set) -> bool:
    """Nothing left to publish, everything read back, every follower done with it."""
    outbox = OutboxMessage.objects.filter(correlation_id__in=conversations)
    if outbox.filter(published_at=None).exists():
        return False
    sent = dict(outbox.values_list("message_id", "type"))
    if set(
        MessageRecord.objects.filter(message_id__in=sent).values_list("message_id", flat=True)
    ) != set(sent):
        return False
    handled = defaultdict(set)
    for group, message_id in InboxEntry.objects.filter(message_id__in=sent).values_list(
        "group", "message_id"
    ):
        handled[message_id].add(group)
    return all(set(followers(t)) <= handled[m] for m, t in sent.items())


def kafka_records_spanning(logged) -> dict[tuple[str, int, int], tuple]:
    """Every record on Kafka from the first to the last offset of `logged`, per partition:
    (topic, partition, offset) -> (message id, correlation id), as read by a plain consumer."""
    span: dict[TopicPartition, list[int]] = {}
    for topic, partition, offset in logged.values_list("topic", "partition", "offset"):
        low, high = span.get(TopicPartition(topic, partition), [offset, offset])
        span[TopicPartition(topic, partition)] = [min(low, offset), max(high, offset)]
    consumer = reader()
    consumer.assign(list(span))
    for tp, (low, _) in span.items():
        consumer.seek(tp, low)
    found, deadline = {}, time.monotonic() + 20
    try:
        while any(consumer.position(tp) <= high for tp, (_, high) in span.items()):
            assert time.monotonic() < deadline, "Kafka did not return the logged offsets"
            for tp, records in consumer.poll(timeout_ms=500).items():
                for r in records:
                    if r.offset <= span[tp][1]:
                        headers = {k: v.decode() for k, v in r.headers}
                        found[(r.topic, r.partition, r.offset)] = (
                            _uuid(headers.get("ce_id")),
                            _uuid(headers.get("ce_correlationid")),
                        )
    finally:
        consumer.close()
    return found


def _uuid(value):
    return uuid.UUID(value) if value else None
