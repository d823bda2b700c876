"""messaging.compatibility: which schema changes break an event's consumers or a command's
senders, on small hand-written schemas and on the committed snapshots."""

import pytest

from messaging.compatibility import breaking_changes, changes
from messaging.contracts import all_message_classes
from messaging.schemas import payload_schema, read_snapshot
from warehouse.contracts import DispatchOrder

STRING = {"type": "string"}
INTEGER = {"type": "integer"}


def message(*required: str, defs: dict | None = None, **properties: dict) -> dict:
    schema = {
        "additionalProperties": False,
        "properties": properties,
        "required": list(required),
        "title": "test.Message.v1",
        "type": "object",
    }
    return schema | ({"$defs": defs} if defs else {})


def line(**quantity: object) -> dict:
    return message("sku", "quantity", sku=STRING, quantity={"type": "integer", **quantity})


def both(old: dict, new: dict) -> dict[str, list[str]]:
    return {kind: breaking_changes(old, new, kind=kind) for kind in ("event", "command")}


BASE = message("order_id", "reason", order_id=STRING, reason={**STRING, "maxLength": 100})

COMPATIBLE = {
    "nothing changed": BASE,
    "a title and a description": {
        **BASE,
        "title": "test.Message.v2",
        "description": "Why it is sent.",
        "properties": {**BASE["properties"], "reason": {**STRING, "maxLength": 100, "title": "R"}},
    },
    "an optional property added": {
        **BASE,
        "properties": {**BASE["properties"], "note": {"anyOf": [STRING, {"type": "null"}]}},
    },
}


@pytest.mark.parametrize("new", COMPATIBLE.values(), ids=COMPATIBLE.keys())
def test_compatible_for_events_and_commands(new):
    assert both(BASE, new) == {"event": [], "command": []}


BREAKING = {
    "a property removed": (
        message("order_id", order_id=STRING),
        "reason: removed",
    ),
    "a required property added": (
        {
            **BASE,
            "required": [*BASE["required"], "amount"],
            "properties": {**BASE["properties"], "amount": INTEGER},
        },
        "amount: added as required",
    ),
    "an optional property made required": (
        (
            message("order_id", order_id=STRING, reason=STRING),
            message("order_id", "reason", order_id=STRING, reason=STRING),
        ),
        "reason: now required (it was optional)",
    ),
    "a type changed": (
        message("order_id", "reason", order_id=STRING, reason=INTEGER),
        "reason: type string → integer",
    ),
    "a bound tightened": (
        message("order_id", "reason", order_id=STRING, reason={**STRING, "maxLength": 50}),
        "reason: maxLength 100 → 50",
    ),
    "a constraint added": (
        message(
            "order_id",
            "reason",
            order_id={**STRING, "format": "uuid"},
            reason={**STRING, "maxLength": 100},
        ),
        "order_id: format none → uuid",
    ),
    "an enum value dropped": (
        (
            message("colour", colour={"enum": ["red", "green"], "type": "string"}),
            message("colour", colour={"enum": ["red"], "type": "string"}),
        ),
        "colour: no longer accepts ['green']",
    ),
    "unknown properties refused": (
        (BASE | {"additionalProperties": True}, BASE),
        "the message: now refuses unknown properties",
    ),
}


@pytest.mark.parametrize(("change", "reason"), BREAKING.values(), ids=BREAKING.keys())
def test_breaking_for_events_and_commands(change, reason):
    old, new = change if isinstance(change, tuple) else (BASE, change)
    assert both(old, new) == {"event": [reason], "command": [reason]}


WIDENED = {
    "a required property made optional": (
        message("order_id", order_id=STRING, reason={**STRING, "maxLength": 100}),
        "reason: now optional (it was required)",
    ),
    "a property that may now be null": (
        message(
            "order_id",
            "reason",
            order_id=STRING,
            reason={"anyOf": [{**STRING, "maxLength": 100}, {"type": "null"}]},
        ),
        "reason: type string → null or string",
    ),
    "a bound loosened": (
        message("order_id", "reason", order_id=STRING, reason={**STRING, "maxLength": 500}),
        "reason: maxLength 100 → 500",
    ),
    "a bound removed": (
        message("order_id", "reason", order_id=STRING, reason=STRING),
        "reason: maxLength 100 → none",
    ),
}


@pytest.mark.parametrize(("new", "reason"), WIDENED.values(), ids=WIDENED.keys())
def test_widening_breaks_an_events_consumers_not_a_commands_senders(new, reason):
    assert both(BASE, new) == {"event": [reason], "command": []}


def test_an_enum_that_gains_a_value_surprises_consumers_only():
    old = message("colour", colour={"enum": ["red"], "type": "string"})
    new = message("colour", colour={"enum": ["red", "blue"], "type": "string"})
    assert both(old, new) == {"event": ["colour: now also accepts ['blue']"], "command": []}


def test_an_integer_may_become_a_number_for_commands_not_the_reverse():
    old, new = message("n", n=INTEGER), message("n", n={"type": "number"})
    assert both(old, new) == {"event": ["n: type integer → number"], "command": []}
    assert both(new, old)["command"] == ["n: type number → integer"]


def test_nested_models_are_compared_through_each_schemas_own_defs():
    # Definitions are compared by what they accept, whatever their names.
    old = message(
        "lines",
        lines={"type": "array", "items": {"$ref": "#/$defs/Line"}},
        defs={"Line": line(minimum=1)},
    )
    new = message(
        "lines",
        lines={"type": "array", "items": {"$ref": "#/$defs/OrderLine"}},
        defs={"OrderLine": message("sku", "quantity", sku=STRING, quantity={"type": "string"})},
    )
    assert both(old, new)["command"] == ["lines[].quantity: type integer → string"]

    renamed = message(
        "lines",
        lines={"type": "array", "items": {"$ref": "#/$defs/OrderLine"}},
        defs={"OrderLine": line(minimum=1, title="Quantity")},
    )
    assert changes(old, renamed) == []
    tightened = message(
        "lines",
        lines={"type": "array", "items": {"$ref": "#/$defs/Line"}},
        defs={"Line": line(minimum=1, maximum=20)},
    )
    assert both(old, tightened)["command"] == ["lines[].quantity: maximum none → 20"]


def test_a_recursive_model_is_compared_once():
    node = {"$ref": "#/$defs/Node"}
    tree = message(
        "root",
        root=node,
        defs={"Node": message("name", name=STRING, children={"type": "array", "items": node})},
    )
    grown = message(
        "root",
        root=node,
        defs={
            "Node": message(
                "name",
                "weight",
                name=STRING,
                weight=INTEGER,
                children={"type": "array", "items": node},
            )
        },
    )
    assert changes(tree, tree) == []
    assert breaking_changes(tree, grown, kind="event") == ["root.weight: added as required"]


def test_dispatch_order_version_2_broke_version_1():
    # Why DispatchOrder is at version 2: version 1's senders sent lines, which version 2
    # refuses (contracts forbid unknown properties).
    assert DispatchOrder.version == 2
    old = read_snapshot(DispatchOrder, 1)
    assert breaking_changes(old, payload_schema(DispatchOrder), kind="command") == [
        "lines: removed"
    ]


@pytest.mark.parametrize("contract", all_message_classes(), ids=lambda c: c.type_name())
def test_every_contract_is_compatible_with_itself(contract):
    assert changes(payload_schema(contract), payload_schema(contract)) == []


def test_a_kind_is_a_command_or_an_event():
    with pytest.raises(ValueError, match="query"):
        breaking_changes(BASE, BASE, kind="query")
