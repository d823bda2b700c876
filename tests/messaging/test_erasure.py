"""Erasing a key from the runtime's own tables: the outbox, dead letters, parked records
and failed attempts lose the person, and copies written later never have one."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from messaging import erasure, outbox, parking
from messaging.deadletters import dead_letter
from messaging.metadata import Metadata
from messaging.models import DeadLetter, ErasedKey, HandlingFailure, OutboxMessage, ParkedRecord
from messaging.wire import RawRecord, encode
from shop.contracts import OrderPlaced
from tests.factories import CUSTOMER, order_placed

pytestmark = pytest.mark.django_db

VALIDATION_ERROR = (
    "1 validation error for OrderPlaced\ncustomer.address\n  Value error [type=value_error, "
    f"input_value='{CUSTOMER.address}', input_type=str]"
)


def the_person_in(text: str) -> list[str]:
    return [
        v for v in (CUSTOMER.name, CUSTOMER.email, CUSTOMER.phone, CUSTOMER.address) if v in text
    ]


def written(message: OrderPlaced, correlation_id: uuid.UUID, offset: int) -> RawRecord:
    metadata = Metadata.for_message(message, correlation_id=correlation_id)
    wire = encode(message.topic, metadata, message.model_dump(mode="json"))
    return RawRecord(wire.topic, 0, offset, wire.key, wire.value, wire.headers, timestamp=1)


@pytest.fixture
def copies():
    """One order's OrderPlaced in every table of the runtime, and another order's too."""
    placed, other = order_placed(("MUG-001", 1)), order_placed(("MUG-001", 1))
    conversation = uuid.uuid4()
    for message, correlation_id, offset in ((placed, conversation, 1), (other, uuid.uuid4(), 2)):
        with transaction.atomic():
            metadata = outbox.send(message, correlation_id=correlation_id)
        record = written(message, correlation_id, offset)
        dead_letter("sales", record, DeadLetter.Reason.INVALID, VALIDATION_ERROR, metadata)
        parking.store("warehouse", str(message.order_id), record, metadata, timezone.now())
        HandlingFailure.objects.create(
            group="notifications",
            message_id=metadata.message_id,
            type=metadata.type,
            correlation_id=correlation_id,
            attempt=1,
            error=f"SMTPRecipientsRefused: {{'{CUSTOMER.email}': (550, b'unknown')}}",
            traceback="Traceback ...",
            started_at=timezone.now() - timedelta(seconds=1),
            failed_at=timezone.now(),
        )
    return placed, conversation, other


def test_erasing_a_key_redacts_every_copy_of_its_messages_and_only_those(copies):
    placed, conversation, other = copies

    erasure.erase_key(str(placed.order_id), correlation_ids=[conversation])

    key = str(placed.order_id)
    row = OutboxMessage.objects.get(key=key)
    assert the_person_in(json.dumps(row.payload)) == []
    assert row.payload["lines"] == placed.model_dump(mode="json")["lines"]
    OrderPlaced.model_validate(row.payload)  # still a valid message: it can be sent again
    letter = DeadLetter.objects.get(key=key)
    assert the_person_in(letter.value + letter.error) == []
    OrderPlaced.model_validate_json(letter.value)  # it can still be retried
    parked = ParkedRecord.objects.get(key=key)
    assert the_person_in(bytes(parked.raw_value).decode()) == []
    failure = HandlingFailure.objects.get(correlation_id=conversation)
    assert the_person_in(failure.error) == []
    assert ErasedKey.objects.filter(key=key).exists()
    # The other order keeps its customer everywhere.
    assert CUSTOMER.email in json.dumps(OutboxMessage.objects.get(key=str(other.order_id)).payload)
    assert CUSTOMER.email in DeadLetter.objects.get(key=str(other.order_id)).value
    assert HandlingFailure.objects.exclude(correlation_id=conversation).get().error.count("@") == 1


def test_erasing_twice_changes_nothing_more(copies):
    placed, conversation, _ = copies
    erasure.erase_key(str(placed.order_id), correlation_ids=[conversation])
    before = OutboxMessage.objects.values().get(key=str(placed.order_id))

    erasure.erase_key(str(placed.order_id), correlation_ids=[conversation])

    assert OutboxMessage.objects.values().get(key=str(placed.order_id)) == before
    assert ErasedKey.objects.count() == 1


def test_a_record_of_an_erased_key_read_again_is_dead_lettered_and_parked_without_its_person():
    """A replay or a rewind reads the original record from Kafka, person and all."""
    placed = order_placed(("MUG-001", 1))
    ErasedKey.objects.create(key=str(placed.order_id))
    record = written(placed, uuid.uuid4(), offset=9)
    metadata = parking.metadata_of(record)

    letter = dead_letter(
        "sales", record, DeadLetter.Reason.HANDLER_FAILED, VALIDATION_ERROR, metadata
    )
    parked = parking.store("warehouse", str(placed.order_id), record, metadata, timezone.now())

    assert the_person_in(letter.value + letter.error + letter.traceback) == []
    assert the_person_in(bytes(parked.raw_value).decode()) == []
    assert OrderPlaced.model_validate_json(letter.value).lines == placed.lines
