"""Fields whose OpenAPI schema says what they refuse, so that clients (and fuzzers) can trust it.

DRF checks more than drf-spectacular writes down: a CharField refuses a NUL character and,
once it has trimmed the spaces, a blank; a list of nested items refuses too few or too many.
Left out, the schema promises that such input is accepted.
"""

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from rest_framework import serializers

from messaging.contracts import PERSONAL

# JSON Schema patterns match anywhere unless anchored: hence ^...$ around the whole value.
NO_NUL_NOT_EMPTY = r"^[^\x00]+$"
NO_NUL_NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"  # something besides spaces


class Text(serializers.CharField):
    """DRF's CharField; its schema has a pattern for what DRF refuses."""


class ItemList(serializers.ListSerializer):
    """DRF's list of nested serializers; set as `Meta.list_serializer_class` of the item."""


class ContractSerializer(serializers.Serializer):
    """The input of one message contract's model (`Meta.contract`): its schema marks the
    fields the contract marks personal (x-personal), as the event API does."""


# Extensions register themselves by being defined: this module is imported by the
# serializers that use its fields, so before any schema is generated.


class _TextSchema(OpenApiSerializerFieldExtension):
    target_class = Text
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field: Text = self.target
        schema = auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        if field.allow_blank:
            # Text without NUL, or "": two exclusive choices, so that "" matches exactly one
            # of them (drf-spectacular itself puts a {maxLength: 0} choice next to a
            # pattern that matches "" too, and "" then breaks the oneOf).
            outer = {"description", "title", "readOnly", "writeOnly", "nullable", "default"}
            inner = {k: schema.pop(k) for k in list(schema) if k not in outer}
            schema["oneOf"] = [
                inner | {"pattern": NO_NUL_NOT_EMPTY},
                {"type": "string", "maxLength": 0},
            ]
        else:
            schema["pattern"] = NO_NUL_NOT_BLANK if field.trim_whitespace else NO_NUL_NOT_EMPTY
        return schema


class _ItemListSchema(OpenApiSerializerFieldExtension):
    target_class = ItemList
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        items: ItemList = self.target
        schema = auto_schema._map_serializer_field(items, direction, bypass_extensions=True)
        fewest = max(items.min_length or 0, 0 if items.allow_empty else 1)
        if fewest:
            schema["minItems"] = fewest
        if items.max_length is not None:
            schema["maxItems"] = items.max_length
        return schema


class _ContractSchema(OpenApiSerializerExtension):
    target_class = ContractSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        marked = self.target.Meta.contract.model_json_schema()["properties"]
        for name, prop in schema.get("properties", {}).items():
            if marked.get(name, {}).get(PERSONAL):
                prop[PERSONAL] = True
        return schema
