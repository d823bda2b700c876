"""The headers of a record on a dead-letter topic: their names, encodings, and reading them.

We write the names Spring Kafka's DeadLetterPublishingRecoverer writes, encoded as it
encodes them, so a Kafka UI's re-drive or a Spring consumer understands our dead letters;
and two of ours for what Spring has no name for. Records written before carry `dlq_*`
names, all text; `read` understands both.
"""

from dataclasses import dataclass

# Spring Kafka's names (KafkaHeaders.DLT_*) and encodings, as DeadLetterPublishingRecoverer
# writes them: spring-projects/spring-kafka, file spring-kafka/src/main/java/org/
# springframework/kafka/listener/DeadLetterPublishingRecoverer.java (maybeAddOriginalHeaders,
# addExceptionInfoHeaders) and, for the names, .../kafka/support/KafkaHeaders.java. The
# partition is a 4-byte big-endian int (ByteBuffer.allocate(Integer.BYTES).putInt), offset
# and timestamp are 8-byte big-endian longs (putLong), the rest UTF-8 text
# (getBytes(StandardCharsets.UTF_8)); the timestamp type is TimestampType's name.
ORIGINAL_TOPIC = "kafka_dlt-original-topic"
ORIGINAL_PARTITION = "kafka_dlt-original-partition"
ORIGINAL_OFFSET = "kafka_dlt-original-offset"
ORIGINAL_TIMESTAMP = "kafka_dlt-original-timestamp"
ORIGINAL_TIMESTAMP_TYPE = "kafka_dlt-original-timestamp-type"
ORIGINAL_CONSUMER_GROUP = "kafka_dlt-original-consumer-group"
EXCEPTION_FQCN = "kafka_dlt-exception-fqcn"
EXCEPTION_MESSAGE = "kafka_dlt-exception-message"
EXCEPTION_STACKTRACE = "kafka_dlt-exception-stacktrace"
SPRING_PREFIX = "kafka_dlt-"
# Spring's numbers, by their width in bytes.
NUMBER_WIDTHS = {ORIGINAL_PARTITION: 4, ORIGINAL_OFFSET: 8, ORIGINAL_TIMESTAMP: 8}

# Ours, UTF-8 text: how many times the handler was tried, and our reason (DeadLetter.Reason).
ATTEMPTS = "dlt-attempts"
REASON = "dlt-reason"

# The names written before Spring's, all UTF-8 text: dlq_group, dlq_reason, dlq_exception,
# dlq_message, dlq_attempts, dlq_original_topic, dlq_original_partition, dlq_original_offset.
LEGACY_PREFIX = "dlq_"


@dataclass(frozen=True)
class DeadLetterHeaders:
    """What a dead-letter record says about itself: where it was read, by which group, and
    what went wrong. What the record does not carry is None or ""."""

    group: str
    topic: str
    partition: int | None
    offset: int | None
    timestamp: int | None
    exception: str
    message: str
    trace: str
    attempts: int | None
    reason: str


def number(name: str, value: int) -> bytes:
    """One of Spring's numbers (partition, offset, timestamp) as Spring writes it."""
    return value.to_bytes(NUMBER_WIDTHS[name], "big", signed=True)


def read_number(name: str, raw: bytes | None) -> int | None:
    """One of Spring's numbers; None when missing or not of its width."""
    if raw is None or len(raw) != NUMBER_WIDTHS[name]:
        return None
    return int.from_bytes(raw, "big", signed=True)


def is_dead_letter_header(name: str) -> bool:
    """Written by a dead-lettering, under either naming (not one of the record's own)."""
    return name.startswith((SPRING_PREFIX, LEGACY_PREFIX)) or name in (ATTEMPTS, REASON)


def read(headers: list[tuple[str, bytes]]) -> DeadLetterHeaders | None:
    """A record's dead-letter headers, in Spring's names or the earlier `dlq_*` ones; None
    when it carries neither."""
    found = dict(headers)  # a name written twice (dead-lettered twice by Spring): the last
    if any(name.startswith(SPRING_PREFIX) for name in found):
        return _read_spring(found)
    legacy = {
        name.removeprefix(LEGACY_PREFIX): value
        for name, value in found.items()
        if name.startswith(LEGACY_PREFIX)
    }
    if not legacy:
        return None
    return DeadLetterHeaders(
        group=_text(legacy.get("group")),
        topic=_text(legacy.get("original_topic")),
        partition=_integer(legacy.get("original_partition")),
        offset=_integer(legacy.get("original_offset")),
        timestamp=None,  # not written under the old names
        exception=_text(legacy.get("exception")),
        message=_text(legacy.get("message")),
        trace="",
        attempts=_integer(legacy.get("attempts")),
        reason=_text(legacy.get("reason")),
    )


def _read_spring(found: dict[str, bytes]) -> DeadLetterHeaders:
    return DeadLetterHeaders(
        group=_text(found.get(ORIGINAL_CONSUMER_GROUP)),
        topic=_text(found.get(ORIGINAL_TOPIC)),
        partition=read_number(ORIGINAL_PARTITION, found.get(ORIGINAL_PARTITION)),
        offset=read_number(ORIGINAL_OFFSET, found.get(ORIGINAL_OFFSET)),
        timestamp=read_number(ORIGINAL_TIMESTAMP, found.get(ORIGINAL_TIMESTAMP)),
        exception=_text(found.get(EXCEPTION_FQCN)),
        message=_text(found.get(EXCEPTION_MESSAGE)),
        trace=_text(found.get(EXCEPTION_STACKTRACE)),
        attempts=_integer(found.get(ATTEMPTS)),
        reason=_text(found.get(REASON)),
    )


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def _integer(raw: bytes | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None
