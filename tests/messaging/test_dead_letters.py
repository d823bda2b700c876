"""Dead letters: the copy on the group's dead-letter topic, redelivery and skipping."""

import struct

import pytest
from kafka import TopicPartition

from messaging import deadletter_headers, deadletters, handling, registry, retrying
from messaging.inbox import Outcome, Seen, handle_record
from messaging.kafka import end_offsets, reader
from messaging.models import DeadLetter, InboxEntry, ParkedRecord
from messaging.topics import create_topics
from messaging.wire import RawRecord
from tests.factories import order_placed, product, record_of
from warehouse.models import Stock

pytestmark = pytest.mark.django_db


def test_a_bad_record_is_copied_to_the_group_topic_with_springs_dead_letter_headers():
    create_topics(partitions=1)
    record = RawRecord("orders", 0, 41, b"k", b"\x00garbage", [], timestamp=1_700_000_000_123)
    handle_record(registry.group("warehouse"), record)

    assert deadletters.publish_pending() == 1

    copy = _last_record("warehouse.dead-letters", b"k")
    headers = dict(copy.headers)
    assert copy.value.endswith(b"garbage")
    # Encoded as Spring's DeadLetterPublishingRecoverer encodes them: ints and longs
    # big-endian, text UTF-8.
    assert headers["kafka_dlt-original-topic"] == b"orders"
    assert struct.unpack(">i", headers["kafka_dlt-original-partition"]) == (0,)
    assert struct.unpack(">q", headers["kafka_dlt-original-offset"]) == (41,)
    assert struct.unpack(">q", headers["kafka_dlt-original-timestamp"]) == (1_700_000_000_123,)
    assert headers["kafka_dlt-original-timestamp-type"] == b"CreateTime"
    assert headers["kafka_dlt-original-consumer-group"] == b"warehouse"
    assert headers["kafka_dlt-exception-fqcn"] == b"malformed"  # refused, not raised
    assert headers["kafka_dlt-exception-message"]
    assert "kafka_dlt-exception-stacktrace" not in headers  # no trace for a bad record
    assert (headers["dlt-attempts"], headers["dlt-reason"]) == (b"1", b"malformed")
    assert not [name for name in headers if name.startswith("dlq_")]
    assert DeadLetter.objects.get().published_at is not None
    assert deadletters.publish_pending() == 0


def test_a_failed_handlers_copy_keeps_the_records_own_headers_and_names_the_exception():
    create_topics(partitions=1)
    record = record_of(order_placed(("MUG-001", 2)), offset=7)
    letter = _dead_letter_for(record)
    letter.traceback = (
        "Traceback (most recent call last):\n"
        '  File "warehouse/services.py", line 9, in stock_reserve\n'
        '    raise ConnectionError("was down")\n'
        "warehouse.services.ConnectionError: was down\n"
    )
    letter.error = "ConnectionError: was down"
    letter.save()

    deadletters.publish_pending()

    copy = _last_record("warehouse.dead-letters", record.key)
    own = {n: v for n, v in copy.headers if not n.startswith(("kafka_dlt-", "dlt-"))}
    assert own == dict(record.headers)  # ce_* and content-type, as Spring keeps them
    read = deadletter_headers.read(copy.headers)
    assert (read.group, read.topic, read.partition, read.offset) == ("warehouse", "orders", 0, 7)
    assert (read.exception, read.message) == ("warehouse.services.ConnectionError", "was down")
    assert read.trace == letter.traceback
    assert (read.attempts, read.reason) == (5, "handler_failed")


def test_a_copy_written_with_the_old_header_names_is_still_read():
    old = [
        ("ce_id", b"5f0c1a2e-0000-4000-8000-000000000000"),
        ("dlq_group", b"warehouse"),
        ("dlq_reason", b"handler_failed"),
        ("dlq_exception", b"RuntimeError"),
        ("dlq_message", b"was down"),
        ("dlq_attempts", b"5"),
        ("dlq_original_topic", b"orders"),
        ("dlq_original_partition", b"3"),
        ("dlq_original_offset", b"41"),
    ]

    read = deadletter_headers.read(old)

    assert read == deadletter_headers.DeadLetterHeaders(
        group="warehouse",
        topic="orders",
        partition=3,
        offset=41,
        timestamp=None,
        exception="RuntimeError",
        message="was down",
        trace="",
        attempts=5,
        reason="handler_failed",
    )
    assert deadletter_headers.read([("ce_id", b"x")]) is None  # not a dead letter


