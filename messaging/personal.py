"""Personal data in payloads, found by the contracts' marks (`Personal` fields).

One walk over a payload, guided by its type's JSON Schema, serves both uses: the admin
masks what a staff user may not see (`masked`), erasure replaces what must be forgotten
with each field's erased value (`redacted`). Nested models, arrays and optional values
are followed wherever the schema leads.

What the contract does not describe is treated as personal, to be safe: every value of a
payload whose type no contract declares, and every property a contract does not know (a
record that failed its contract may carry anything). Keys, numbers and the shape stay
visible when masked; strings do not.
"""

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from .contracts import ERASED, ERASED_VALUE, PERSONAL, UnknownMessageType, message_class
from .schemas import payload_schema

MASK = "•••• (personal)"

# A field's value, its schema -> what replaces it.
Replace = Callable[[Any, dict], Any]


def masked(type_name: str, payload: Any) -> Any:
    """The payload as a staff user without the permission sees it."""
    return _walk(type_name, payload, personal=_mask, unknown=_mask_all)


def redacted(type_name: str, payload: Any) -> Any:
    """The payload with its person erased: each personal field holds its erased value."""
    return _walk(
        type_name,
        payload,
        personal=lambda value, schema: schema.get(ERASED_VALUE, ERASED),
        unknown=_erase_all,
    )


def redacted_text(type_name: str, text: str) -> str:
    """A record's value as text (a dead letter's), redacted; unreadable text is erased."""
    try:
        payload = json.loads(text)
    except ValueError:
        return ERASED if text else text
    return json.dumps(redacted(type_name, payload), ensure_ascii=False)


def personal_fields(type_name: str) -> list[str]:
    """The paths of a type's personal fields: "customer.email", "lines[].name"."""
    schema = _schema(type_name)
    if schema is None:
        return []
    found: list[str] = []
    _collect(schema, schema, "", found, depth=0)
    return found


# Where a person's data hides in free text: pydantic puts the refused value in its error
# messages, and an email address is one wherever it appears.
_INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=)")
_EMAIL = re.compile(r"[^@\s'\"<>(),;:\[\]{}]+@[^@\s'\"<>(),;:\[\]{}]+\.[A-Za-z]{2,}")


def scrubbed(text: str, replacement: str = MASK) -> str:
    """Free text (an error, a traceback, a log line) without the personal data it may
    quote: the values pydantic's errors show, and email addresses."""
    if not text:
        return text
    text = _INPUT_VALUE.sub(f"input_value={replacement}", text)
    return _EMAIL.sub(replacement, text)


# The deepest a walk goes: far beyond any contract (a line's price is 3 deep), short of
# a recursion limit on a hostile payload.
MAX_DEPTH = 20


@functools.cache
def _schema(type_name: str) -> dict | None:
    try:
        return payload_schema(message_class(type_name))
    except UnknownMessageType:
        return None


def _walk(type_name: str, payload: Any, *, personal: Replace, unknown: Callable) -> Any:
    schema = _schema(type_name) if type_name else None
    if schema is None:
        return unknown(payload, 0)
    return _value(schema, schema, payload, personal, unknown, 0)


def _value(root: dict, schema: dict, value: Any, personal: Replace, unknown, depth: int) -> Any:
    if schema.get(PERSONAL):
        return personal(value, schema)
    if depth > MAX_DEPTH:
        return unknown(value, depth)
    schema = _shape_of(root, schema, value)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        return {
            name: (
                _value(root, properties[name], item, personal, unknown, depth + 1)
                if name in properties
                else unknown(item, depth + 1)
            )
            for name, item in value.items()
        }
    if isinstance(value, list):
        items = schema.get("items")
        if not isinstance(items, dict):
            return unknown(value, depth)
        return [_value(root, items, item, personal, unknown, depth + 1) for item in value]
    return value


def _shape_of(root: dict, schema: dict, value: Any) -> dict:
    """The schema (followed through `$ref`s) of the alternative that fits the value."""
    schema = _resolved(root, schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if not options:
        return schema
    wanted = "object" if isinstance(value, dict) else "array" if isinstance(value, list) else None
    for option in options:
        option = _resolved(root, option)
        if wanted and option.get("type") == wanted:
            return option
    return schema


def _resolved(root: dict, schema: dict) -> dict:
    for _ in range(MAX_DEPTH):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            schema = {**root["$defs"][ref.rsplit("/", 1)[1]], **_without(schema, "$ref")}
        elif len(schema.get("allOf", [])) == 1:
            schema = {**_resolved(root, schema["allOf"][0]), **_without(schema, "allOf")}
        else:
            break
    return schema


def _without(schema: dict, key: str) -> dict:
    return {k: v for k, v in schema.items() if k != key}


def _mask(value: Any, schema: dict) -> Any:
    return None if value is None else MASK  # an absent value hides nothing


def _mask_all(value: Any, depth: int) -> Any:
    if isinstance(value, dict) and depth <= MAX_DEPTH:
        return {name: _mask_all(item, depth + 1) for name, item in value.items()}
    if isinstance(value, list) and depth <= MAX_DEPTH:
        return [_mask_all(item, depth + 1) for item in value]
    if isinstance(value, str) or depth > MAX_DEPTH:
        return MASK
    return value


def _erase_all(value: Any, depth: int) -> Any:
    if isinstance(value, dict) and depth <= MAX_DEPTH:
        return {name: _erase_all(item, depth + 1) for name, item in value.items()}
    if isinstance(value, list) and depth <= MAX_DEPTH:
        return [_erase_all(item, depth + 1) for item in value]
    if isinstance(value, str) or depth > MAX_DEPTH:
        return ERASED
    return value


def _collect(root: dict, schema: dict, prefix: str, found: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    schema = _resolved(root, schema)
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        if prop.get(PERSONAL):
            found.append(path)
            continue
        resolved = _resolved(root, prop)
        for option in resolved.get("anyOf") or resolved.get("oneOf") or [resolved]:
            option = _resolved(root, option)
            if option.get("type") == "array" and isinstance(option.get("items"), dict):
                _collect(root, option["items"], f"{path}[].", found, depth + 1)
            elif "properties" in option:
                _collect(root, option, f"{path}.", found, depth + 1)
