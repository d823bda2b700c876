"""The topics the shop needs: every topic a contract names, and each consumer group's
dead-letter topic (the audit group, which dead-letters nothing, has none), each with the
retention its records need.

A command handled again would repeat its effect; only the group's inbox entry for it
stops that, and the inbox forgets after RETAIN_INBOX (the inbox window). So a topic from
which a command can come back (a command topic, and a dead-letter topic, whose copies a
Kafka tool can re-drive) must not keep a record longer than that. Kafka deletes a record
only with its whole segment, once the segment is closed (after `segment.ms` at most) and
its newest record is older than `retention.ms`, at the next retention check (every 5
minutes by default): a record can live for up to `segment.ms` + `retention.ms` and a
check. These topics get half the window as `retention.ms` and a quarter as
`segment.ms`, which leaves the last quarter for the check.

Event topics are the history projections are rebuilt from: they keep every record unless
EVENT_TOPIC_RETENTION says otherwise. Their handlers are idempotent by their own state,
since a replay, or a group whose offsets Kafka forgot, reads them long after the inbox
forgot them.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import TopicAlreadyExistsError

from . import conf
from .contracts import all_message_classes, contract_topics
from .durations import to_ms
from .kafka import admin
from .registry import groups

logger = logging.getLogger(__name__)

# The two configs a topic's retention comes down to.
RETENTION_CONFIGS = ("retention.ms", "segment.ms")


def dead_letter_topic(group_name: str) -> str:
    """Where a group's dead letters are copied, for any Kafka tool to inspect or re-drive."""
    return f"{group_name}.dead-letters"


def dead_letter_topics() -> list[str]:
    return sorted(
        dead_letter_topic(name) for name, g in groups().items() if g.process_records is None
    )


def command_topics() -> set[str]:
    return {m.topic for m in all_message_classes() if m.kind == "command"}


def within_inbox_window() -> list[str]:
    """The topics from which a command can come back: none may outlive the inbox window."""
    return sorted(command_topics() | set(dead_letter_topics()))


def topic_configs(topic: str) -> dict[str, str]:
    """The retention configs `topic` is created with (see the module's docstring)."""
    if topic in within_inbox_window():
        window = conf.duration("RETAIN_INBOX")
        return {"retention.ms": str(to_ms(window / 2)), "segment.ms": str(to_ms(window / 4))}
    return {"retention.ms": str(to_ms(conf.event_topic_retention()))}


def longest_kept(configs: dict[str, int]) -> timedelta | None:
    """How long a topic with these configs may keep a record (None: for ever, or unknown)."""
    retention, segment = (configs.get(name) for name in RETENTION_CONFIGS)
    if retention is None or retention < 0:
        return None
    # Kafka's default segment.ms (7 days) applies when the broker does not say.
    return timedelta(milliseconds=retention + (segment if segment is not None else 604_800_000))


def create_topics(partitions: int | None = None, *, alter: bool = False) -> list[str]:
    """Create missing topics with their retention; existing ones are left as they are
    unless `alter`, which sets their retention too. Returns the topics created."""
    partitions = partitions or conf.get("TOPIC_PARTITIONS")
    replication = conf.get("TOPIC_REPLICATION_FACTOR")
    wanted = contract_topics() + dead_letter_topics()
    client = admin()
    try:
        existing = set(client.list_topics())
        missing = [t for t in wanted if t not in existing]
        for topic in missing:
            configs = topic_configs(topic)
            try:
                client.create_topics(
                    [NewTopic(topic, partitions, replication, topic_configs=configs)]
                )
            except TopicAlreadyExistsError:
                continue  # another process created it first: what we wanted
            logger.info("created topic %s with %d partitions, %s", topic, partitions, configs)
        if alter:
            present = [t for t in wanted if t in existing]
            client.alter_configs(
                [
                    ConfigResource(ConfigResourceType.TOPIC, t, configs=topic_configs(t))
                    for t in present
                ],
                # The client checks keys against what the broker lists as dynamic, and
                # Tansu lists none for a topic created without configs.
                raise_on_unknown=False,
            )
            logger.info("set the retention of %s", ", ".join(present))
        return missing
    finally:
        client.close()


@contextmanager
def _kafka_client_quiet() -> Iterator[None]:
    """The client logs an ERROR when it cannot bootstrap; the caller says it better."""
    client_logger = logging.getLogger("kafka")
    level = client_logger.level
    client_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        client_logger.setLevel(level)


def retention_of(topics: list[str], *, timeout_ms: int = 1500) -> dict[str, dict[str, int]]:
    """Each existing topic's retention configs as the broker reports them, in ms.

    Asks with short timeouts, for the system check: an unreachable broker raises within
    about `timeout_ms` rather than holding up every management command.
    """
    with _kafka_client_quiet():
        client = admin(bootstrap_timeout_ms=timeout_ms, request_timeout_ms=timeout_ms)
        try:
            present = sorted(set(client.list_topics()) & set(topics))
            if not present:
                return {}
            described = client.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, t) for t in present],
                config_filter="all",
            )
        finally:
            client.close()
    return {
        topic: {
            name: int(entry["value"])
            for name, entry in described["topic"].get(topic, {}).items()
            if name in RETENTION_CONFIGS and entry.get("value") is not None
        }
        for topic in present
    }
