"""Fault injection: a stream of orders runs while a process, the broker or the database fails.

Each test gets a broker of its own behind a TCP proxy, a Redis database of its own for
Celery, and every Procfile process (relay, one worker per consumer group, scheduler)
running against the test database; then it injects its fault and checks the invariants.
"""

import os
import sys
import urllib.parse
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings

from messaging.relay import RELAY_LOCK_ID
from messaging.topics import create_topics
from tests.faults.broker import broker_behind_proxy
from tests.faults.harness import FaultShop
from tests.faults.stack import Stack
from tests.faults.stream import Stream, stock_catalog

PARTITIONS = 2
# Short packing keeps a stream of 200 orders quick; it still leaves a window to cancel in.
PACKING_SECONDS = "0.5"
# Celery's queues of this suite live apart from the session's (the e2e worker's) database 0.
CELERY_REDIS_DB = 7


def pytest_collection_modifyitems(session, config, items) -> None:
    """Run the fault tests before any test that starts the session-wide shop processes.

    The e2e relay lives until the session ends and would publish this suite's outbox rows
    to the session's broker; its worker would take this suite's Celery tasks.
    """
    faults = [item for item in items if item.get_closest_marker("faults")]
    if not faults:
        return
    rest = [item for item in items if not item.get_closest_marker("faults")]
    first_shop = next(
        (i for i, item in enumerate(rest) if "shop_processes" in item.fixturenames), len(rest)
    )
    items[:] = rest[:first_shop] + faults + rest[first_shop:]


def _database_url() -> str:
    """The test database, as the subprocesses must reach it."""
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(url._replace(path="/" + settings.DATABASES["default"]["NAME"]))


def _celery_url() -> str:
    url = urllib.parse.urlsplit(os.environ["CELERY_BROKER_URL"])
    return urllib.parse.urlunsplit(url._replace(path=f"/{CELERY_REDIS_DB}"))


def _no_other_relay(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        free = conn.execute("SELECT pg_try_advisory_lock(%s)", [RELAY_LOCK_ID]).fetchone()[0]
    assert free, "another relay publishes from the test database: these tests need their own"


@pytest.fixture
def shop(request, transactional_db, settings, tmp_path) -> FaultShop:
    """The whole shop, on a broker of its own, ready for a stream of orders."""
    with broker_behind_proxy(tmp_path) as broker:
        settings.MESSAGING = settings.MESSAGING | {"BOOTSTRAP_SERVERS": broker.url}
        create_topics(partitions=PARTITIONS)
        redis.Redis.from_url(_celery_url()).flushdb()  # tasks left by a previous test
        database_url = _database_url()
        _no_other_relay(database_url)
        env = os.environ | {
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": _celery_url(),
            "KAFKA_BOOTSTRAP_SERVERS": broker.url,
            "WAREHOUSE_PACKING_SECONDS": PACKING_SECONDS,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "PYTHONUNBUFFERED": "1",
        }
        stack = Stack(tmp_path, env)
        initial_stock = stock_catalog()
        try:
            yield FaultShop(stack, broker, Stream(request.node.name), initial_stock)
        finally:
            stack.stop_all()
