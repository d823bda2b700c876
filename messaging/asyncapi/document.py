"""The event API document: AsyncAPI 3.0 of every topic, message and consumer group.

Built from what the code declares, so it cannot drift from it: the contracts (each
message type, its topic, owner, senders and version), their committed older versions
(messaging.schemas) and the consumer groups (messaging.registry: who receives what).
"""

import hashlib
import json
from importlib import metadata

from .. import conf
from ..contracts import Message, all_message_classes, contract_topics
from ..registry import ConsumerGroup, groups
from .messages import CORRELATION, CORRELATION_ID, KAFKA_BINDING, message, message_key
from .payloads import MessageVersion, placed, versions

ASYNCAPI = "3.0.0"
TITLE = "Shop event API"
DESCRIPTION = """\
The messages the shop's apps exchange, and only exchange, through Kafka. Generated from \
their contracts and consumer groups: the operations below name every app.

A **command** asks its one owner to do something, and may be refused: the apps listed as \
senders send it, the owner's consumer group receives it and answers with an event \
correlated to it. An **event** is a fact its owner has recorded: any consumer group may \
receive it, none can refuse it; a later event can only compensate for it.

Every record is a CloudEvents 1.0 event in the Kafka protocol binding's binary content \
mode. The value is the JSON payload; the attributes are `ce_*` headers (`ce_type` \
`shop.OrderPlaced`, `ce_source` the owning app, `ce_messagekind` command or event, \
`ce_correlationid` the conversation, `ce_causationid` the message that caused it, \
`ce_dataschema` this version's payload schema in this document). The key is the \
aggregate id (the order id for everything about an order, the SKU for stock levels): one \
aggregate's records share a partition and stay in order.

Each message type has a version; producers write the current one. A topic may still hold \
records of older versions, listed as deprecated messages `<type>.v<N>`: consumers read them \
through upcasters. The schema of every version is `components.schemas["<type>.v<N>"]`.

`info.version` is the project's version, and after the `+` a fingerprint of the payload \
schemas: it changes whenever the data of any message version does.\
"""


def build() -> dict:
    """The document, afresh (the web serves a copy built once per process)."""
    described = {cls.type_name(): versions(cls) for cls in _contracts()}
    schemas: dict[str, dict] = {}
    messages: dict[str, dict] = {}
    for found in described.values():
        for version in found:
            schemas.update(placed(version))
            messages[message_key(version)] = message(version)
    topics = contract_topics()
    return {
        "asyncapi": ASYNCAPI,
        "info": {
            "title": TITLE,
            "version": _version(schemas),
            "description": DESCRIPTION,
        },
        "servers": _servers(),
        "defaultContentType": "application/json",
        "channels": {topic: _channel(topic, described) for topic in topics},
        "operations": _operations(topics, described),
        "components": {
            "schemas": schemas,
            "messages": messages,
            "correlationIds": {CORRELATION: CORRELATION_ID},
        },
    }


def _contracts() -> list[type[Message]]:
    return sorted(all_message_classes(), key=lambda cls: (cls.topic, cls.type_name()))


def _version(schemas: dict[str, dict]) -> str:
    fingerprint = hashlib.sha256(json.dumps(schemas, sort_keys=True).encode()).hexdigest()
    return f"{metadata.version('event-driven-shop')}+{fingerprint[:12]}"


def _servers() -> dict:
    # settings.MESSAGING's bootstrap list: any one of them leads a client to the cluster.
    hosts = [h.strip() for h in conf.get("BOOTSTRAP_SERVERS").split(",") if h.strip()]
    description = "A Kafka bootstrap server (the demo's is Tansu, speaking the Kafka protocol)."
    if len(hosts) == 1:
        return {"kafka": {"host": hosts[0], "protocol": "kafka", "description": description}}
    return {
        f"kafka-{n}": {"host": host, "protocol": "kafka", "description": description}
        for n, host in enumerate(hosts, 1)
    }


def _on(topic: str, described: dict[str, list[MessageVersion]]) -> list[MessageVersion]:
    return [v for found in described.values() for v in found if v.contract.topic == topic]


def _channel(topic: str, described: dict[str, list[MessageVersion]]) -> dict:
    on_topic = _on(topic, described)
    current = [v.contract for v in on_topic if v.is_current]
    owners = sorted({cls.source for cls in current})
    kinds = sorted({cls.kind + "s" for cls in current})
    return {
        "address": topic,
        "title": topic,
        "summary": f"{' and '.join(kinds).capitalize()} owned by {', '.join(owners)}.",
        "messages": {message_key(v): _ref("components/messages", message_key(v)) for v in on_topic},
        "bindings": {
            "kafka": {
                "partitions": conf.get("TOPIC_PARTITIONS"),
                "replicas": conf.get("TOPIC_REPLICATION_FACTOR"),
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _operations(topics: list[str], described: dict[str, list[MessageVersion]]) -> dict:
    operations = {}
    for topic in topics:
        on_topic = _on(topic, described)
        for app, sent in _senders(on_topic).items():
            operations[f"{app}.send.{topic}"] = {
                "action": "send",
                "channel": _ref("channels", topic),
                "title": f"{app} sends to {topic}",
                "messages": [_ref(f"channels/{topic}/messages", message_key(v)) for v in sent],
                "x-sender": app,
            }
        for group in sorted(groups().values(), key=lambda g: g.name):
            received = [v for v in on_topic if _receives(group, v)]
            if received:
                operations[f"{group.name}.receive.{topic}"] = _receive(group, topic, received)
    return operations


def _senders(on_topic: list[MessageVersion]) -> dict[str, list[MessageVersion]]:
    """Who writes which messages: an event's owner, a command's senders; current versions
    only, the only ones written."""
    senders: dict[str, list[MessageVersion]] = {}
    for version in on_topic:
        cls = version.contract
        if version.is_current:
            for app in cls.senders if cls.kind == "command" else (cls.source,):
                senders.setdefault(app, []).append(version)
    return dict(sorted(senders.items()))


def _receives(group: ConsumerGroup, version: MessageVersion) -> bool:
    # A record processor (the message log's audit group) reads every record of every
    # topic; a group of handlers, the types it handles, in any version they come in.
    if group.process_records is not None:
        return version.contract.topic in group.subscribed_topics()
    return bool(group.handlers_for(version.contract.type_name()))


def _receive(group: ConsumerGroup, topic: str, received: list[MessageVersion]) -> dict:
    records = group.process_records is not None
    return {
        "action": "receive",
        "channel": _ref("channels", topic),
        "title": f"{group.name} receives from {topic}",
        "summary": "Records every record of the topic, readable or not."
        if records
        else "Handles these messages, each once (the inbox), in each aggregate's order.",
        "messages": [_ref(f"channels/{topic}/messages", message_key(v)) for v in received],
        "bindings": {
            "kafka": {
                "groupId": {"type": "string", "const": group.name},
                "bindingVersion": KAFKA_BINDING,
            }
        },
        "x-consumer-group": group.name,
    }


def _ref(where: str, key: str) -> dict:
    # Topic and type names have no "/" or "~", the characters a JSON Pointer escapes.
    return {"$ref": f"#/{where}/{key}"}
