"""Kafka clients configured once, from settings.MESSAGING."""

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient

from . import conf


def bootstrap_servers() -> list[str]:
    return [s.strip() for s in conf.get("BOOTSTRAP_SERVERS").split(",") if s.strip()]


def producer(**overrides) -> KafkaProducer:
    # acks=all plus idempotence: a retried send is written once, in order, per partition.
    options = {
        "bootstrap_servers": bootstrap_servers(),
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "client_id": "shop-relay",
    }
    return KafkaProducer(**(options | overrides))


def consumer(group_id: str, topics: list[str], **overrides) -> KafkaConsumer:
    options = {
        "bootstrap_servers": bootstrap_servers(),
        "group_id": group_id,
        "client_id": f"shop-{group_id}",
        # Offsets are committed by hand, after the handling transaction commits.
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": conf.get("CONSUMER_SESSION_TIMEOUT_MS"),
        "heartbeat_interval_ms": conf.get("CONSUMER_SESSION_TIMEOUT_MS") // 3,
        "max_poll_interval_ms": conf.get("CONSUMER_MAX_POLL_INTERVAL_MS"),
        "max_poll_records": conf.get("CONSUMER_MAX_RECORDS"),
        "isolation_level": "read_committed",
    }
    client = KafkaConsumer(**(options | overrides))
    client.subscribe(topics)
    return client


def reader(**overrides) -> KafkaConsumer:
    """A consumer outside any group, for tools that assign partitions and seek themselves."""
    options = {
        "bootstrap_servers": bootstrap_servers(),
        "group_id": None,
        "enable_auto_commit": False,
        "max_poll_records": conf.get("CONSUMER_MAX_RECORDS"),
        "isolation_level": "read_committed",
    }
    return KafkaConsumer(**(options | overrides))


def admin(**overrides) -> KafkaAdminClient:
    options = {"bootstrap_servers": bootstrap_servers(), "client_id": "shop-admin"}
    return KafkaAdminClient(**(options | overrides))
