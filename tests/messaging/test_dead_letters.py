"""Dead letters: the copy on the group's dead-letter topic, redelivery and skipping."""

import pytest
from kafka import TopicPartition

from messaging import deadletters, registry
from messaging.handling import Outcome, handle_record
from messaging.kafka import reader
from messaging.models import DeadLetter, InboxEntry
from messaging.topics import create_topics
from tests.factories import order_placed, product, raw_record, record_of
from warehouse.models import Stock

pytestmark = pytest.mark.django_db


def test_a_dead_letter_is_copied_to_the_group_topic_with_what_went_wrong():
    create_topics(partitions=1)
    handle_record(registry.group("warehouse"), raw_record(b"\x00garbage", offset=41))

    assert deadletters.publish_pending() == 1

    consumer = reader()
    partition = TopicPartition("warehouse.dead-letters", 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    records = [r for batch in [consumer.poll(5000)] for r in batch.get(partition, [])]
    consumer.close()
    headers = {name: value.decode() for name, value in records[-1].headers}
    assert records[-1].value.endswith(b"garbage")
    assert headers["dlq_group"] == "warehouse"
    assert headers["dlq_reason"] == "malformed"
    assert headers["dlq_original_topic"] == "orders"
    assert (headers["dlq_original_partition"], headers["dlq_original_offset"]) == ("0", "41")
    assert headers["dlq_attempts"] == "1" and headers["dlq_message"]
    assert DeadLetter.objects.get().published_at is not None
    assert deadletters.publish_pending() == 0


def _dead_letter_for(record, group="warehouse"):
    letter = DeadLetter.objects.create(
        group=group,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key.decode(),
        value=record.value.decode(),
        headers={name: value.decode() for name, value in record.headers},
        reason=DeadLetter.Reason.HANDLER_FAILED,
        error="RuntimeError: was down",
        attempts=5,
    )
    return letter


def test_redelivering_a_dead_letter_handles_it_once_and_records_who_did_it():
    product("MUG-001", stock=5)
    letter = _dead_letter_for(record_of(order_placed(("MUG-001", 2))))

    first = deadletters.redeliver(letter.id, by="operator")
    again = deadletters.redeliver(letter.id, by="operator")

    assert (first, again) == (Outcome.HANDLED, Outcome.DUPLICATE)
    assert Stock.objects.get(sku="MUG-001").reserved == 2
    assert InboxEntry.objects.get(group="warehouse").duplicates == 1
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by) == ("retried", "operator")
    assert "duplicate" in letter.resolution_note


def test_skipping_keeps_the_reason_and_who():
    letter = _dead_letter_for(record_of(order_placed(("MUG-001", 1))))

    deadletters.skip(letter.id, by="operator", reason="the order was refunded by hand")

    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by, letter.resolution_note) == (
        "skipped",
        "operator",
        "the order was refunded by hand",
    )
