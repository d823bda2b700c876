"""The topics the shop needs: every topic a contract names, and each consumer group's
dead-letter topic (the audit group, which dead-letters nothing, has none)."""

import logging

from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from . import conf
from .contracts import contract_topics
from .kafka import admin
from .registry import groups

logger = logging.getLogger(__name__)


def dead_letter_topic(group_name: str) -> str:
    """Where a group's dead letters are copied, for any Kafka tool to inspect or re-drive."""
    return f"{group_name}.dead-letters"


def dead_letter_topics() -> list[str]:
    return sorted(
        dead_letter_topic(name) for name, g in groups().items() if g.process_records is None
    )


def create_topics(partitions: int | None = None) -> list[str]:
    """Create missing topics; existing ones are left as they are. Returns those created."""
    partitions = partitions or conf.get("TOPIC_PARTITIONS")
    replication = conf.get("TOPIC_REPLICATION_FACTOR")
    client = admin()
    try:
        existing = set(client.list_topics())
        missing = [t for t in contract_topics() + dead_letter_topics() if t not in existing]
        for topic in missing:
            try:
                client.create_topics([NewTopic(topic, partitions, replication)])
            except TopicAlreadyExistsError:
                continue  # another process created it first: what we wanted
            logger.info("created topic %s with %d partitions", topic, partitions)
        return missing
    finally:
        client.close()
