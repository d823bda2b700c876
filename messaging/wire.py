"""The wire format: CloudEvents 1.0, Kafka protocol binding, binary content mode.

Key = the aggregate id; value = the JSON data; attributes travel as `ce_*` headers,
with three extensions: correlationid, causationid and messagekind (command | event).
A message created in a trace also carries the CloudEvents distributed-tracing extension
(`ce_traceparent`, `ce_tracestate`) and the same context as the plain W3C `traceparent`
and `tracestate` headers that traced Kafka clients read (messaging.tracing).
`dataschema` points at the data's schema in the event API document, whose name ends in
the version the data was written as ("...#/components/schemas/shop.OrderPlaced.v2"); a
record without it was written before messages had versions, as version 1.
Any Kafka client can read such a record without this code base.
"""

import re
from dataclasses import dataclass
from uuid import UUID

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from . import conf
from .contracts import versioned_name
from .metadata import Metadata

CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True)
class RawRecord:
    """A record as read from Kafka: the parts of a kafka-python ConsumerRecord we keep."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    # The record's Kafka timestamp (ms). With topic, partition and offset it identifies the
    # record even across a broker that lost its topics and hands out offsets again (the
    # demo's in-memory broker after a restart): a re-read has the same timestamp.
    timestamp: int = 0

    @classmethod
    def from_consumer_record(cls, record) -> "RawRecord":
        return cls(
            record.topic,
            record.partition,
            record.offset,
            record.key,
            record.value,
            list(record.headers or []),
            record.timestamp or 0,
        )


class MalformedRecord(ValueError):
    """The record is not a CloudEvent of ours: bad headers, not JSON, missing attributes."""


def encode(topic: str, metadata: Metadata, data: dict) -> Record:
    attributes = {
        "specversion": "1.0",
        "id": str(metadata.message_id),
        "source": metadata.source,
        "type": metadata.type,
        "time": metadata.time,
        "datacontenttype": CONTENT_TYPE,
        "partitionkey": metadata.key,
        "correlationid": str(metadata.correlation_id),
        "messagekind": metadata.kind,
        "dataschema": dataschema(metadata.type, metadata.version),
    }
    if metadata.causation_id is not None:
        attributes["causationid"] = str(metadata.causation_id)
    trace_context = {"traceparent": metadata.traceparent, "tracestate": metadata.tracestate}
    trace_context = {name: value for name, value in trace_context.items() if value}
    attributes |= trace_context
    message = ce_kafka.to_binary(CloudEvent(attributes, data), _JSON)
    return Record(
        topic=topic,
        key=metadata.key.encode(),
        value=message.value,
        headers=[
            *message.headers.items(),
            *((name, value.encode()) for name, value in trace_context.items()),
        ],
    )


def decode(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
) -> tuple[Metadata, dict]:
    try:
        event = ce_kafka.from_binary(
            ce_kafka.KafkaMessage(headers=dict(headers), key=key, value=value or b""), _JSON
        )
        attributes = event.get_attributes()
        data = event.get_data()
        if isinstance(data, (str, bytes)) or data is None:
            raise MalformedRecord("the value is not JSON")
        if not isinstance(data, dict):
            raise MalformedRecord("the value is JSON but not an object")
        causation = attributes.get("causationid")
        metadata = Metadata(
            message_id=UUID(attributes["id"]),
            type=attributes["type"],
            source=attributes["source"],
            kind=attributes["messagekind"],
            time=attributes["time"],
            key=attributes.get("partitionkey") or "",
            correlation_id=UUID(attributes["correlationid"]),
            causation_id=UUID(causation) if causation else None,
            version=schema_version(attributes.get("dataschema")),
            traceparent=attributes.get("traceparent", ""),
            tracestate=attributes.get("tracestate", ""),
        )
    except MalformedRecord:
        raise
    # The CloudEvents SDK, json and uuid each raise their own types for bad input;
    # all of them mean the same thing here: this record cannot be understood.
    except Exception as exc:
        raise MalformedRecord(f"{type(exc).__name__}: {exc}") from exc
    if metadata.kind not in ("command", "event"):
        raise MalformedRecord(f"messagekind must be command or event, not {metadata.kind!r}")
    return metadata, data


def dataschema(type_name: str, version: int) -> str:
    """The URI of a message version's schema in the event API document."""
    return f"{conf.get('EVENT_API_URL')}#/components/schemas/{versioned_name(type_name, version)}"


_VERSION = re.compile(r"\.v([1-9][0-9]*)$")


def schema_version(schema: str | None) -> int:
    """The version a record's data was written as, from its `dataschema`."""
    # Only the name's end is read: the document's address may change (another host, a
    # proxy), the version a record was written as may not.
    if not schema:
        return 1
    found = _VERSION.search(schema)
    if found is None:
        raise MalformedRecord(f"dataschema {schema!r} does not end in a version (.v<N>)")
    return int(found.group(1))


def declared_type(headers: list[tuple[str, bytes]]) -> str:
    """The `ce_type` the headers declare, unchecked ("" when none), read as `decode` reads
    headers (the last of a name wins)."""
    return (dict(headers).get("ce_type") or b"").decode(errors="replace")


def decode_headers(headers: list[tuple[str, bytes]]) -> dict[str, str]:
    """Headers as text, for the message log; undecodable bytes are shown, not dropped."""
    return {name: as_text(value) for name, value in headers}


def as_text(raw: bytes | None) -> str:
    """Any bytes as storable text: bad UTF-8 and NUL (refused by PostgreSQL) are escaped."""
    if not raw:
        return ""
    return raw.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")


_JSON = JSONFormat()
