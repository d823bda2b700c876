"""Real PostgreSQL, Redis and a Kafka-protocol broker (Tansu), started from PyPI packages.

One module per server (`postgres`, `redis`, `kafka`): each `start_*` function starts its
server as our child, waits until it answers, and returns a `Service` whose `url` is what
clients use and whose `stop()` ends it. Here they are started together: `embedded_servers`
starts the ones the environment does not already point at; `start_for_tests` gives a test
session its own set on free ports.

Layout of a data folder (`var/` for the demo):
    postgres/   the PostgreSQL cluster (kept across runs: the shop's state lives here)
    redis/      Redis's working directory (nothing is persisted, see start_redis)
    log/        one log file per server
    run/        pid files, so a later run can stop what a killed supervisor left behind
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from devstack.processes import Service, exclusive, free_ports
from devstack.servers.common import HOST
from devstack.servers.kafka import KAFKA_PORT, start_kafka
from devstack.servers.postgres import DATABASE, POSTGRES_PORT, start_postgres
from devstack.servers.redis import REDIS_PORT, start_redis
from devstack.servers.signals import signals_as_keyboard_interrupt

__all__ = [
    "DATABASE",
    "HOST",
    "KAFKA_PORT",
    "POSTGRES_PORT",
    "REDIS_PORT",
    "StartedServers",
    "embedded_servers",
    "start_for_tests",
    "start_kafka",
    "start_postgres",
    "start_redis",
]


class StartedServers(dict[str, str]):
    """The variables to export (name → URL), with the server behind each, to watch it."""

    def __init__(self) -> None:
        super().__init__()
        self.services: list[Service] = []


@contextlib.contextmanager
def embedded_servers(
    data_dir: Path,
    *,
    postgres_port: int = POSTGRES_PORT,
    redis_port: int = REDIS_PORT,
    kafka_port: int = KAFKA_PORT,
    only_missing: bool = True,
    durable: bool = True,
) -> Iterator[StartedServers]:
    """Start a server for each URL the environment lacks; yield the variables to export.

    With `only_missing=False` all three start regardless. Servers stop in reverse order on
    exit, also after Ctrl-C, SIGTERM or SIGHUP (both made to behave like Ctrl-C here).
    """
    data_dir = data_dir.resolve()
    # In this order: the database first, so it stops last.
    starters: dict[str, Callable[[], Service]] = {
        "DATABASE_URL": lambda: start_postgres(data_dir, postgres_port, durable=durable),
        "CELERY_BROKER_URL": lambda: start_redis(data_dir, redis_port),
        "KAFKA_BOOTSTRAP_SERVERS": lambda: start_kafka(data_dir, kafka_port),
    }
    with signals_as_keyboard_interrupt(), exclusive(data_dir), contextlib.ExitStack() as stack:
        exported = StartedServers()
        for variable, start in starters.items():
            if only_missing and os.environ.get(variable):
                continue
            service = start()
            stack.callback(service.stop)
            exported[variable] = service.url
            exported.services.append(service)
        yield exported


def start_for_tests(base_dir: Path) -> tuple[dict[str, str], Callable[[], None]]:
    """All three servers on free ports under `base_dir`, for one test session.

    Returns the environment variables that point at them and a function that stops them.
    """
    postgres_port, redis_port, kafka_port = free_ports(3, HOST)
    stack = contextlib.ExitStack()
    env = stack.enter_context(
        embedded_servers(
            Path(base_dir),
            postgres_port=postgres_port,
            redis_port=redis_port,
            kafka_port=kafka_port,
            only_missing=False,
            durable=False,
        )
    )
    return env, stack.close
