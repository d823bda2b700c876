"""The outbox relay: publishes committed outbox rows to Kafka, in order.

One relay publishes at a time, because two relays sharing the rows could publish one
order's messages out of order; others wait as hot standbys. Leadership is a PostgreSQL
advisory lock held by the relay's one database session, the same session that listens
for NOTIFY, picks each batch and stamps it. Every batch is fenced: the query that picks
it returns rows only while its own session holds the lock, so a relay whose session died
(and whose lock a standby may hold by now) cannot pick another row; at most the batch it
was already sending goes out twice, and consumers recognise the repeated message ids.

"In order" means batch after batch, each the rows committed when it was picked, in id
order. A transaction that took its id before another and commits after it is published
after it. The shop and the warehouse never write two messages of one order that way:
each writes them under a row lock of that order (its order, its reservation), so they go
out as written.

A row Kafka refuses for good (larger than `MAX_RECORD_BYTES`, or refused by the broker
as such) is marked *refused*: the relay publishes other orders' messages, holds
back the later messages of the same key so none overtakes it, and an operator publishes
it again or skips it from the admin. An idempotent producer that had a record refused by
the broker fails everything after it, so the relay then makes a new producer and sends
the rows that were not acknowledged one at a time, to find the one refused.

Each stamped row keeps the partition and offset Kafka gave it, which is how the relay
notices a broker that lost records it had acknowledged (messaging.recovery).
"""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psycopg
from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone
from kafka.errors import InvalidRecordError, KafkaError, MessageSizeTooLargeError

from . import conf, metrics, recovery, rows, tracing
from .heartbeats import Pulse
from .kafka import producer as kafka_producer
from .models import OutboxMessage
from .outbox import NOTIFY_CHANNEL
from .wire import Record, encode

logger = logging.getLogger(__name__)

# Any 64-bit number unique to this purpose within the database.
RELAY_LOCK_ID = 7_310_451_829
TRANSIENT_ERRORS = (KafkaError, OperationalError, InterfaceError, psycopg.OperationalError)
# Errors about one record that no retry can fix; anything else (the broker away, a topic
# missing) is about the broker and is waited out with every row kept pending.
REFUSALS = (MessageSizeTooLargeError, InvalidRecordError)
# Kafka stores a record with its batch: bytes beyond key, value and headers.
RECORD_OVERHEAD = 100

# True only in the session that holds the relay's lock (pg_locks splits a bigint key
# into its high and low 32 bits).
HOLDS_THE_LOCK = RawSQL(
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid = %s AND objid = %s AND objsubid = 1)",
    (RELAY_LOCK_ID >> 32, RELAY_LOCK_ID & 0xFFFFFFFF),
    output_field=BooleanField(),
)


class ProducerBroken(Exception):
    """The broker refused a record of a batch: the producer fails everything after it."""


