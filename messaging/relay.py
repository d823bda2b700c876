"""The outbox relay: publishes committed outbox rows to Kafka, in order.

One relay publishes at a time (a PostgreSQL advisory lock elects it), because two
relays sharing the rows could publish one order's messages out of order; others wait
as hot standbys. It wakes on NOTIFY from `outbox.send` and polls as a fallback.
A crash between publishing and stamping `published_at` publishes those rows again:
consumers recognise the repeated message ids in their inbox.
"""

import logging
import threading

import psycopg
from django.db import connection
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone
from kafka.errors import KafkaError

from . import conf
from .kafka import producer as kafka_producer
from .models import OutboxMessage
from .outbox import NOTIFY_CHANNEL
from .wire import encode

logger = logging.getLogger(__name__)

# Any 64-bit number unique to this purpose within the database.
RELAY_LOCK_ID = 7_310_451_829
TRANSIENT_ERRORS = (KafkaError, OperationalError, InterfaceError, psycopg.OperationalError)


class Relay:
    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop or threading.Event()
        self.batch_size = conf.get("RELAY_BATCH_SIZE")
        self.poll_interval = conf.get("RELAY_POLL_INTERVAL")
        self.published = 0

    def run(self) -> None:
        """Publish until stopped; outages of the broker or the database are waited out."""
        backoff = 0.5
        while not self.stop.is_set():
            try:
                self._run_as_leader()
            except TRANSIENT_ERRORS as exc:
                logger.warning("relay: %s; retrying in %.1fs (rows stay pending)", exc, backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 10)
            finally:
                connection.close()

    def _run_as_leader(self) -> None:
        with _listening_connection() as listener:
            self._wait_for_leadership(listener)
            producer = kafka_producer()
            try:
                while not self.stop.is_set():
                    if self.publish_batch(producer) < self.batch_size:
                        _wait_for_notify(listener, self.poll_interval)
            finally:
                producer.close(timeout=5)

    def _wait_for_leadership(self, listener: psycopg.Connection) -> None:
        announced = False
        while not self.stop.is_set():
            if listener.execute("SELECT pg_try_advisory_lock(%s)", [RELAY_LOCK_ID]).fetchone()[0]:
                logger.info("relay is publishing")
                return
            if not announced:
                logger.info("another relay is publishing; standing by")
                announced = True
            self.stop.wait(1.0)

    def publish_batch(self, producer) -> int:
        rows = list(
            OutboxMessage.objects.filter(published_at=None).order_by("id")[: self.batch_size]
        )
        if not rows:
            return 0
        futures = [
            producer.send(r.topic, key=rec.key, value=rec.value, headers=rec.headers)
            for r in rows
            for rec in [encode(r.topic, r.metadata(), r.payload)]
        ]
        producer.flush()
        for future in futures:
            future.get()  # raises the first send error: nothing is stamped, all is resent
        OutboxMessage.objects.filter(id__in=[r.id for r in rows]).update(
            published_at=timezone.now()
        )
        self.published += len(rows)
        return len(rows)


def _listening_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    conn = psycopg.connect(**params, autocommit=True)
    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
    return conn


def _wait_for_notify(listener: psycopg.Connection, timeout: float) -> None:
    for _ in listener.notifies(timeout=timeout, stop_after=1):
        pass
