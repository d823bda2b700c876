"""The consumer loop: one consumer group polling its topics, inside a Celery worker.

Offsets are committed only after every record of a batch was handled and its
transaction committed, and only for the partitions the batch came from; a crash in
between redelivers records, and the inbox makes that harmless.

A broker that lost records (the demo's in-memory broker restarted, a topic created
anew) reports a partition's end below where the group had got to: the loop then reads
that partition again from its beginning, rather than wait at an offset the new records
will reach only later, and skip everything before it.

A group that reads several partitions reads them in step with time (messaging.alignment):
what a poll read ahead of a partition with records left waits for it.
"""

import heapq
import logging
import threading
import time

from django.db import close_old_connections, connection
from django.db.utils import InterfaceError, OperationalError
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from . import conf, metrics
from .alignment import Alignment
from .handling import handle_batch
from .heartbeats import Pulse
from .kafka import consumer as kafka_consumer
from .registry import ConsumerGroup
from .wire import RawRecord

logger = logging.getLogger(__name__)

# Lost database or broker connections heal by themselves: wait and poll again.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, KafkaError)


class ConsumerLoop:
    def __init__(
        self, group: ConsumerGroup, stop: threading.Event, pulse: Pulse | None = None
    ) -> None:
        self.group = group
        self.stop = stop
        self.ready = threading.Event()  # set once the group has its partitions
        # Reported after every poll: the member's partitions and how far behind it is.
        self.pulse = pulse or Pulse("consumer", group.name)
        self.alignment = Alignment()

    def run(self) -> None:
        backoff = 0.5
        while not self.stop.is_set():
            try:
                self._consume()
                return
            except TRANSIENT_ERRORS as exc:
                logger.warning(
                    "%s consumer: %s; reconnecting in %.1fs", self.group.name, exc, backoff
                )
                self.pulse.report("reconnecting", error=f"{type(exc).__name__}: {exc}"[:500])
            # Anything else is a bug, and a consumer thread must never die quietly: say so
            # loudly, then start again from the last committed offset.
            except Exception:
                logger.exception(
                    "%s consumer crashed; restarting in %.1fs", self.group.name, backoff
                )
            finally:
                connection.close()
            self.stop.wait(backoff)
            backoff = min(backoff * 2, 10)

    def _consume(self) -> None:
        # A fresh client resumes from the committed offsets, so a batch that failed
        # half-way is read again in full; the inbox skips what was already handled.
        topics = self.group.subscribed_topics()
        client = kafka_consumer(self.group.name, topics)
        timeout_ms = conf.get("CONSUMER_POLL_TIMEOUT_MS")
        logger.info("%s consumer polling %s", self.group.name, ", ".join(topics))
        try:
            while not self.stop.is_set():
                batch = client.poll(timeout_ms=timeout_ms)
                if client.assignment():
                    self.ready.set()
                where = self._where(client)
                behind = _left_to_read(where)
                self._report(client, behind)
                batch = self._align(client, batch, behind)
                self._reread_what_the_broker_lost(client, where)
                if not batch:
                    continue
                close_old_connections()
                self._process(batch)
                client.commit(
                    {
                        tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)
                        for tp, records in batch.items()
                    }
                )
        finally:
            client.close(autocommit=False)

    @staticmethod
    def _where(client) -> dict:
        """Each assigned partition's end and this consumer's position in it (None when not
        known yet), asked of the client once per poll: the client's own numbers, from its
        last fetch, with no request to the broker.
        """
        where = {}
        for tp in client.assignment():
            end = client.highwater(tp)
            where[tp] = (end, client.position(tp, timeout_ms=0) if end is not None else None)
        return where

    def _report(self, client, behind: dict) -> None:
        role = "consuming" if behind else "joining"
        if role == self.pulse.role and not self.pulse.due():
            self.pulse.report(role)
            return
        self.pulse.report(
            role,
            partitions=sorted(f"{tp.topic}[{tp.partition}]" for tp in behind),
            lag=None if None in behind.values() else sum(behind.values()),
        )

    def _align(self, client, batch: dict, behind: dict) -> dict:
        """The part of the batch to handle now; what was read ahead in time is read again."""
        now, again = self.alignment.take(batch, behind)
        for tp, offset in again.items():
            client.seek(tp, offset)
        return now

    def _reread_what_the_broker_lost(self, client, where: dict) -> None:
        # A position past the end the last fetch reported (`_where`, taken before the
        # poll's alignment, which only ever moves a position back).
        for tp, (end, position) in where.items():
            if position is not None and end < position:
                logger.warning(
                    "%s consumer: %s[%d] ends at %d, below %d where this group had got to: "
                    "the broker lost records; reading the partition again from its beginning",
                    self.group.name,
                    tp.topic,
                    tp.partition,
                    end,
                    position,
                )
                client.seek_to_beginning(tp)

    def _process(self, batch: dict) -> None:
        if self.group.process_records is not None:
            for records in batch.values():
                raw = [RawRecord.from_consumer_record(r) for r in records]
                started = time.perf_counter()
                self.group.process_records(raw)
                each = (time.perf_counter() - started) / len(raw)
                for record in raw:
                    metrics.recorded(self.group.name, record.headers, each)
            return
        # The poll's partitions interleaved by time, each still in its own order (a merge
        # never reorders one input): what came from two topics is handled as it was
        # published, in one transaction.
        merged = heapq.merge(*batch.values(), key=lambda record: record.timestamp)
        handle_batch(self.group, [RawRecord.from_consumer_record(r) for r in merged])


def _left_to_read(where: dict) -> dict:
    """Each partition's records left to read (None when not known yet)."""
    return {tp: None if at is None else max(end - at, 0) for tp, (end, at) in where.items()}
