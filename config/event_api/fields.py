"""A payload's fields as rows of a table: its JSON Schema in the event API document read
for people, nested models expanded under the field that holds them."""

import json
from dataclasses import dataclass

from messaging.contracts import ERASED, ERASED_VALUE, PERSONAL

# Nested objects are expanded this deep; the contracts' deepest (a line's price) is 3.
MAX_DEPTH = 6


@dataclass(frozen=True)
class Field:
    path: str
    depth: int
    type: str
    required: bool
    description: str
    constraints: list[str]
    # A person's data (the contract marks it): masked in the admin, erased on request.
    personal: bool = False
    erased_as: str = ""  # what it reads once its person is erased, as JSON


def fields(document: dict, schema: dict, prefix: str = "", depth: int = 0) -> list[Field]:
    """One row per property, nested objects' properties after their own row, with their
    path ("customer.name", "lines[].sku")."""
    schema = _resolved(document, schema)
    required = schema.get("required", [])
    rows = []
    for name, prop in _in_contract_order(schema.get("properties", {}), required):
        path = f"{prefix}{name}"
        resolved = _resolved(document, prop)
        rows.append(
            Field(
                path,
                depth,
                type_label(document, resolved),
                name in required,
                resolved.get("description", ""),
                _constraints_of(document, resolved),
                bool(resolved.get(PERSONAL)),
                json.dumps(resolved.get(ERASED_VALUE, ERASED)) if resolved.get(PERSONAL) else "",
            )
        )
        nested, suffix = _nested_object(document, prop)
        if nested is not None and depth < MAX_DEPTH:
            rows += fields(document, nested, f"{path}{suffix}.", depth + 1)
    return rows


def _in_contract_order(properties: dict, required: list[str]) -> list[tuple[str, dict]]:
    """Required fields in the order the contract declares them (a schema's `required` keeps
    it, where a snapshot's properties are sorted by name), then the optional ones."""
    rank = {name: index for index, name in enumerate(required)}
    return sorted(properties.items(), key=lambda item: rank.get(item[0], len(rank)))


def _resolved(document: dict, schema: dict) -> dict:
    """The schema a `$ref` (or pydantic's single-`allOf` wrapping of one) points to, with
    the referring schema's own keywords (a field's description) kept."""
    seen = 0
    while seen < MAX_DEPTH:
        seen += 1
        if "$ref" in schema:
            target = _pointer(document, schema["$ref"])
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        elif len(schema.get("allOf", [])) == 1:
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            schema = {**_resolved(document, schema["allOf"][0]), **rest}
        else:
            break
    return schema


def _pointer(document: dict, ref: str) -> dict:
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _alternatives(schema: dict) -> list[dict]:
    return schema.get("anyOf") or schema.get("oneOf") or [schema]


def _nested_object(document: dict, prop: dict) -> tuple[dict | None, str]:
    """The object whose properties a field's rows continue with: the field's own, its
    array's items ("[]" in the path), or the one non-null alternative."""
    prop = _resolved(document, prop)
    options = [_resolved(document, o) for o in _alternatives(prop) if o.get("type") != "null"]
    if len(options) != 1:
        return None, ""
    option = options[0]
    if option.get("type") == "array" and isinstance(option.get("items"), dict):
        items = _resolved(document, option["items"])
        return (items, "[]") if "properties" in items else (None, "")
    return (option, "") if "properties" in option else (None, "")


def type_label(document: dict, prop: dict) -> str:
    prop = _resolved(document, prop)
    if "const" in prop:
        return f"always {json.dumps(prop['const'])}"
    if "enum" in prop:
        return "one of " + ", ".join(json.dumps(v) for v in prop["enum"])
    if "anyOf" in prop or "oneOf" in prop:
        labels = [type_label(document, o) for o in _alternatives(prop)]
        return " or ".join(dict.fromkeys(labels))
    kind = prop.get("type", "any")
    if kind == "array":
        items = prop.get("items")
        return f"array of {type_label(document, items)}" if isinstance(items, dict) else kind
    if kind == "object" and prop.get("title"):
        return prop["title"]  # a nested model, by name: its fields follow on their own rows
    if prop.get("format"):
        return f"{kind} ({prop['format']})"
    return kind


def _constraints_of(document: dict, prop: dict) -> list[str]:
    found = []
    for option in _alternatives(prop):
        found += _constraints(_resolved(document, option))
    if "default" in prop:
        found.append(f"default {json.dumps(prop['default'])}")
    return found


def _constraints(schema: dict) -> list[str]:
    found = []
    for low, high, unit in (
        ("minLength", "maxLength", "character"),
        ("minItems", "maxItems", "item"),
    ):
        found += _range(schema.get(low), schema.get(high), unit)
    found += _range(schema.get("minimum"), schema.get("maximum"), "")
    if "exclusiveMinimum" in schema:
        found.append(f"> {_number(schema['exclusiveMinimum'])}")
    if "exclusiveMaximum" in schema:
        found.append(f"< {_number(schema['exclusiveMaximum'])}")
    if "pattern" in schema:
        found.append(f"matches {schema['pattern']}")
    return found


def _range(low, high, unit: str) -> list[str]:
    def counted(n) -> str:
        return f"{_number(n)} {unit}{'' if n == 1 else 's'}" if unit else _number(n)

    if low is not None and high is not None:
        return [f"{_number(low)} to {counted(high)}"]
    if low is not None:
        return [f"at least {counted(low)}"]
    if high is not None:
        return [f"at most {counted(high)}"]
    return []


def _number(value) -> str:
    # JSON Schema's 0.0 and 20 read alike on a page.
    return f"{value:g}" if isinstance(value, float) else str(value)
