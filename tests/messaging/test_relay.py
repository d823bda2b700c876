"""The relay against the session's real broker and database."""

import threading
import uuid

import pytest
from django.db import connection, transaction
from kafka import TopicPartition
from kafka.admin import NewTopic
from kafka.errors import MessageSizeTooLargeError

from messaging import outbox
from messaging.kafka import admin, end_offsets, producer, reader
from messaging.models import OutboxMessage
from messaging.relay import RELAY_LOCK_ID, ProducerBroken, Relay
from messaging.topics import create_topics
from shop.contracts import OrderCancelled
from tests.factories import database_session

pytestmark = pytest.mark.django_db


TOPIC = "relay-test"  # not a contract topic: no consumer group of the e2e tests reads it


@pytest.fixture(scope="module")
def topics():
    create_topics(partitions=2)
    client = admin()
    if TOPIC not in client.list_topics():
        client.create_topics([NewTopic(TOPIC, 2, 1)])
    client.close()


@pytest.fixture
def kafka():
    client = producer()
    yield client
    client.close(timeout=1)


def read_key(key: str) -> list:
    """Every record of the test topic with this key, read up to the partitions' ends."""
    consumer = reader()
    partitions = [TopicPartition(TOPIC, p) for p in consumer.partitions_for_topic(TOPIC)]
    ends = end_offsets(consumer, partitions)
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    found = []
    while any(consumer.position(tp) < ends[tp] for tp in partitions):
        for records in consumer.poll(timeout_ms=500).values():
            found += [r for r in records if r.key == key.encode()]
    consumer.close()
    return sorted(found, key=lambda r: (r.partition, r.offset))


def cancellations(order_id: uuid.UUID, count: int) -> list:
    with transaction.atomic():
        messages = [OrderCancelled(order_id=order_id, reason=f"#{n}") for n in range(count)]
        sent = [outbox.send(message) for message in messages]
    OutboxMessage.objects.filter(topic="orders").update(topic=TOPIC)
    return sent


def test_rows_are_published_in_order_and_stamped_with_where_kafka_put_them(topics, kafka):
    order_id = uuid.uuid4()
    sent = cancellations(order_id, 5)
    relay = Relay()

    with relay.leadership():
        published = relay.publish_batch(kafka)

    assert published == 5
    assert not OutboxMessage.objects.pending().exists()
    records = read_key(str(order_id))
    ids = [dict(r.headers)["ce_id"].decode() for r in records]
    assert ids == [str(m.message_id) for m in sent]
    assert len({r.partition for r in records}) == 1  # one key, one partition, in order
    stamped = OutboxMessage.objects.order_by("id").values_list("partition", "offset")
    assert list(stamped) == [(r.partition, r.offset) for r in records]


def test_a_batch_takes_two_statements_its_rows_and_their_stamps(topics, kafka):
    """The stamp also asks whether the broker gave this batch's offsets to rows stamped
    before (recovery.republish_overwritten); nothing was lost, so nothing else is asked."""
    from django.test.utils import CaptureQueriesContext

    cancellations(uuid.uuid4(), 3)
    relay = Relay()

    with relay.leadership(), CaptureQueriesContext(connection) as queries:
        published = relay.publish_batch(kafka)

    assert published == 3
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT", "WITH"]
    assert not OutboxMessage.objects.pending().exists()


def test_a_relay_that_does_not_hold_the_lock_publishes_nothing(topics, kafka):
    """The fence: a relay whose leadership moved on cannot pick a single row."""
    order_id = uuid.uuid4()
    cancellations(order_id, 2)

    assert Relay().publish_batch(kafka) == 0

    assert OutboxMessage.objects.pending().count() == 2
    assert read_key(str(order_id)) == []


def test_a_leader_whose_session_was_terminated_stops_at_once_and_a_standby_takes_over(
    topics, kafka
):
    order_id = uuid.uuid4()
    cancellations(order_id, 3)
    relay = Relay()
    with relay.leadership():
        pid = connection.connection.info.backend_pid
        with database_session() as other:
            # Waits until the session is gone (pg_terminate_backend only signals it).
            other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
            # The lock went with the session: a standby wins it at once.
            won = other.execute("SELECT pg_try_advisory_lock(%s)", [RELAY_LOCK_ID]).fetchone()[0]
            with pytest.raises(Exception):  # noqa: B017 - the dead session, as psycopg says it
                relay.publish_batch(kafka)
            other.execute("SELECT pg_advisory_unlock(%s)", [RELAY_LOCK_ID])
    connection.close()  # the test's transaction died with the session, rows and all

    assert won
    assert read_key(str(order_id)) == []


