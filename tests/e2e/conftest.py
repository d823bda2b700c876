"""The running shop for end-to-end tests: a real relay and a real Celery worker.

They run as subprocesses, exactly as in the demo, against the test database and the
session's broker; tests talk to the live server over HTTP and wait with deadlines.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.parse
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from messaging.kafka import bootstrap_servers, end_offsets, reader
from messaging.registry import groups
from messaging.topics import create_topics
from tests.otlp import Collector

ROOT = Path(__file__).resolve().parents[2]
PACKING_SECONDS = 3


def test_database_url() -> str:
    """DATABASE_URL with the test database's name in place of the configured one."""
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(url._replace(path="/" + settings.DATABASES["default"]["NAME"]))


@pytest.fixture(scope="session")
def collector():
    """Where the processes send their traces (tests/e2e/test_traces.py reads them)."""
    receiver = Collector()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def shop_env(django_db_setup, collector) -> dict[str, str]:
    """The environment of the shop's processes: the test database, traces on."""
    return os.environ | {
        "DATABASE_URL": test_database_url(),
        "PYTHONUNBUFFERED": "1",
        # Long enough for a test to cancel while the parcel is packing, short enough to wait.
        "WAREHOUSE_PACKING_SECONDS": str(PACKING_SECONDS),
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # ms between exports: spans arrive while tests wait
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def metrics_ports() -> dict[str, int]:
    """Where the relay and the worker serve their metrics (tests/e2e/test_metrics.py)."""
    return {"relay": free_port(), "worker": free_port()}


# For tests/e2e only: left running, they would consume and write to the test database
# through every later test module, where a transactional test's TRUNCATE can deadlock with
# them (seen once in CI: tests/notifications' teardown flush).
@pytest.fixture(scope="package")
def shop_processes(shop_env, metrics_ports, tmp_path_factory):
    create_topics(partitions=2)
    start_every_group_at_the_end()
    logs = tmp_path_factory.mktemp("processes")
    bin_dir = Path(sys.executable).parent
    commands = {
        "relay": [sys.executable, "manage.py", "run_relay"],
        "worker": [
            str(bin_dir / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=threads",
            "--concurrency=4",
            "-Q",
            # Each group's retries run on its own queue, named after it.
            ",".join(["celery", *sorted(groups())]),
            "-l",
            "info",
            "--consumers=" + ",".join(sorted(groups())),
            "-n",
            "e2e@%h",
        ],
    }
    processes = {
        name: subprocess.Popen(
            command,
            cwd=ROOT,
            env=shop_env | {"METRICS_PORT": str(metrics_ports[name]), "METRICS_ADDR": "127.0.0.1"},
            stdout=(logs / f"{name}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for name, command in commands.items()
    }
    yield {name: logs / f"{name}.log" for name in processes}
    for process in processes.values():
        process.terminate()
    for process in processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def start_every_group_at_the_end() -> None:
    """What earlier test modules left on the session's topics (the orders of
    tests/messaging/test_alignment, say) belongs to no test here: handled by these
    processes, it would cancel or park their orders. Every group starts where its topics
    end."""
    client = reader()
    for name, group in groups().items():
        partitions = [
            TopicPartition(topic, partition)
            for topic in group.subscribed_topics()
            for partition in client.partitions_for_topic(topic) or ()
        ]
        ends = end_offsets(client, partitions)
        member = KafkaConsumer(
            bootstrap_servers=bootstrap_servers(), group_id=name, enable_auto_commit=False
        )
        member.commit({tp: OffsetAndMetadata(end, "", -1) for tp, end in ends.items()})
        member.close(autocommit=False)
    client.close()


@pytest.fixture
def wait_until(shop_processes):
    def wait(condition: Callable[[], object], *, what: str, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(0.1)
        logs = "\n".join(
            f"--- {name} (last lines)\n" + "\n".join(path.read_text().splitlines()[-30:])
            for name, path in shop_processes.items()
        )
        raise AssertionError(f"Timed out after {timeout:.0f}s waiting for {what}\n{logs}")

    return wait


@pytest.fixture(autouse=True)
def settle_before_the_flush(transactional_db, shop_processes):
    """Let the pipeline go quiet before pytest-django truncates every table.

    TRUNCATE locks the tables one after another; a worker that is still handling a message
    holds some of them and wants others, and PostgreSQL breaks the deadlock by failing one
    side, sometimes the flush (tests/flush.py then runs it again).
    """
    yield
    from django.db.models import Q
    from django.db.models.functions import Now

    from messagelog.lag import total_lag_by_group
    from messaging.models import OutboxMessage, ParkedRecord
    from notifications.models import Notification
    from warehouse.models import Reservation

    def busy() -> list[str]:
        lag = {group: n for group, n in total_lag_by_group(timeout_ms=2000).items() if n}
        return [
            what
            for what, yes in (
                (
                    "unpublished outbox rows",
                    OutboxMessage.objects.filter(published_at=None).exists(),
                ),
                ("parked records", ParkedRecord.objects.exists()),
                (
                    "orders packing",
                    Reservation.objects.filter(status=Reservation.Status.PACKING).exists(),
                ),
                (
                    "notifications being sent",
                    Notification.objects.filter(
                        Q(status=Notification.Status.SENDING)
                        | Q(status=Notification.Status.PENDING, next_attempt_at__lte=Now())
                    ).exists(),
                ),
                (f"lag {lag}", bool(lag)),
            )
            if yes
        ]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not (left := busy()):
            return
        time.sleep(0.2)
    # A test that leaves work behind costs every run these 30 s: say which one, and what.
    warnings.warn(f"the pipeline was still busy 30 s after the test: {left}", stacklevel=1)
