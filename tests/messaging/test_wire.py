import json
import uuid

import pytest

from messaging.metadata import Metadata
from messaging.wire import MalformedRecord, decode, encode
from tests.factories import order_placed


def encoded(caused_by=None):
    event = order_placed(("MUG-001", 2))
    metadata = Metadata.for_message(event, caused_by=caused_by)
    return event, metadata, encode(event.topic, metadata, event.model_dump(mode="json"))


def test_a_record_is_a_cloudevent_in_binary_mode_keyed_by_the_order():
    event, metadata, record = encoded()
    headers = dict(record.headers)

    assert record.topic == "orders"
    assert record.key == str(event.order_id).encode()
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == str(metadata.message_id).encode()
    assert headers["ce_source"] == b"shop"
    assert headers["ce_type"] == b"shop.OrderPlaced"
    assert headers["content-type"] == b"application/json"
    assert headers["ce_messagekind"] == b"event"
    assert headers["ce_correlationid"] == str(metadata.correlation_id).encode()
    assert headers["ce_time"].endswith(b"Z")
    assert json.loads(record.value)["lines"][0] == {
        "sku": "MUG-001",
        "name": "Product MUG-001",
        "quantity": 2,
        "unit_price": {"amount": "10.00", "currency": "EUR"},
    }
    assert headers["ce_dataschema"].endswith(
        b"/api/asyncapi.json#/components/schemas/shop.OrderPlaced.v2"
    )


def test_decoding_gives_back_the_metadata_and_data():
    _, first_meta, _ = encoded()
    event, metadata, record = encoded(caused_by=first_meta)

    decoded_meta, data = decode(record.key, record.value, record.headers)

    assert decoded_meta == metadata
    assert decoded_meta.causation_id == first_meta.message_id
    assert decoded_meta.correlation_id == first_meta.correlation_id
    assert type(event).model_validate(data) == event


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda h, v: (h, b"not json{"), "not JSON"),
        (lambda h, v: (h, b"[1, 2]"), "not an object"),
        (lambda h, v: ([x for x in h if x[0] != "ce_type"], v), "type"),
        (lambda h, v: ([x for x in h if x[0] != "ce_correlationid"], v), "correlationid"),
        (lambda h, v: ([(k, b"nope" if k == "ce_id" else x) for k, x in h], v), "UUID"),
        (
            lambda h, v: ([(k, b"query" if k == "ce_messagekind" else x) for k, x in h], v),
            "messagekind",
        ),
        (lambda h, v: ([], v), "Missing required attribute"),
    ],
)
def test_a_record_that_is_not_ours_is_refused_with_a_reason(change, complaint):
    _, _, record = encoded()
    headers, value = change(record.headers, record.value)

    with pytest.raises(MalformedRecord, match=complaint):
        decode(record.key, value, headers)


def test_a_new_conversation_starts_with_a_given_correlation_id():
    event = order_placed(("MUG-001", 1))
    correlation_id = uuid.uuid4()

    metadata = Metadata.for_message(event, correlation_id=correlation_id)

    assert metadata.correlation_id == correlation_id
    assert metadata.causation_id is None