def test_a_row_kafka_refuses_for_good_is_dead_lettered_and_its_key_waits_behind_it(
    topics, kafka, settings
):
    settings.MESSAGING = {**settings.MESSAGING, "MAX_RECORD_BYTES": 2000}
    big, other = uuid.uuid4(), uuid.uuid4()
    with transaction.atomic():
        refused = outbox.send(OrderCancelled(order_id=big, reason="x" * 190))
        later = outbox.send(OrderCancelled(order_id=big, reason="later"))
        fine = outbox.send(OrderCancelled(order_id=other, reason="fine"))
    OutboxMessage.objects.update(topic=TOPIC)
    OutboxMessage.objects.filter(message_id=refused.message_id).update(
        payload={"order_id": str(big), "reason": "x" * 4000}
    )
    relay = Relay()

    with relay.leadership():
        assert relay.publish_batch(kafka) == 2  # one refused, one published
        assert relay.publish_batch(kafka) == 0  # the later one waits behind the refused

    row = OutboxMessage.objects.get(message_id=refused.message_id)
    assert row.refused_at and "larger than MAX_RECORD_BYTES (2000)" in row.refusal
    assert OutboxMessage.objects.get(message_id=fine.message_id).published_at
    assert OutboxMessage.objects.get(message_id=later.message_id).published_at is None
    assert read_key(str(big)) == [] and len(read_key(str(other))) == 1

    outbox.skip([row], by="operator")  # an operator gives up on it: its key goes on
    with relay.leadership():
        assert relay.publish_batch(kafka) == 1
    assert [dict(r.headers)["ce_id"].decode() for r in read_key(str(big))] == [
        str(later.message_id)
    ]


def test_a_refused_row_published_again_keeps_its_place(topics, kafka, settings):
    settings.MESSAGING = {**settings.MESSAGING, "MAX_RECORD_BYTES": 2000}
    key = uuid.uuid4()
    sent = cancellations(key, 2)
    first = OutboxMessage.objects.get(message_id=sent[0].message_id)
    too_big = {"order_id": str(key), "reason": "x" * 4000}
    OutboxMessage.objects.filter(id=first.id).update(payload=too_big)
    relay = Relay()
    with relay.leadership():
        relay.publish_batch(kafka)

    settings.MESSAGING = {**settings.MESSAGING, "MAX_RECORD_BYTES": 1_000_000}  # the fix
    outbox.publish_again([first])
    relay = Relay()
    with relay.leadership():
        assert relay.publish_batch(kafka) == 2

    assert [dict(r.headers)["ce_id"].decode() for r in read_key(str(key))] == [
        str(m.message_id) for m in sent
    ]


def test_nothing_is_stamped_when_the_broker_is_not_usable(topics, kafka):
    with transaction.atomic():
        outbox.send(OrderCancelled(order_id=uuid.uuid4(), reason="x"))
    OutboxMessage.objects.update(topic="no.such.topic.allowed!")  # an illegal topic name
    relay = Relay()

    with relay.leadership(), pytest.raises(Exception):  # noqa: B017 - kafka-python raises several types
        relay.publish_batch(kafka)

    assert OutboxMessage.objects.pending().count() == 1


def test_a_second_relay_stands_by_while_one_publishes():
    with database_session() as leader:
        assert leader.execute("SELECT pg_try_advisory_lock(%s)", [RELAY_LOCK_ID]).fetchone()[0]
        stop = threading.Event()
        entered = threading.Event()

        def stand_by():
            with Relay(stop).leadership() as session:
                if session is not None:
                    entered.set()
            connection.close()

        waiting = threading.Thread(target=stand_by)
        waiting.start()
        waiting.join(timeout=1.5)
        assert waiting.is_alive() and not entered.is_set()  # still waiting for the lock
        stop.set()
        waiting.join(timeout=3)
        assert not waiting.is_alive() and not entered.is_set()


class RefusingBroker:
    """A producer whose broker refuses the record of one key, and which then fails every
    unfinished record, as kafka-python's idempotent producer does after such a refusal."""

    def __init__(self, refused_key: str, real) -> None:
        self.refused_key, self.real, self.broken, self.futures = (
            refused_key.encode(),
            real,
            False,
            [],
        )

    def send(self, topic, *, key, value, headers):
        if key == self.refused_key or self.broken:
            self.broken = True
            return Refused()
        return self.real.send(topic, key=key, value=value, headers=headers)

    def flush(self):
        self.real.flush()


class Refused:
    def get(self):
        raise MessageSizeTooLargeError("over the broker's max.message.bytes")


def test_a_row_the_broker_refuses_is_found_alone_and_the_others_go_on(topics, kafka):
    before, big, after = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with transaction.atomic():
        sent = [outbox.send(OrderCancelled(order_id=i, reason="x")) for i in (before, big, after)]
    OutboxMessage.objects.update(topic=TOPIC)
    relay = Relay()

    with relay.leadership():
        with pytest.raises(ProducerBroken):  # the batch: `before` acknowledged, then broken
            relay.publish_batch(RefusingBroker(str(big), kafka))
        with pytest.raises(ProducerBroken):  # one at a time, on a new producer: found
            relay.publish_batch(RefusingBroker(str(big), kafka))
        assert relay.publish_batch(RefusingBroker(str(big), kafka)) == 1  # the rest goes on

    refused = OutboxMessage.objects.refused().get()
    assert refused.message_id == sent[1].message_id
    assert refused.refusal.startswith("MessageSizeTooLargeError")
    assert not OutboxMessage.objects.pending().exists()
    assert len(read_key(str(before))) == len(read_key(str(after))) == 1
