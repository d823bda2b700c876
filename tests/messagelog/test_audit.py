"""The audit group's message log: every record once, even when a broker starts over."""

from dataclasses import replace

import pytest

from messagelog.audit import record_batch
from messagelog.models import MessageRecord
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
