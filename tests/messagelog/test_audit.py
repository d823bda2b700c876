"""The audit group's message log: every record once, even when a broker starts over."""

from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messagelog.audit import record_batch
from messagelog.models import MessageRecord
from messaging.wire import decode, decode_headers
from tests.factories import order_placed, record_of

pytestmark = pytest.mark.django_db


def test_reading_a_record_again_does_not_log_it_twice():
    record = replace(record_of(order_placed(("MUG-001", 1)), offset=5), timestamp=1_000)

    record_batch([record])
    record_batch([record])

    assert MessageRecord.objects.count() == 1


def test_a_broker_that_lost_its_topics_reuses_offsets_and_nothing_new_is_lost():
    # The demo's in-memory broker after a restart: a new record at an old offset.
    before = replace(record_of(order_placed(("MUG-001", 1)), offset=0), timestamp=1_000)
    after = replace(record_of(order_placed(("KTL-002", 1)), offset=0), timestamp=9_000)

    record_batch([before])
    record_batch([after])

    assert MessageRecord.objects.count() == 2


def test_a_batch_is_stored_whole_in_one_statement_with_its_erased_keys_looked_up_in_it():
    records = [record_of(order_placed(("MUG-001", 1)), offset=n) for n in range(12)]

    with CaptureQueriesContext(connection) as queries:
        record_batch(records)

    assert MessageRecord.objects.count() == 12
    writes = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(writes) == 1 and "messaging_erasedkey" in writes[0]


def test_a_batch_keeps_each_records_fields_as_read():
    record = replace(record_of(order_placed(("MUG-001", 2)), offset=7), timestamp=1_234)

    record_batch([record])

    stored = MessageRecord.objects.get()
    metadata, data = decode(record.key, record.value, record.headers)
    assert (stored.topic, stored.partition, stored.offset, stored.record_timestamp) == (
        "orders",
        0,
        7,
        1_234,
    )
    assert (stored.message_id, stored.type, stored.source, stored.kind) == (
        metadata.message_id,
        "shop.OrderPlaced",
        "shop",
        "event",
    )
    assert (stored.correlation_id, stored.causation_id, stored.time) == (
        metadata.correlation_id,
        metadata.causation_id,
        metadata.time,
    )
    assert stored.payload == data and stored.raw_value == ""
    assert stored.headers == decode_headers(record.headers) and stored.recorded_at is not None
