"""The event API document read for people: topics, their messages and their versions
(whose payloads config.event_api.fields turns into rows).

Everything comes from the AsyncAPI document itself (messaging.asyncapi), not from the
registries again, so the page cannot say anything the published document does not.
"""

from dataclasses import dataclass, field

from .fields import Field, fields, type_label


@dataclass
class Version:
    number: int
    schema: str
    paragraphs: list[str]
    fields: list[Field]


@dataclass
class Message:
    type: str
    kind: str
    owner: str
    role: str
    key_field: str
    key_type: str
    current: Version
    senders: list[str] = field(default_factory=list)
    receivers: list[str] = field(default_factory=list)
    older: list[Version] = field(default_factory=list)


@dataclass
class Topic:
    name: str
    summary: str
    messages: list[Message]


def topics(document: dict) -> list[Topic]:
    messages = document["components"]["messages"]
    found = []
    for name, channel in document["channels"].items():
        by_type: dict[str, Message] = {}
        for key in channel["messages"]:
            obj = messages[key]
            contract = obj["x-contract"]
            version = Version(
                contract["version"],
                contract["schema"],
                _paragraphs(obj.get("description", "")),
                fields(document, {"$ref": obj["payload"]["$ref"]}),
            )
            if contract["version"] == contract["currentVersion"]:
                by_type[contract["type"]] = Message(
                    type=contract["type"],
                    kind=contract["kind"],
                    owner=contract["owner"],
                    role=contract["role"],
                    key_field=contract["keyField"],
                    key_type=type_label(document, obj["bindings"]["kafka"]["key"]),
                    current=version,
                    senders=_parties(document, name, key, "x-sender"),
                    receivers=_parties(document, name, key, "x-consumer-group"),
                )
            else:
                by_type[contract["type"]].older.append(version)
        found.append(Topic(name, channel.get("summary", ""), list(by_type.values())))
    return found


def _parties(document: dict, topic: str, key: str, role: str) -> list[str]:
    """The apps (x-sender) or consumer groups (x-consumer-group) whose operations on the
    topic list the message."""
    ref = f"#/channels/{topic}/messages/{key}"
    return sorted(
        op[role]
        for op in document["operations"].values()
        if role in op and any(m["$ref"] == ref for m in op.get("messages", []))
    )


def _paragraphs(text: str) -> list[str]:
    """A docstring's paragraphs, each one line: its line breaks are the source's wrapping."""
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
