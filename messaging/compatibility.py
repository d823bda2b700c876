"""Is a contract change backward compatible? Two JSON Schemas of one message type in, the
breaking changes out, in words.

Who owns a message decides what may change without a new version:

- An **event** is owned by its publisher and read by consumers it does not know, now and
  when old records are replayed. A change is compatible when every record valid under the
  old schema is still valid under the new one (no property removed or newly required, no
  type changed, no constraint tightened, no enum value dropped) *and* a consumer written
  for the old schema understands every new record: an existing property does not widen
  either (no longer required, may be null, a new enum value, a constraint loosened).
  Adding an optional property is compatible: a consumer that does not know it does not
  read it.
- A **command** is owned by its one handler, and senders conform to it. A change is
  compatible when every command valid under the old schema is still accepted: nothing is
  narrowed (no new required property, no property removed, since contracts forbid unknown
  properties, no type changed or narrowed, no constraint tightened, no enum value
  dropped). Widening is the handler's own business: it changes in the same commit.

A breaking change needs a new version (see messaging.contracts). The comparison follows
`$ref`s into each schema's own `$defs`, and reads the shapes pydantic writes: `type`,
`anyOf` unions (an optional value is `anyOf [X, null]`), `enum`/`const`, `properties`/
`required`/`additionalProperties`, `items`/`prefixItems`, and the usual bounds. A changed
`pattern` or `format` cannot be compared, so it counts as both narrower and wider.
"""

from dataclasses import dataclass

# The bounds a value may have: a higher lower bound or a lower upper bound is narrower.
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
OPAQUE = ("pattern", "format")
ANY = "any"


@dataclass(frozen=True)
class Change:
    where: str
    what: str
    # narrows: some data valid under the old schema is refused by the new one.
    # widens: the new schema accepts data the old one refused.
    narrows: bool = False
    widens: bool = False

    def __str__(self) -> str:
        return f"{self.where or 'the message'}: {self.what}"


def breaking_changes(old: dict, new: dict, *, kind: str) -> list[str]:
    """What breaks between two schemas of a message type of this kind ("command"/"event")."""
    if kind not in ("command", "event"):
        raise ValueError(f"A message is a command or an event, not {kind!r}")
    return [
        str(change)
        for change in changes(old, new)
        if change.narrows or (kind == "event" and change.widens)
    ]


def changes(old: dict, new: dict) -> list[Change]:
    """Every difference that matters to data (titles, descriptions and defaults do not)."""
    # dict.fromkeys: a constraint shared by two branches (`"type": ["string", "null"]`) once.
    return list(dict.fromkeys(_Comparison(old, new).compare(old, new, "", frozenset())))


