"""The relay against the session's real broker and database."""

import threading
import uuid

import pytest
from django.db import transaction
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

from messaging import outbox
from messaging.kafka import admin, bootstrap_servers, producer
from messaging.models import OutboxMessage
from messaging.relay import RELAY_LOCK_ID, Relay, _listening_connection
from messaging.topics import create_topics
from shop.contracts import OrderCancelled

pytestmark = pytest.mark.django_db


TOPIC = "relay-test"  # not a contract topic: no consumer group of the e2e tests reads it


@pytest.fixture(scope="module")
def topics():
    create_topics(partitions=2)
    client = admin()
    if TOPIC not in client.list_topics():
        client.create_topics([NewTopic(TOPIC, 2, 1)])
    client.close()


def read_key(key: str, count: int) -> list:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers(),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )
    partitions = [TopicPartition(TOPIC, p) for p in consumer.partitions_for_topic(TOPIC)]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    found = [r for r in consumer if r.key == key.encode()]
    consumer.close()
    assert len(found) == count, found
    return found


def test_rows_are_published_in_order_and_stamped(topics):
    order_id = uuid.uuid4()
    with transaction.atomic():
        sent = [outbox.send(OrderCancelled(order_id=order_id, reason=f"#{i}")) for i in range(5)]
    OutboxMessage.objects.update(topic=TOPIC)
    kafka = producer()

    published = Relay().publish_batch(kafka)
    kafka.close()

    assert published == 5
    assert not OutboxMessage.objects.filter(published_at=None).exists()
    records = read_key(str(order_id), 5)
    ids = [dict(r.headers)["ce_id"].decode() for r in records]
    assert ids == [str(m.message_id) for m in sent]
    assert len({r.partition for r in records}) == 1  # one key, one partition, in order


def test_nothing_is_stamped_when_the_broker_refuses(topics):
    with transaction.atomic():
        outbox.send(OrderCancelled(order_id=uuid.uuid4(), reason="x"))
    kafka = producer()
    OutboxMessage.objects.update(topic="no.such.topic.allowed!")  # an illegal topic name

    with pytest.raises(Exception):  # noqa: B017 - kafka-python raises several error types here
        Relay().publish_batch(kafka)
    kafka.close(timeout=1)

    assert OutboxMessage.objects.filter(published_at=None).count() == 1


def test_a_second_relay_stands_by_while_one_publishes():
    with _listening_connection() as leader:
        assert leader.execute("SELECT pg_try_advisory_lock(%s)", [RELAY_LOCK_ID]).fetchone()[0]
        stop = threading.Event()
        standby = Relay(stop)
        waiting = threading.Thread(
            target=standby._wait_for_leadership, args=(_listening_connection(),)
        )
        waiting.start()
        waiting.join(timeout=1.5)
        assert waiting.is_alive()  # still waiting for the lock
        stop.set()
        waiting.join(timeout=3)
        assert not waiting.is_alive()
