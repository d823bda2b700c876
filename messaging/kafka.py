"""Kafka clients configured once, from settings.MESSAGING."""

import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaTimeoutError

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
        "fetch_max_wait_ms": conf.get("CONSUMER_FETCH_MAX_WAIT_MS"),
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


class OffsetsUnknown(KafkaTimeoutError):
    """The broker did not tell a partition's offsets in time: nothing may be concluded."""


def beginning_offsets(client: KafkaConsumer, partitions: list[TopicPartition]) -> dict:
    """The first offset still held by each partition."""
    return _listed(client.beginning_offsets, partitions)


def end_offsets(
    client: KafkaConsumer, partitions: list[TopicPartition], *, exact: bool = False
) -> dict:
    """One past the last record of each partition. `client` is left with no assignment.

    ListOffsets alone is not enough: Tansu answers it with the base offset of the last
    record batch plus one, so a partition whose last batch holds several records looks
    shorter than it is. The high watermark a fetch reports is right on every broker, so
    each non-empty partition is fetched from once, at its last batch. A partition whose
    fetch did not answer within 5 s keeps the listed offset, which may fall short; with
    `exact`, OffsetsUnknown is raised instead, for callers that would take a short end
    for lost records.
    """
    listed = _listed(client.end_offsets, partitions)
    nonempty = [tp for tp in partitions if listed[tp] > 0]
    client.assign(nonempty)
    for tp in nonempty:
        client.seek(tp, listed[tp] - 1)
    deadline = time.monotonic() + 5
    while any(client.highwater(tp) is None for tp in nonempty) and time.monotonic() < deadline:
        client.poll(timeout_ms=200)
    unknown = [tp for tp in nonempty if client.highwater(tp) is None]
    ends = dict(listed) | {tp: max(listed[tp], client.highwater(tp) or 0) for tp in nonempty}
    client.assign([])
    if exact and unknown:
        raise OffsetsUnknown(f"no fetch answered within 5 s for {unknown}")
    return ends


def _listed(list_offsets, partitions: list[TopicPartition], timeout: float = 5.0) -> dict:
    """`list_offsets(partitions)`, asked again while the client leaves a partition out.

    kafka-python 3.0.12 leaves out of its ListOffsets request any partition whose leader
    its metadata does not know yet (it asks for a metadata update but neither waits for
    it nor retries) and then fails on that partition with a KeyError. A moment later the
    update has arrived and the same call answers for every partition.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return list_offsets(partitions)
        except KeyError as exc:
            if time.monotonic() >= deadline:
                raise OffsetsUnknown(f"no leader known for {exc.args[0]}") from exc
            time.sleep(0.1)


def admin(**overrides) -> KafkaAdminClient:
    options = {"bootstrap_servers": bootstrap_servers(), "client_id": "shop-admin"}
    return KafkaAdminClient(**(options | overrides))
