"""One AsyncAPI message object per message version: what a record of it looks like on Kafka.

The value is the payload (the version's schema); the key is the aggregate id; the
CloudEvents attributes are headers (messaging.wire), with constant values wherever the
type and version fix them, so a record matches exactly one message of its channel.
"""

import inspect

from ..wire import CONTENT_TYPE, dataschema
from .payloads import SCHEMAS, MessageVersion

KAFKA_BINDING = "0.5.0"
# Components' key of the correlation id's description, which every message refers to.
CORRELATION = "conversation"
CORRELATION_ID = {
    "description": "The conversation this message belongs to, from the BUY click on: every "
    "message caused by another carries its cause's correlation id.",
    "location": "$message.header#/ce_correlationid",
}

_UUID = {"type": "string", "format": "uuid"}
_TRACEPARENT = {"type": "string", "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"}
_IN_A_TRACE = " Present when the message was created in a trace."
# The trace context a message was created in (messaging.tracing), twice: as W3C Trace
# Context headers, which traced Kafka clients read, and as the CloudEvents
# distributed-tracing extension. Never required: a message written outside any trace has none.
TRACE_HEADERS = {
    "traceparent": {
        **_TRACEPARENT,
        "description": "W3C Trace Context: the trace and span the message was created in."
        + _IN_A_TRACE,
    },
    "tracestate": {
        "type": "string",
        "description": "W3C Trace Context: vendors' state, beside traceparent.",
    },
    "ce_traceparent": {
        **_TRACEPARENT,
        "description": "CloudEvents distributed-tracing extension: the same context as "
        "traceparent." + _IN_A_TRACE,
    },
    "ce_tracestate": {
        "type": "string",
        "description": "CloudEvents distributed-tracing extension: the same as tracestate.",
    },
}
# The schema keywords of a key field worth repeating in the key's schema (not its title).
_KEY_KEYWORDS = ("type", "format", "pattern", "minLength", "maxLength")


def message_key(version: MessageVersion) -> str:
    """Its key in `components.messages` and in its channel: the type for the current
    version ("shop.OrderPlaced"), so references survive a version bump; the schema name
    for an older one ("shop.OrderPlaced.v1")."""
    return version.contract.type_name() if version.is_current else version.schema_name


def message(version: MessageVersion) -> dict:
    contract = version.contract
    description = _description(version)
    obj = {
        "name": contract.type_name(),
        "title": f"{contract.__name__} (version {version.number})",
        "summary": description.split("\n\n")[0].replace("\n", " ") if description else "",
        "description": description,
        "contentType": CONTENT_TYPE,
        "headers": headers(version),
        "payload": {"$ref": SCHEMAS + version.schema_name},
        "correlationId": {"$ref": f"#/components/correlationIds/{CORRELATION}"},
        "tags": [{"name": contract.kind}, {"name": contract.source}]
        + ([{"name": contract.role}] if contract.role else []),
        "bindings": {"kafka": {"key": key_schema(version), "bindingVersion": KAFKA_BINDING}},
        # The contract's facts in one place, for readers that are not people (the event
        # API page among them): tags are free text, these are not.
        "x-contract": {
            "type": contract.type_name(),
            "kind": contract.kind,
            "owner": contract.source,
            "topic": contract.topic,
            "version": version.number,
            "currentVersion": contract.version,
            "role": contract.role,
            "keyField": contract.key_field,
            "schema": version.schema_name,
        },
    }
    if not version.is_current:
        obj["deprecated"] = True
        obj["description"] = (
            f"Version {version.number}, no longer written: records of it still on the "
            f"topic are read as version {contract.version} through upcasters.\n\n" + description
        ).strip()
    return {key: value for key, value in obj.items() if value != ""}


def headers(version: MessageVersion) -> dict:
    """The record's headers: CloudEvents attributes in the Kafka binding's `ce_` form."""
    contract = version.contract
    properties = {
        "ce_specversion": {"const": "1.0", "description": "CloudEvents version."},
        "ce_id": {**_UUID, "description": "The message id; redeliveries keep it."},
        "ce_source": {"const": contract.source, "description": "The owning app."},
        "ce_type": {"const": contract.type_name()},
        "ce_time": {"type": "string", "format": "date-time", "description": "When written."},
        "content-type": {"const": CONTENT_TYPE},
        "ce_partitionkey": {"type": "string", "description": "The record's key, as text."},
        "ce_correlationid": {**_UUID, "description": CORRELATION_ID["description"]},
        "ce_causationid": {
            **_UUID,
            "description": "The message that caused this one; absent on a conversation's "
            "first message.",
        },
        "ce_messagekind": {"const": contract.kind, "description": "command or event."},
        "ce_dataschema": {
            "const": dataschema(contract.type_name(), version.number),
            "description": "The payload's schema in this document. A record without it "
            "was written before messages had versions, and is version 1.",
        },
    }
    required = [name for name in properties if name != "ce_causationid"]
    if version.number == 1:
        required.remove("ce_dataschema")
    return {"type": "object", "properties": properties | TRACE_HEADERS, "required": required}


def key_schema(version: MessageVersion) -> dict:
    """The Kafka key: the value of the contract's key field, so one aggregate's records
    share a partition and stay in order."""
    field = version.contract.key_field
    declared = version.schema.get("properties", {}).get(field, {})
    schema = {k: declared[k] for k in _KEY_KEYWORDS if k in declared} or {"type": "string"}
    schema["description"] = f"The `{field}` of the payload, as UTF-8 text."
    return schema


def _description(version: MessageVersion) -> str:
    if version.is_current:
        return inspect.cleandoc(version.contract.__doc__ or "")
    # An older version is described as it was, by its snapshot.
    return version.schema.get("description", "")