class Relay:
    def __init__(self, stop: threading.Event | None = None, pulse: Pulse | None = None) -> None:
        self.stop = stop or threading.Event()
        # Reported as the loops go round: leader, standby, or retrying after an error.
        self.pulse = pulse or Pulse("relay", "relay")
        self.batch_size = conf.get("RELAY_BATCH_SIZE")
        self.poll_interval = conf.get("RELAY_POLL_INTERVAL")
        self.max_record_bytes = conf.get("MAX_RECORD_BYTES")
        self.published = 0
        # Rows to send one at a time, after a batch in which the broker refused some row.
        self.one_by_one = 0

    def run(self) -> None:
        """Publish until stopped; outages of the broker or the database are waited out."""
        backoff = 0.5
        while not self.stop.is_set():
            try:
                self._run_as_leader()
            except TRANSIENT_ERRORS as exc:
                logger.warning("relay: %s; retrying in %.1fs (rows stay pending)", exc, backoff)
                self.pulse.report("retrying", error=f"{type(exc).__name__}: {exc}"[:500])
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 10)
            finally:
                connection.close()  # a lost session's lock is gone: lead only after winning it

    def _run_as_leader(self) -> None:
        with self.leadership() as session:
            if session is None:
                return  # stopped while standing by
            producer = self._producer()
            try:
                check_every = conf.get("RELAY_LOSS_CHECK_INTERVAL")
                checked = -check_every  # at once, whenever a relay starts leading
                while not self.stop.is_set():
                    self.pulse.report("leader", published=self.published)
                    if time.monotonic() - checked >= check_every:
                        recovery.republish_lost()
                        checked = time.monotonic()
                    try:
                        published = self.publish_batch(producer)
                    except ProducerBroken:
                        producer.close(timeout=0)
                        producer = self._producer()
                        continue
                    if published < self.batch_size:
                        _wait_for_notify(session, self.poll_interval)
            finally:
                producer.close(timeout=5)

    def _producer(self):
        return kafka_producer(max_request_size=self.max_record_bytes + RECORD_OVERHEAD)

    @contextmanager
    def leadership(self) -> Iterator[psycopg.Connection | None]:
        """Win the relay's lock on the Django connection's session, and listen on it.

        Yields the session, or None if stopped while standing by. The lock is released
        when the block ends, or with the session if it dies first.
        """
        connection.ensure_connection()
        session = connection.connection
        session.execute(f"LISTEN {NOTIFY_CHANNEL}")
        announced = False
        while not session.execute("SELECT pg_try_advisory_lock(%s)", [RELAY_LOCK_ID]).fetchone()[0]:
            self.pulse.report("standby", published=self.published)
            if not announced:
                logger.info("another relay is publishing; standing by")
                announced = True
            if self.stop.wait(1.0):
                yield None
                return
        logger.info("relay is publishing")
        try:
            yield session
        finally:
            # A session that died took its lock with it: nothing left to release.
            with suppress(psycopg.Error):
                session.execute("SELECT pg_advisory_unlock(%s)", [RELAY_LOCK_ID])
                session.execute(f"UNLISTEN {NOTIFY_CHANNEL}")

    def publish_batch(self, producer) -> int:
        """Publish the next rows in order; returns how many were published or refused.

        Raises ProducerBroken, having stamped what Kafka acknowledged (and refused the row,
        if it was alone), when the broker refused a row: the caller makes a new producer.
        """
        limit = 1 if self.one_by_one else self.batch_size
        pending = _next_rows(limit)
        if not pending:
            return 0
        sent, refused, spans = [], {}, {}
        for row in pending:
            if row.key in {r.key for r in refused}:
                continue  # never ahead of an earlier message of its key
            metadata = row.metadata()
            record = encode(row.topic, metadata, row.payload)
            too_big = self._too_big(record)
            if too_big:
                refused[row] = too_big
                continue
            try:
                future = producer.send(
                    row.topic, key=record.key, value=record.value, headers=record.headers
                )
            except REFUSALS as exc:
                refused[row] = f"{type(exc).__name__}: {exc}"
                continue
            sent.append((row, future))
            # In the trace of the message's creation (None outside any): the outbox's wait.
            spans[row] = tracing.sending(metadata, row.topic)
        producer.flush()
        published, failed = [], []
        for row, future in sent:
            try:
                published.append((row, future.get()))
            except REFUSALS as exc:
                failed.append((row, f"{type(exc).__name__}: {exc}"))
            # Anything else raises: nothing more is stamped and the rest is sent again.
        if len(pending) == 1:
            refused |= dict(failed)  # alone in its batch: this row is the one refused
        self.one_by_one = max(self.one_by_one - len(pending), 0)
        overwritten = _stamp(published)
        for row, meta in published:
            tracing.sent(spans.get(row), meta.partition, meta.offset)
            metrics.published(row.topic, row.time)
        for row, why in failed:
            tracing.refused(spans.get(row), why)
        if overwritten:
            recovery.republish_overwritten(published)
        _refuse(refused)
        self.published += len(published)
        if failed:
            if len(pending) > 1:
                # Which row the broker refused is unknown: the others failed with it.
                self.one_by_one = len(failed)
            raise ProducerBroken(failed[0][1])
        return len(published) + len(refused)

    def _too_big(self, record: Record) -> str:
        size = len(record.key) + len(record.value) + sum(len(n) + len(v) for n, v in record.headers)
        if size + RECORD_OVERHEAD <= self.max_record_bytes:
            return ""
        return (
            f"{size + RECORD_OVERHEAD} bytes: larger than MAX_RECORD_BYTES "
            f"({self.max_record_bytes}), the largest record the broker accepts"
        )


