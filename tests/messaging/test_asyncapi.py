"""The event API document (messaging.asyncapi): valid AsyncAPI 3.0, complete, self-contained,
and describing the records the wire format really writes."""

import copy
import json
import sys
import uuid
from pathlib import Path

import pytest
from jsonschema.validators import Draft7Validator, validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from messaging import conf
from messaging.asyncapi import build
from messaging.contracts import all_message_classes, contract_topics
from messaging.metadata import Metadata
from messaging.schemas import snapshot_path
from messaging.wire import decode_headers, encode
from warehouse.contracts import DispatchOrder, StockLevelChanged

# Where `make test` puts the official schema (from the npm package @asyncapi/specs).
ASYNCAPI_SCHEMA = Path(sys.prefix) / "share" / "asyncapi" / "3.0.0.json"


@pytest.fixture(scope="module")
def document() -> dict:
    return build()


@pytest.fixture(scope="module")
def asyncapi_validator():
    if not ASYNCAPI_SCHEMA.exists():
        pytest.fail(
            f"{ASYNCAPI_SCHEMA} is missing: run `make test`, which fetches the official "
            "AsyncAPI 3.0 JSON Schema into the virtualenv"
        )
    schema = json.loads(ASYNCAPI_SCHEMA.read_text())
    # Draft-07; its parts are embedded under their own $id, which the validator resolves
    # from the file itself (and draft-07's meta-schema from jsonschema's own copy).
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def problems(validator, document: dict) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator.iter_errors(document)
    ]


def test_the_document_is_valid_asyncapi_3(document, asyncapi_validator):
    assert document["asyncapi"] == "3.0.0"
    assert problems(asyncapi_validator, document) == []


@pytest.mark.parametrize(
    "break_it",
    [
        pytest.param(lambda d: d["info"].pop("title"), id="info without a title"),
        pytest.param(lambda d: d.pop("info"), id="no info"),
        pytest.param(
            lambda d: d["operations"]["shop.send.warehouse.commands"].update(action="publish"),
            id="an AsyncAPI 2 action",
        ),
        pytest.param(
            lambda d: d["components"]["messages"]["warehouse.DispatchOrder"].update(
                correlationId={"location": "ce_correlationid"}
            ),
            id="a correlation id that is no runtime expression",
        ),
        pytest.param(
            lambda d: d["components"]["schemas"]["warehouse.DispatchOrder.v2"].update(
                required="order_id"
            ),
            id="a payload schema that is no JSON Schema",
        ),
    ],
)
def test_a_broken_document_fails_validation(document, asyncapi_validator, break_it):
    broken = copy.deepcopy(document)
    break_it(broken)

    assert problems(asyncapi_validator, broken) != []


def test_every_topic_is_a_channel_and_every_message_type_is_on_its_topic(document):
    channels = document["channels"]
    messages = document["components"]["messages"]

    assert set(channels) == set(contract_topics())
    assert all(channels[topic]["address"] == topic for topic in channels)
    for cls in all_message_classes():
        name = cls.type_name()
        assert messages[name]["x-contract"]["version"] == cls.version, name
        assert messages[name]["payload"] == {"$ref": f"#/components/schemas/{cls.schema_name()}"}
        assert name in channels[cls.topic]["messages"], name


def test_every_version_with_a_snapshot_has_its_schema(document):
    schemas = document["components"]["schemas"]
    described = []
    for cls in all_message_classes():
        for version in range(1, cls.version + 1):
            if version == cls.version or snapshot_path(cls, version).exists():
                name = f"{cls.type_name()}.v{version}"
                assert schemas[name]["title"] == name
                described.append(name)
    # Not only current versions: DispatchOrder's version 1 is read from its snapshot.
    assert "warehouse.DispatchOrder.v1" in described
    assert "warehouse.DispatchOrder.v1" in document["components"]["messages"]
    assert document["components"]["messages"]["warehouse.DispatchOrder.v1"]["deprecated"]


def test_every_reference_resolves_within_the_document(document):
    refs = list(references(document))

    assert len(refs) > 100
    for ref in refs:
        assert ref.startswith("#/"), ref
        node = document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        assert isinstance(node, dict), ref
    # pydantic's "#/$defs/..." were moved: the document has no $defs to point into.
    assert not any("$defs" in ref for ref in refs)


def references(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def test_operations_send_current_versions_and_receive_every_version(document):
    operations = document["operations"]

    def sent(operation_id):
        return [m["$ref"].rsplit("/", 1)[1] for m in operations[operation_id]["messages"]]

    # A command is sent by its senders, an event by its owner; only the current version.
    assert "warehouse.DispatchOrder" in sent("shop.send.warehouse.commands")
    assert "warehouse.DispatchOrder.v1" not in sent("shop.send.warehouse.commands")
    assert "warehouse.StockReserved" in sent("warehouse.send.warehouse.events")
    # A group receives what it handles, in any version still on the topic.
    assert {"warehouse.DispatchOrder", "warehouse.DispatchOrder.v1"} <= set(
        sent("warehouse.receive.warehouse.commands")
    )
    assert "warehouse.receive.warehouse.events" not in operations  # it handles none of them
    # The message log's audit group reads every record of every topic.
    for topic, channel in document["channels"].items():
        assert set(sent(f"audit.receive.{topic}")) == set(channel["messages"])
    # What JSON Schema cannot check: an operation's messages are its channel's.
    for operation_id, operation in operations.items():
        channel = operation["channel"]["$ref"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(f"{channel}/messages/"), operation_id


def test_a_record_matches_its_message_and_its_dataschema_resolves(document):
    """What any Kafka client can do: follow the record's ce_dataschema into the document
    and validate the value there, and the headers against the message's."""
    command = DispatchOrder(order_id=uuid.uuid4(), recipient="Ada", address="12 Row")
    record = encode(command.topic, Metadata.for_message(command), command.model_dump(mode="json"))
    headers = decode_headers(record.headers)
    message = document["components"]["messages"]["warehouse.DispatchOrder"]
    url = conf.get("EVENT_API_URL")
    registry = Registry().with_resource(url, Resource(document, DRAFT7))

    def valid(value) -> bool:
        return Draft7Validator({"$ref": headers["ce_dataschema"]}, registry=registry).is_valid(
            value
        )

    assert headers["ce_dataschema"].startswith(url + "#/components/schemas/")
    assert valid(json.loads(record.value))
    assert not valid({**json.loads(record.value), "lines": []})  # version 1's field
    assert list(Draft7Validator(message["headers"]).iter_errors(headers)) == []
    version_1 = document["components"]["messages"]["warehouse.DispatchOrder.v1"]
    assert not Draft7Validator(version_1["headers"]).is_valid(headers)


def test_the_key_is_the_key_field_of_the_payload(document):
    messages = document["components"]["messages"]

    order = messages["warehouse.DispatchOrder"]["bindings"]["kafka"]["key"]
    stock = messages["warehouse.StockLevelChanged"]["bindings"]["kafka"]["key"]

    assert (order["type"], order["format"]) == ("string", "uuid")
    assert stock["type"] == "string" and "format" not in stock
    assert StockLevelChanged.key_field in stock["description"]