class _Comparison:
    def __init__(self, old_root: dict, new_root: dict) -> None:
        self.roots = (old_root, new_root)

    def compare(self, old: dict, new: dict, where: str, seen: frozenset):
        old_branches = self.branches(old, self.roots[0])
        new_branches = self.branches(new, self.roots[1])
        yield from _types(old_branches, new_branches, where)
        for kind in old_branches.keys() & new_branches.keys():
            yield from self.same_type(kind, old_branches[kind], new_branches[kind], where, seen)

    def branches(self, schema: dict, root: dict) -> dict[str, dict]:
        """The schema as one subschema per JSON type it accepts."""
        schema = _resolve(schema, root)
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if alternatives:
            found: dict[str, dict] = {}
            for alternative in alternatives:
                found |= self.branches(alternative, root)
            return found
        types = schema.get("type")
        if types is None and ("enum" in schema or "const" in schema):
            types = sorted({_json_type(value) for value in _values(schema)})
        if types is None:
            return {ANY: schema}
        return {kind: schema for kind in ([types] if isinstance(types, str) else types)}

    def same_type(self, kind: str, old: dict, new: dict, where: str, seen: frozenset):
        # A recursive model refers to itself: compare a pair of definitions once per path.
        pair = (id(old), id(new))
        if pair in seen:
            return
        seen = seen | {pair}
        yield from _bounds(old, new, where)
        yield from _values_changed(old, new, where)
        if kind == "object":
            yield from self.objects(old, new, where, seen)
        elif kind == "array":
            yield from self.arrays(old, new, where, seen)

    def objects(self, old: dict, new: dict, where: str, seen: frozenset):
        old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        for name in old_properties.keys() - new_properties.keys():
            # A property the new schema does not know is refused when it forbids extras.
            yield Change(
                _join(where, name),
                "removed",
                narrows=new.get("additionalProperties") is False,
                widens=True,
            )
        for name in new_properties.keys() - old_properties.keys():
            if name in new_required:
                yield Change(_join(where, name), "added as required", narrows=True)
        for name in sorted(old_properties.keys() & new_properties.keys()):
            at = _join(where, name)
            if name in new_required - old_required:
                yield Change(at, "now required (it was optional)", narrows=True)
            if name in old_required - new_required:
                yield Change(at, "now optional (it was required)", widens=True)
            yield from self.compare(old_properties[name], new_properties[name], at, seen)
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if old_extra is False and new_extra is not False:
            yield Change(where, "now accepts unknown properties", widens=True)
        if old_extra is not False and new_extra is False:
            yield Change(where, "now refuses unknown properties", narrows=True)

    def arrays(self, old: dict, new: dict, where: str, seen: frozenset):
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            yield from self.compare(old["items"], new["items"], f"{where}[]", seen)
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        for index, (old_item, new_item) in enumerate(zip(old_prefix, new_prefix, strict=False)):
            yield from self.compare(old_item, new_item, f"{where}[{index}]", seen)
        if len(old_prefix) != len(new_prefix):
            yield Change(
                where,
                f"positional items {len(old_prefix)} → {len(new_prefix)}",
                narrows=True,
                widens=True,
            )


def _types(old: dict[str, dict], new: dict[str, dict], where: str):
    lost = sorted(kind for kind in old if not _covers(new, kind))
    gained = sorted(kind for kind in new if not _covers(old, kind))
    if lost or gained:
        was, now = " or ".join(sorted(old)), " or ".join(sorted(new))
        yield Change(where, f"type {was} → {now}", narrows=bool(lost), widens=bool(gained))


def _covers(branches: dict[str, dict], kind: str) -> bool:
    return kind in branches or ANY in branches or (kind == "integer" and "number" in branches)


def _bounds(old: dict, new: dict, where: str):
    for bound in LOWER_BOUNDS + UPPER_BOUNDS:
        was, now = old.get(bound), new.get(bound)
        if was == now:
            continue
        if was is None or now is None:
            tighter = was is None
        else:
            tighter = now > was if bound in LOWER_BOUNDS else now < was
        yield Change(
            where, f"{bound} {_show(was)} → {_show(now)}", narrows=tighter, widens=not tighter
        )
    for constraint in OPAQUE:
        was, now = old.get(constraint), new.get(constraint)
        if was != now:
            yield Change(
                where,
                f"{constraint} {_show(was)} → {_show(now)}",
                narrows=now is not None,
                widens=was is not None,
            )


def _values_changed(old: dict, new: dict, where: str):
    was, now = _values(old), _values(new)
    if was is None and now is None:
        return
    if was is None or now is None:
        yield Change(
            where,
            f"values {_show(was)} → {_show(now)}",
            narrows=now is not None,
            widens=was is not None,
        )
        return
    if dropped := [value for value in was if value not in now]:
        yield Change(where, f"no longer accepts {_show(dropped)}", narrows=True)
    if added := [value for value in now if value not in was]:
        yield Change(where, f"now also accepts {_show(added)}", widens=True)


def _values(schema: dict) -> list | None:
    if "const" in schema:
        return [schema["const"]]
    return schema.get("enum")


def _resolve(schema: dict, root: dict) -> dict:
    """Follow local `$ref`s ("#/$defs/Name") within the schema's own document."""
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"Only local references can be compared, not {ref!r}")
        target = root
        for part in ref[2:].split("/"):
            target = target[part]
        schema = target
    return schema


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _show(value: object) -> str:
    return "none" if value is None else str(value)
