"""Publishing again what the broker lost, against the session's real broker and database."""

import dataclasses
import uuid

import pytest
from django.db import transaction
from django.utils import timezone
from kafka.admin import NewTopic

from messagelog.models import MessageRecord
from messagelog.outcomes import followers
from messaging import outbox, recovery, replay
from messaging.kafka import admin, producer
from messaging.models import BrokerLoss, InboxEntry, OutboxMessage
from messaging.relay import Relay
from shop.contracts import OrderCancelled

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic():
    name = f"recovery-{uuid.uuid4().hex[:8]}"
    client = admin()
    client.create_topics([NewTopic(name, 1, 1)])
    yield name
    client.delete_topics([name])
    client.close()


def published(topic: str, *messages) -> list[OutboxMessage]:
    with transaction.atomic():
        sent = [outbox.send(m) for m in messages]
    OutboxMessage.objects.update(topic=topic)
    relay, kafka = Relay(), producer()
    with relay.leadership():
        relay.publish_batch(kafka)
    kafka.close()
    return [OutboxMessage.objects.get(message_id=m.message_id) for m in sent]


def handled_by_everyone(row: OutboxMessage) -> None:
    for group in followers(row.type):
        InboxEntry.objects.create(
            group=group, message_id=row.message_id, type=row.type,
            correlation_id=row.correlation_id, started_at=timezone.now(),
            handled_at=timezone.now(),
        )  # fmt: skip
    MessageRecord.objects.create(
        topic=row.topic, partition=row.partition, offset=row.offset, message_id=row.message_id,
        type=row.type, correlation_id=row.correlation_id, time=row.time,
    )  # fmt: skip


def lose_everything(topic: str, *, then_write: int = 0) -> None:
    """The broker forgets the topic (as the demo's in-memory broker does when it restarts)."""
    client = admin()
    client.delete_topics([topic])
    client.create_topics([NewTopic(topic, 1, 1)])
    client.close()
    kafka = producer()
    for i in range(then_write):  # somebody else's records, at the offsets ours had
        kafka.send(topic, key=b"else", value=b"%d" % i)
    kafka.close()


def test_nothing_is_published_again_while_the_broker_holds_every_record(topic):
    order = uuid.uuid4()
    published(topic, *(OrderCancelled(order_id=order, reason=f"#{i}") for i in range(3)))

    assert recovery.republish_lost([topic]) == 0
    assert not OutboxMessage.objects.pending().exists()


def test_a_broker_slow_to_answer_is_not_taken_for_one_that_lost_records(topic, monkeypatch):
    # Under load a fetch can return nothing within its wait, and ListOffsets alone can
    # fall short of the end on Tansu: neither means the records are gone. Taken for a
    # loss, rows still awaited went out a second time and the message log held them twice.
    order = uuid.uuid4()
    published(topic, *(OrderCancelled(order_id=order, reason=f"#{i}") for i in range(3)))
    monkeypatch.setattr("kafka.KafkaConsumer.poll", lambda self, *a, **kw: {})

    assert recovery.republish_lost([topic]) == 0
    assert not OutboxMessage.objects.pending().exists()
    assert not BrokerLoss.objects.exists()


@pytest.mark.parametrize("then_write", [0, 6], ids=["topic empty", "offsets reused"])
def test_what_the_broker_lost_is_published_again_unless_everyone_had_it(topic, then_write):
    waited_for, done = uuid.uuid4(), uuid.uuid4()
    rows = published(
        topic,
        OrderCancelled(order_id=waited_for, reason="a"),
        OrderCancelled(order_id=done, reason="b"),
        OrderCancelled(order_id=waited_for, reason="c"),
    )
    handled_by_everyone(rows[1])
    lose_everything(topic, then_write=then_write)

    assert recovery.republish_lost([topic]) == 2

    pending = OutboxMessage.objects.pending().order_by("id")
    assert [r.message_id for r in pending] == [rows[0].message_id, rows[2].message_id]
    kept = OutboxMessage.objects.get(id=rows[1].id)
    assert kept.published_at and kept.offset is None  # published, just no longer there
    assert recovery.republish_lost([topic]) == 0  # and it is not found lost twice

    relay, kafka = Relay(), producer()
    with relay.leadership():
        assert relay.publish_batch(kafka) == 2  # in their original order, at new offsets
    kafka.close()
    assert recovery.republish_lost([topic]) == 0


def test_a_loss_is_caught_when_new_records_take_the_lost_ones_offsets(topic):
    """The relay publishes into the emptied topic before its periodic check comes round:
    stamping that batch finds the offsets taken, and what they held goes out again."""
    order = uuid.uuid4()
    old = published(topic, OrderCancelled(order_id=order, reason="old"))
    lose_everything(topic)

    published(topic, OrderCancelled(order_id=uuid.uuid4(), reason="new"))

    again = OutboxMessage.objects.get(id=old[0].id)
    assert (again.published_at, again.offset) == (None, None)  # pending: goes out again
    loss = BrokerLoss.objects.get()
    assert (loss.topic, loss.lost, loss.republished) == (topic, 1, 1)


def test_a_rebuild_refuses_a_history_the_broker_lost_part_of():
    BrokerLoss.objects.create(topic="orders", partition=0, from_offset=0, lost=5, republished=2)
    plan = replay.plan(projection="sales", rebuild=True)

    with pytest.raises(replay.ReplayRefused, match="lost 3 records of orders"):
        replay.run(plan)
    with pytest.raises(replay.ReplayRefused, match="lost 3 records of orders"):
        replay.run(plan, dry_run=True)  # a dry run says what the rebuild would say


def test_a_rebuild_does_not_take_a_message_published_while_it_looks_for_lost_history(
    topic, monkeypatch
):
    """Orders keep flowing while a rebuild starts: a message the relay publishes between
    reading the topic's offsets and counting the outbox's published rows is no gap."""
    published(topic, OrderCancelled(order_id=uuid.uuid4(), reason="before"))
    read_offsets = replay.end_offsets

    def offsets_while_the_relay_publishes(client, partitions):
        ends = read_offsets(client, partitions)
        published(topic, OrderCancelled(order_id=uuid.uuid4(), reason="meanwhile"))
        return ends

    monkeypatch.setattr(replay, "end_offsets", offsets_while_the_relay_publishes)
    plan = dataclasses.replace(replay.plan(projection="sales", rebuild=True), topics=[topic])
    client = replay.reader()
    try:
        replay._refuse_incomplete_history(client, plan)  # refuses nothing
    finally:
        client.close()
