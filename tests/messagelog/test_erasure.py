"""The audit group witnesses erasures: on CustomerErased it redacts the log's records of
that order and the runtime's copies, and a record of it read again is stored redacted."""

import json
import uuid
from dataclasses import replace

import pytest
from django.db import transaction

from messagelog.audit import record_batch
from messagelog.models import MessageRecord
from messaging import outbox
from messaging.contracts import ERASED
from messaging.models import ErasedKey, OutboxMessage
from messaging.wire import RawRecord, encode
from shop.contracts import CancelOrder, CustomerErased, OrderCancelled, PlaceOrder, RequestedLine
from tests.factories import CUSTOMER, order_placed, record_of

pytestmark = pytest.mark.django_db


def the_person_in(value) -> list[str]:
    text = json.dumps(value) if not isinstance(value, str) else value
    return [
        v for v in (CUSTOMER.name, CUSTOMER.email, CUSTOMER.phone, CUSTOMER.address) if v in text
    ]


@pytest.fixture
def order():
    """An order's PlaceOrder and OrderPlaced, in the outbox and in the log; another's too."""
    order_id, other_id = uuid.uuid4(), uuid.uuid4()
    records = []
    for offset, key in enumerate((order_id, other_id)):
        place = PlaceOrder(
            order_id=key,
            customer=CUSTOMER,
            lines=(RequestedLine(sku="MUG-001", quantity=1),),
            account_id=7,
        )
        with transaction.atomic():
            metadata = outbox.send(place, correlation_id=uuid.uuid4())
        placed = order_placed(("MUG-001", 1), order_id=key)
        records += [
            as_published(place, metadata, offset=10 + offset),
            record_of(placed, offset=20 + offset, caused_by=metadata),
        ]
    record_batch([replace(r, timestamp=1_000) for r in records])
    return order_id, other_id


def as_published(message, metadata, *, offset: int) -> RawRecord:
    """The record the relay publishes for an outbox row."""
    wire = encode(message.topic, metadata, message.model_dump(mode="json"))
    return RawRecord(wire.topic, 0, offset, wire.key, wire.value, wire.headers)


def erased(order_id, *, topic: str | None = None) -> RawRecord:
    record = record_of(CustomerErased(order_id=order_id), offset=99)
    return replace(record, topic=topic or record.topic, timestamp=2_000)


def test_an_erasure_event_redacts_the_orders_records_and_its_outbox_rows(order):
    order_id, other_id = order

    record_batch([erased(order_id)])

    for row in MessageRecord.objects.filter(key=str(order_id)):
        assert the_person_in(row.payload) == [], row.type
    place = MessageRecord.objects.get(key=str(order_id), type="shop.PlaceOrder")
    assert place.payload["account_id"] is None
    assert place.payload["lines"] == [{"sku": "MUG-001", "quantity": 1}]
    assert the_person_in(OutboxMessage.objects.get(key=str(order_id)).payload) == []
    assert ErasedKey.objects.filter(key=str(order_id)).exists()
    # Another order's customer is not touched.
    assert CUSTOMER.email in json.dumps(
        MessageRecord.objects.get(key=str(other_id), type="shop.OrderPlaced").payload
    )


def test_a_record_of_an_erased_order_read_again_is_stored_redacted(order):
    """The broker lost its topics and the relay published them again: new coordinates."""
    order_id, _ = order
    record_batch([erased(order_id)])

    again = replace(record_of(order_placed(("MUG-001", 1), order_id=order_id)), offset=500)
    record_batch([replace(again, timestamp=3_000)])

    newest = MessageRecord.objects.filter(key=str(order_id), offset=500).get()
    assert the_person_in(newest.payload) == []
    assert newest.payload["lines"][0]["sku"] == "MUG-001"


def test_an_erasure_claimed_on_the_wrong_topic_erases_nothing(order):
    """ce_type is a claim any producer can make; only the shop's topic carries its events."""
    order_id, _ = order

    record_batch([erased(order_id, topic="warehouse.events")])

    assert not ErasedKey.objects.exists()
    placed = MessageRecord.objects.get(key=str(order_id), type="shop.OrderPlaced")
    assert CUSTOMER.email in json.dumps(placed.payload)


def test_the_reason_a_customer_typed_is_redacted_with_them(order):
    """CancelOrder's reason travels on in OrderCancelled: both copies lose the words."""
    order_id, _ = order
    words = "Moving to 3 Elm Street, sorry"
    cancel = CancelOrder(order_id=order_id, reason=words)
    cancelled = OrderCancelled(order_id=order_id, reason=words)
    with transaction.atomic():
        metadata = outbox.send(cancelled, correlation_id=uuid.uuid4())
    records = [record_of(cancel, offset=30), as_published(cancelled, metadata, offset=31)]
    record_batch([replace(r, timestamp=1_000) for r in records])

    record_batch([erased(order_id)])

    for kind in ("shop.CancelOrder", "shop.OrderCancelled"):
        assert MessageRecord.objects.get(key=str(order_id), type=kind).payload["reason"] == ERASED
    row = OutboxMessage.objects.get(key=str(order_id), type="shop.OrderCancelled")
    assert row.payload["reason"] == ERASED
