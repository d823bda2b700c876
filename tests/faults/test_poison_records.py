"""Poison records written straight to the topics with a plain Kafka client, mid-stream.

Not JSON, an unknown type, a known type whose data breaks its contract: each consumer
group that reads the topic sets the record aside as a dead letter and goes on with the
next one; the audit group keeps it in the message log. One of them carries the key of an
order in flight, which must not hold that order up.
"""

import uuid
from datetime import UTC, datetime

import pytest
from kafka import KafkaProducer

from messagelog.models import MessageRecord
from messaging.kafka import bootstrap_servers
from messaging.registry import groups
from shop.models import Order

pytestmark = pytest.mark.faults

MALFORMED, UNKNOWN, INVALID = "not a readable CloudEvent", "unknown type", "fails its contract"


def test_poison_records_are_dead_lettered_and_every_group_goes_on(shop):
    shop.stack.start_all()
    shop.stream.place(70)
    in_flight = str(shop.stream.placed[-1])
    ce = cloud_event
    poison = [  # (why it is bad, topic, key, value, headers)
        (MALFORMED, "orders", b"poison-1", b"\x00not json at all", []),
        (UNKNOWN, "orders", b"poison-2", b'{"order_id": "1"}', ce("shop.OrderRefunded")),
        (INVALID, "orders", in_flight.encode(), b'{"order_id": 1}', ce("shop.OrderPlaced")),
        (INVALID, "shop.commands", b"poison-3", b'{"lines": []}', ce("shop.PlaceOrder", "command")),
        (MALFORMED, "warehouse.events", b"poison-4", b'{"trunc', ce("warehouse.StockReserved")),
        (UNKNOWN, "warehouse.commands", b"poison-5", b"{}", ce("warehouse.ShipToMars", "command")),
    ]
    written = write_raw([record[1:] for record in poison])
    shop.stream.place(130)

    expected = {
        (name, topic, partition, offset)
        for (why, topic, *_, headers), (partition, offset) in zip(poison, written, strict=True)
        for name in groups_setting_aside(why, topic, dict(headers).get("ce_type", b"").decode())
    }
    exercised = shop.settle(poison=expected)

    shop.report(
        "poison records written to the topics",
        exercised,
        **{
            "poison records": len(written),
            "dead letters expected (records x groups that read their topic)": len(expected),
            "poison records in the message log": sum(
                MessageRecord.objects.filter(topic=p[1], partition=part, offset=offset).count()
                for p, (part, offset) in zip(poison, written, strict=True)
            ),
        },
    )
    assert exercised.dead_letters == len(expected) > len(written)
    assert Order.objects.get(id=in_flight).status in Order.SETTLED


def cloud_event(ce_type: str, kind: str = "event") -> list[tuple[str, bytes]]:
    """The headers any CloudEvents producer would write: valid, whatever the value holds."""
    return [
        ("ce_specversion", b"1.0"),
        ("ce_id", str(uuid.uuid4()).encode()),
        ("ce_source", b"somewhere-else"),
        ("ce_type", ce_type.encode()),
        ("ce_time", datetime.now(UTC).isoformat().encode()),
        ("ce_correlationid", str(uuid.uuid4()).encode()),
        ("ce_messagekind", kind.encode()),
        ("content-type", b"application/json"),
    ]


def write_raw(records) -> list[tuple[int, int]]:
    """Produce with a bare client; returns where each record landed (partition, offset)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers())
    try:
        futures = [
            producer.send(topic, key=key, value=value, headers=headers)
            for topic, key, value, headers in records
        ]
        producer.flush()
        return [(meta.partition, meta.offset) for meta in (f.get() for f in futures)]
    finally:
        producer.close()


def groups_setting_aside(why: str, topic: str, ce_type: str) -> list[str]:
    """Every group reading the topic sets aside what it cannot read or does not know; a
    known type that fails its contract concerns only the groups that handle that type."""
    return [
        name
        for name, group in groups().items()
        if group.process_records is None
        and topic in group.subscribed_topics()
        and (why != INVALID or ce_type in group.handlers)
    ]