def _next_rows(limit: int) -> list[OutboxMessage]:
    """Up to `limit` pending rows in id order, without those behind a refused row of the
    same key, while this session holds the relay's lock.

    Django takes about 1.7 ms of CPU to compile this query, which ran on every poll: it is
    compiled once per limit, and each poll runs the SQL (0.3 ms, the rows included).
    """
    if limit not in _NEXT_ROWS:
        query = _pending_in_order().filter(HOLDS_THE_LOCK)[:limit]
        _NEXT_ROWS[limit] = query.query.sql_with_params()
    sql, params = _NEXT_ROWS[limit]
    return list(OutboxMessage.objects.raw(sql, params))


_NEXT_ROWS: dict[int, tuple[str, tuple]] = {}


def _pending_in_order():
    """Pending rows in id order, without those behind a refused row of the same key.

    Why `id >= the first unpublished id`, which every pending row meets anyway: a row's
    entry in the pending index outlives its publishing until a vacuum removes it, and the
    planner, expecting a handful of rows, reads that index with a bitmap scan, which visits
    the row of every such entry on every poll (12,877 of them, 2.4 ms, in a benchmark
    between two vacuums). The first pending id is found by walking the index in order, a
    plain index scan, and that marks each entry whose row no transaction can see any more
    as dead, so the next poll skips it; the main scan then starts at the first pending row.
    """
    refused_before = OutboxMessage.objects.refused().filter(
        key=OuterRef("key"), id__lt=OuterRef("id")
    )
    # Pending, not only unpublished: a refused row waiting for an operator (or a skipped
    # one) would otherwise hold the start where it is, for days.
    first = OutboxMessage.objects.pending().order_by("id").values("id")[:1]
    return (
        OutboxMessage.objects.pending()
        .filter(id__gte=Subquery(first))
        .filter(~Exists(refused_before))
        .order_by("id")
    )


def _stamp(published: list) -> bool:
    """Mark rows published, with where Kafka put each, in one fenced statement; returns
    whether rows stamped before hold offsets Kafka has now given to this batch (the broker
    lost them: `recovery.republish_overwritten` publishes them again). The question rides
    on the UPDATE, which sees the table as it was before it: one round trip per batch."""
    if not published:
        return False
    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    columns = {"id": "bigint", "topic": "varchar", "partition": "integer", "offset": "bigint"}
    given = [
        {"id": row.id, "topic": meta.topic, "partition": meta.partition, "offset": meta.offset}
        for row, meta in published
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH given AS (SELECT * FROM {rows.recordset('given', columns)}), "
            f"stamped AS (UPDATE {table} AS o SET published_at = %s, "
            '"partition" = given."partition", "offset" = given."offset" '
            f"FROM given WHERE o.id = given.id AND {HOLDS_THE_LOCK.sql}), "
            'lowest AS (SELECT topic, "partition", min("offset") AS "offset" '
            "FROM given GROUP BY 1, 2) "
            f"SELECT EXISTS (SELECT FROM {table} AS o JOIN lowest AS l "
            'ON o.topic = l.topic AND o."partition" = l."partition" AND o."offset" >= l."offset" '
            "WHERE o.id NOT IN (SELECT id FROM given))",
            [rows.document(given), timezone.now(), *HOLDS_THE_LOCK.params],
        )
        return cursor.fetchone()[0]


def _refuse(refused: dict) -> None:
    for row, why in refused.items():
        logger.error(
            "relay: Kafka refuses %s %s for good (%s); its key's later messages wait behind it",
            row.type,
            row.message_id,
            why,
        )
        OutboxMessage.objects.filter(id=row.id).filter(HOLDS_THE_LOCK).update(
            refused_at=timezone.now(), refusal=why
        )


def _wait_for_notify(session: psycopg.Connection, timeout: float) -> None:
    for _ in session.notifies(timeout=timeout, stop_after=1):
        pass
