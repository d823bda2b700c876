"""The payload schemas of every message version, as the event API document holds them.

The current version's schema comes from its pydantic model; each older version's from its
committed snapshot (messaging.schemas), so a record of that version on a topic can still be
checked against what it was written as. Each lands in `components.schemas` under its
schema name, "shop.OrderPlaced.v2": the name every record's `ce_dataschema` ends in.
"""

import re
from dataclasses import dataclass

from ..contracts import Message
from ..schemas import payload_schema, read_snapshot

SCHEMAS = "#/components/schemas/"
# AsyncAPI's key pattern for components; pydantic's names for nested models fit it already,
# but a generic model's name could carry other characters.
_NOT_A_KEY_CHARACTER = re.compile(r"[^\w.\-]")


@dataclass(frozen=True)
class MessageVersion:
    contract: type[Message]
    number: int
    # The JSON Schema pydantic wrote (nested models under `$defs`), not yet placed.
    schema: dict

    @property
    def is_current(self) -> bool:
        return self.number == self.contract.version

    @property
    def schema_name(self) -> str:
        return f"{self.contract.type_name()}.v{self.number}"


def versions(contract: type[Message]) -> list[MessageVersion]:
    """The current version first, then each older one that has a snapshot, newest first.

    An older version without a snapshot cannot be described; its records are still read
    (through upcasters), and the compatibility check asks for the snapshot.
    """
    found = [MessageVersion(contract, contract.version, payload_schema(contract))]
    for number in range(contract.version - 1, 0, -1):
        snapshot = read_snapshot(contract, number)
        if snapshot is not None:
            found.append(MessageVersion(contract, number, snapshot))
    return found


def placed(version: MessageVersion) -> dict[str, dict]:
    """The version's schema and its nested models as `components.schemas` entries.

    pydantic refers to nested models as "#/$defs/Customer": relative to the document's
    root, where the AsyncAPI document has no `$defs`. Each nested model becomes an entry of
    its own, "shop.OrderPlaced.v2.Customer" (namespaced by version: versions may define a
    model differently), and every reference points there, so the fragment a record's
    `ce_dataschema` names resolves in the document as it is.
    """
    schema = dict(version.schema)
    nested = schema.pop("$defs", {})
    names = {name: _key(f"{version.schema_name}.{name}") for name in nested}
    entries = {version.schema_name: _rewritten(schema, names)}
    for name, definition in nested.items():
        entries[names[name]] = _rewritten(definition, names)
    return entries


def _key(name: str) -> str:
    return _NOT_A_KEY_CHARACTER.sub("_", name)


def _rewritten(node, names: dict[str, str]):
    if isinstance(node, list):
        return [_rewritten(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _rewritten(value, names) for key, value in node.items()}
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return node
    node["$ref"] = SCHEMAS + names[ref.removeprefix("#/$defs/")]
    if len(node) == 1:
        return node
    # pydantic puts a field's own keywords (its description, say) beside the `$ref`; in
    # draft-07, which AsyncAPI schemas follow, a `$ref` makes its siblings be ignored.
    return {"allOf": [{"$ref": node.pop("$ref")}], **node}