def _last_record(topic: str, key: bytes):
    """The last record of `key` on the topic. The topic may have been made with more than
    one partition earlier in the session (the key then picks one), and other tests' copies
    are on it too: every partition is read to the end offset taken now (an empty poll is
    not the end: a fetch may still be on its way)."""
    consumer = reader()
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    ends = end_offsets(consumer, partitions)  # Tansu's ListOffsets alone can fall short
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    records = []
    while any(consumer.position(tp) < ends[tp] for tp in partitions):
        for batch in consumer.poll(1000).values():
            records += [r for r in batch if r.key == key]
    consumer.close()
    return records[-1]


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

    first = retrying.redeliver_dead_letter(letter.id, by="operator")
    again = retrying.redeliver_dead_letter(letter.id, by="someone else")  # a stale tab

    assert (first, again) == (Outcome.HANDLED, "already retried and handled")
    assert Stock.objects.get(sku="MUG-001").reserved == 2
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by) == ("retried", "operator")
    assert letter.resolution_note == "redelivered: handled"


def test_a_dead_letter_that_had_in_fact_been_handled_is_redelivered_harmlessly():
    product("MUG-001", stock=5)
    record = record_of(order_placed(("MUG-001", 2)))
    handle_record(registry.group("warehouse"), record)
    letter = _dead_letter_for(record)

    assert retrying.redeliver_dead_letter(letter.id, by="operator") == Outcome.DUPLICATE

    assert Stock.objects.get(sku="MUG-001").reserved == 2
    assert InboxEntry.objects.get(group="warehouse").duplicates == 1


def test_a_retry_and_a_skip_of_one_dead_letter_take_effect_once():
    """An operator's retry waits on the group's queue while another operator skips it."""
    product("MUG-001", stock=5)
    letter = _dead_letter_for(record_of(order_placed(("MUG-001", 2))))

    assert retrying.skip_dead_letter(letter.id, by="first", reason="refunded by hand")
    assert retrying.redeliver_dead_letter(letter.id, by="second") == "already skipped"

    assert Stock.objects.get(sku="MUG-001").reserved == 0
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by) == ("skipped", "first")


def test_skipping_keeps_the_reason_and_who():
    letter = _dead_letter_for(record_of(order_placed(("MUG-001", 1))))

    retrying.skip_dead_letter(letter.id, by="operator", reason="the order was refunded by hand")

    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by, letter.resolution_note) == (
        "skipped",
        "operator",
        "the order was refunded by hand",
    )


def test_a_cancellation_never_takes_effect_before_its_dead_lettered_placement(
    monkeypatch, settings
):
    """Sales fails on an OrderPlaced until it is dead-lettered; the order's cancellation
    follows. An operator fixes the cause and retries: the order counts as cancelled."""
    from sales import services as sales_services
    from sales.models import DailyProductSales
    from shop.contracts import OrderCancelled

    settings.MESSAGING = {**settings.MESSAGING, "HANDLER_ATTEMPTS": 2}
    sales = registry.group("sales")
    real_record = sales_services.sale_record
    monkeypatch.setattr(sales_services, "sale_record", _raises("sales database full"))
    placed = order_placed(("MUG-001", 2))
    key = str(placed.order_id)
    consume(sales, record_of(placed, offset=0))
    _retry_now("sales", key)  # the last attempt: a dead letter now
    consume(sales, record_of(OrderCancelled(order_id=placed.order_id, reason="x"), offset=1))

    assert not DailyProductSales.objects.exists()  # nothing handled out of order
    monkeypatch.setattr(sales_services, "sale_record", real_record)
    letter = DeadLetter.objects.get()
    assert retrying.redeliver_dead_letter(letter.id, by="operator") == Outcome.HANDLED

    row = DailyProductSales.objects.get(sku="MUG-001")
    assert (row.orders, row.units, row.cancelled_orders, row.cancelled_units) == (0, 0, 1, 2)
    assert not ParkedRecord.objects.exists()


def consume(group, *records):
    from messaging import parking

    parked = Seen(group.name, keys={parking.key_of(r) for r in records}).parked
    return [handling.handle(group, r, parked) for r in records]


def _retry_now(group_name: str, key: str) -> None:
    from django.utils import timezone

    ParkedRecord.objects.filter(dead_letter=None).update(next_attempt_at=timezone.now())
    retrying.retry(group_name, key)


def _raises(error: str):
    def fail(**kwargs):
        raise RuntimeError(error)

    return fail
