"""Consumer groups and their handlers: who reacts to which message.

Each app declares its reactions in its `handlers` module: `COMMAND_HANDLERS`, exactly one
handler per command it owns, `EVENT_HANDLERS`, a list per event it follows, and, when it
keeps a read model it can rebuild from events, `PROJECTIONS`. `autodiscover()` (run by
the messaging app, as the admin finds `admin` modules) registers each app's consumer
group under the app's label: registration is visible in one place per app, and no app's
`ready()` repeats it.
"""

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from uuid import UUID

from django.apps import apps
from django.utils.module_loading import module_has_submodule

from .contracts import Command, Event, Message, contract_topics
from .metadata import Metadata

Handler = Callable[[Message, Metadata], None]
# A raw processor sees every record of its topics, readable or not (the audit group).
RecordProcessor = Callable[[list], None]
# Which of these message ids a record processor has recorded (the message log's).
Recorded = Callable[[list[UUID]], set[UUID]]


@dataclass
class ConsumerGroup:
    name: str
    handlers: dict[str, list[Handler]] = field(default_factory=dict)
    topics: set[str] = field(default_factory=set)
    process_records: RecordProcessor | None = None
    recorded: Recorded | None = None
    # A record processor may follow every topic a contract names, known only once
    # every app's contract module has been imported.
    all_topics: bool = False

    def subscribed_topics(self) -> list[str]:
        if self.all_topics:
            return contract_topics()
        return sorted(self.topics)

    def handlers_for(self, message_type: str) -> list[Handler]:
        return self.handlers.get(message_type, [])


@dataclass(frozen=True)
class Projection:
    """A read model one consumer group keeps from some event types, and can rebuild.

    `reset` empties its tables; replaying `event_types` into `group` fills them again.
    """

    name: str
    group: str
    event_types: frozenset[str]
    reset: Callable[[], None]

    @property
    def fence(self) -> str:
        """The advisory lock a rebuild holds, and live handling of its events takes shared."""
        return f"projection:{self.name}"


@dataclass(frozen=True)
class ProjectionSpec:
    """A projection as an app's handlers module declares it: built from `events` by the
    app's own group, emptied by `reset` before a rebuild."""

    events: Iterable[type[Event]]
    reset: Callable[[], None]


# SQL for a fence's advisory-lock key, given its name as the parameter.
FENCE_KEY = "hashtextextended(%s, 0)"


# The names an app's `handlers` module declares its reactions under.
DECLARATIONS = ("COMMAND_HANDLERS", "EVENT_HANDLERS", "PROJECTIONS")

_GROUPS: dict[str, ConsumerGroup] = {}
_PROJECTIONS: dict[str, Projection] = {}


def register(
    name: str,
    *,
    commands: dict[type[Command], Handler] | None = None,
    events: dict[type[Event], Iterable[Handler]] | None = None,
) -> ConsumerGroup:
    group = ConsumerGroup(name)
    for command, handler in (commands or {}).items():
        _add(group, command, [handler])
    for event, handlers in (events or {}).items():
        _add(group, event, list(handlers))
    return _store(group)


def register_record_processor(name: str, process: RecordProcessor, *, recorded: Recorded) -> None:
    """A group that sees every record of every contract topic, readable or not;
    `recorded` tells which messages it has (the relay asks before publishing again)."""
    _store(ConsumerGroup(name, process_records=process, recorded=recorded, all_topics=True))


def autodiscover() -> None:
    """Register the consumer group of every installed app whose `handlers` module declares
    reactions. Other apps may have a `handlers` module of another kind (Django's auth and
    staticfiles do, for WSGI); declaring none of the three names is how we tell them apart."""
    for config in apps.get_app_configs():
        if not module_has_submodule(config.module, "handlers"):
            continue
        module = importlib.import_module(f"{config.name}.handlers")
        if not any(hasattr(module, name) for name in DECLARATIONS):
            continue
        register(
            config.label,
            commands=getattr(module, "COMMAND_HANDLERS", {}),
            events=getattr(module, "EVENT_HANDLERS", {}),
        )
        for name, spec in getattr(module, "PROJECTIONS", {}).items():
            register_projection(name, group=config.label, events=spec.events, reset=spec.reset)


def _add(group: ConsumerGroup, message: type[Message], handlers: list[Handler]) -> None:
    if not message.is_concrete():
        raise TypeError(f"{message.__name__} is a contract base, not a message")
    group.handlers.setdefault(message.type_name(), []).extend(handlers)
    group.topics.add(message.topic)


def _store(group: ConsumerGroup) -> ConsumerGroup:
    if group.name in _GROUPS:
        raise ValueError(f"Consumer group {group.name!r} is registered twice")
    _GROUPS[group.name] = group
    return group


def groups() -> dict[str, ConsumerGroup]:
    return dict(_GROUPS)


def group(name: str) -> ConsumerGroup:
    try:
        return _GROUPS[name]
    except KeyError:
        known = ", ".join(sorted(_GROUPS)) or "none"
        raise LookupError(f"No consumer group {name!r} (registered: {known})") from None


def register_projection(
    name: str, *, group: str, events: Iterable[type[Event]], reset: Callable[[], None]
) -> Projection:
    if name in _PROJECTIONS:
        raise ValueError(f"Projection {name!r} is registered twice")
    projection = Projection(name, group, frozenset(e.type_name() for e in events), reset)
    _PROJECTIONS[name] = projection
    return projection


def projections() -> dict[str, Projection]:
    return dict(_PROJECTIONS)


def fences_of(group_name: str) -> list[str]:
    """The fences of every projection the group keeps."""
    return [p.fence for p in _PROJECTIONS.values() if p.group == group_name]


def fences_for(group_name: str, message_type: str) -> list[str]:
    """The fences of the group's projections that this message type feeds."""
    return [
        p.fence
        for p in _PROJECTIONS.values()
        if p.group == group_name and message_type in p.event_types
    ]
