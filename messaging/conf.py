"""The messaging platform's settings: one namespaced dict, `settings.MESSAGING`.

Every key has a default here; an unknown key is a typo and fails loudly at start-up.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .durations import format_duration, parse_duration, parse_retention

DEFAULTS: dict[str, Any] = {
    "BOOTSTRAP_SERVERS": "127.0.0.1:9092",
    "TOPIC_PARTITIONS": 4,
    "TOPIC_REPLICATION_FACTOR": 1,
    # Where the event API document is served: every record's `dataschema` points into it.
    "EVENT_API_URL": "http://127.0.0.1:8000/api/asyncapi.json",
    # Relay: rows per produce batch; seconds between polls when no NOTIFY arrives.
    "RELAY_BATCH_SIZE": 500,
    "RELAY_POLL_INTERVAL": 1.0,
    # The largest record the broker accepts (Kafka's message.max.bytes is 1048588 by
    # default); a larger outbox row is refused before it is sent, on every broker alike.
    "MAX_RECORD_BYTES": 1_000_000,
    # Seconds between the relay's checks that the broker still holds what it acknowledged
    # (messaging.recovery); also checked whenever a relay starts leading.
    "RELAY_LOSS_CHECK_INTERVAL": 10.0,
    # Consumers. Tansu and Kafka both assign partitions within ~3 s with a 6 s session
    # timeout; the client default (10 s) makes a new group's first join take ~23 s on Tansu.
    "CONSUMER_SESSION_TIMEOUT_MS": 6000,
    "CONSUMER_MAX_POLL_INTERVAL_MS": 60000,
    "CONSUMER_POLL_TIMEOUT_MS": 250,
    # How long the broker may hold a fetch that finds nothing new. Apache Kafka answers a
    # waiting fetch as soon as a record arrives; Tansu (the demo's) answers late, so there
    # the wait is much of every hop's latency, and each idle consumer asks this often.
    # Measured on Tansu, one record at a time (send to receipt p50, and an idle consumer's
    # CPU with Tansu's): 500 ms 130 ms, 1%; 200 53 ms, 2%; 100 19 ms, 2.5%; 50 7 ms, 5%.
    "CONSUMER_FETCH_MAX_WAIT_MS": 100,
    "CONSUMER_MAX_RECORDS": 200,
    # A handler that raises is tried this many times in all (the first by the consumer,
    # then by Celery with exponential backoff), then dead-lettered (messaging.retrying).
    "HANDLER_ATTEMPTS": 5,
    "RETRY_BACKOFF_SECONDS": 1.0,
    "RETRY_BACKOFF_MAX_SECONDS": 60.0,
    # A handler that raises NotYet waits for its prerequisite message this long, retried
    # with the same backoff and at once when a message of its key is handled, then it is
    # dead-lettered: a prerequisite that has not come in an hour is not on its way.
    "PREREQUISITE_WAIT_SECONDS": 3600.0,
    # Every process writes its heartbeats this often (seconds); one silent for three
    # intervals is stale (messaging.heartbeats, messaging.liveness), and the scheduler
    # forgets one silent this long (a process that stops cleanly deletes its own at once).
    "HEARTBEAT_INTERVAL": 5.0,
    "HEARTBEAT_FORGET_AFTER": 86400.0,
    # Retention (messaging.retention, messaging.topics): how long each table keeps a row
    # once nothing needs it. The inbox window is also how long a command can come back and
    # still be recognised: command topics keep their records for less (create_topics sets
    # it), and the outbox keeps published rows no longer (after a broker loss the relay
    # publishes again what an inbox has not recorded).
    "RETAIN_OUTBOX": timedelta(days=7),  # after publication (or skipping)
    "RETAIN_INBOX": timedelta(days=7),  # after handling: the inbox window
    "RETAIN_MESSAGE_LOG": timedelta(days=30),  # after recording
    "RETAIN_HANDLING_FAILURES": timedelta(days=30),  # after the attempt
    "RETAIN_DEAD_LETTERS": timedelta(days=30),  # after an operator retried or skipped it
    # Broker losses the relay published again in full; one still missing from its topic's
    # history is kept for good, for a rebuild to refuse to pass over it silently.
    "RETAIN_BROKER_LOSSES": timedelta(days=30),  # after it was detected
    # An API's idempotency keys (the shop's Idempotency-Key): a client retrying within this
    # gets the first answer back, later it is a new request. At least MIN_IDEMPOTENCY_WINDOW.
    "RETAIN_IDEMPOTENCY_KEYS": timedelta(days=7),  # after the first request
    # Event topics are the history projections are rebuilt from: None keeps every record.
    "EVENT_TOPIC_RETENTION": None,
    # Rows per DELETE statement of the purge: each batch commits alone, so no lock is held
    # for long whatever the backlog. A batch is also how long a BUY can wait behind it:
    # during a purge of a million rows on two cores, the BUY's p99 was 5.7 times its p99
    # without with 2,000 rows, 1.2 times with 500, for a purge 22% longer (scenario 6).
    "PURGE_BATCH_SIZE": 500,
    # The purge's pace: after each batch it pauses this many times as long as the batch
    # took (1: as long again, the purge works half the time; 0: batches back to back).
    # A multiple of the batch's own time, not a fixed duration: a batch takes longer when
    # the database is busy, so the purge yields more exactly when the shop needs it, and a
    # fixed pause right for one machine would be too long or too short on another.
    # Back to back, 2,000-row batches made BUYs queue behind them on two cores (p99 18.7
    # times as long during a 1M-row purge; benchmarks/purge.py, scenario 6).
    "PURGE_PAUSE": 1.0,
}


def get(key: str) -> Any:
    # The system check (messaging.E008) reports an unknown key at start-up, but Gunicorn
    # and Celery workers run no checks: a process that reads a setting refuses one too.
    unknown = unknown_keys()
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown MESSAGING settings: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(DEFAULTS))})"
        )
    return getattr(settings, "MESSAGING", {}).get(key, DEFAULTS[key])


def duration(key: str) -> timedelta:
    """A retention setting as a timedelta; ImproperlyConfigured, naming it, if it is not one."""
    return parse_duration(get(key), name=f"MESSAGING[{key!r}]")


def event_topic_retention() -> timedelta | None:
    return parse_retention(get("EVENT_TOPIC_RETENTION"), name="MESSAGING['EVENT_TOPIC_RETENTION']")


# The shortest time an idempotency key is kept: the API promises a retry within a day its
# first answer (the window clients commonly count on: a retry after a night's outage).
MIN_IDEMPOTENCY_WINDOW = timedelta(days=1)


def retention_conflicts() -> list[str]:
    """Retention settings that would break "nothing twice", each said in a sentence."""
    conflicts = []
    outbox, inbox = duration("RETAIN_OUTBOX"), duration("RETAIN_INBOX")
    if outbox > inbox:
        conflicts.append(
            f"RETAIN_OUTBOX ({format_duration(outbox)}) is longer than RETAIN_INBOX "
            f"({format_duration(inbox)}): after a broker loss the relay publishes again the "
            "rows an inbox no longer remembers, and they would be handled twice"
        )
    keys = duration("RETAIN_IDEMPOTENCY_KEYS")
    if keys < MIN_IDEMPOTENCY_WINDOW:
        conflicts.append(
            f"RETAIN_IDEMPOTENCY_KEYS ({format_duration(keys)}) is shorter than "
            f"{format_duration(MIN_IDEMPOTENCY_WINDOW)}: the API promises a client that "
            "retries within it the first answer, not a second order"
        )
    return conflicts


def unknown_keys() -> list[str]:
    """The keys of settings.MESSAGING that have no default here: typos."""
    return sorted(set(getattr(settings, "MESSAGING", {})) - set(DEFAULTS))
