"""The shop's processes for a benchmark: real servers, then the Procfile's own command lines.

The servers come from `devstack.servers.start_for_tests` (free ports, a throwaway cluster),
so a benchmark never touches the demo's data or another run's broker. The web server, the
relay and the workers are started from the Procfile lines, so what is measured is what
`make demo` and docker-compose run; only the settings module differs (benchmarks.settings
adds the baseline views beside the shop's URLs).
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devstack.processes import Service, accepts_connections, free_ports, spawn, wait_until
from devstack.procfile import process_types
from devstack.servers import HOST, start_for_tests, start_kafka

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Servers:
    """The run's PostgreSQL, Redis and Tansu."""

    data_dir: Path
    broker: Service
    _stop: Callable[[], None]

    def restart_broker(self) -> None:
        """Tansu again, empty, on the same port.

        Its memory storage costs more per record the more records it holds (docs/
        benchmarks.md, "Conditions"), and it has no retention or DeleteRecords to trim
        them: a scenario measured after others would pay for what they left behind.
        """
        self.broker.stop()
        port = int(self.broker.url.rpartition(":")[2])
        self.broker = start_kafka(self.data_dir, port)

    def stop(self) -> None:
        self._stop()
        self.broker.stop()  # a restarted one; the first is stopped already


def start_servers(base_dir: Path) -> Servers:
    """Start PostgreSQL, Redis and Tansu; point this process and its children at them."""
    urls, stop = start_for_tests(base_dir)
    for name in [k for k in os.environ if k.startswith("DJANGO_")] + ["SHOP_DEMO"]:
        os.environ.pop(name, None)
    os.environ.update(urls)
    os.environ.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            # Production settings (DEBUG off: no query log growing in memory), over plain http.
            "DJANGO_DEBUG": "0",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_STATIC_MANIFEST": "0",
            # The warehouse's packing time is a simulated wait, not work: without it the figures
            # are the platform's, not a timer's.
            "WAREHOUSE_PACKING_SECONDS": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    [broker] = [s for s in urls.services if s.name == "kafka"]
    return Servers(base_dir.resolve(), broker, stop)


@dataclass
class Stack:
    """The application processes of one benchmark run, by name."""

    log_dir: Path
    servers: Servers | None = None
    # Each web server's port, by process name; "web" is the one every scenario's BUYs go to.
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, Service] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.ports["web"]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, name: str, command: str) -> Service:
        service = spawn(
            name,
            ["/bin/sh", "-c", f"exec {command}"],
            run_dir=self.log_dir / "run",
            log_path=self.log_dir / f"{name}.log",
            markers=[command.split()[0]],
            cwd=ROOT,
        )
        self.processes[name] = service
        return service

    def start_web(self, *, workers: int = 2, name: str = "web") -> int:
        """A web server as the Procfile starts it, on a free port (returned)."""
        port = self.ports[name] = free_ports(1, HOST)[0]
        # The Procfile line reads them through the shell.
        os.environ.update({"PORT": str(port), "WEB_HOST": HOST, "WEB_WORKERS": str(workers)})
        service = self.start(name, _procfile()["web"])
        wait_until(
            lambda: accepts_connections(HOST, port),
            what="gunicorn",
            timeout=60,
            service=service,
        )
        return port

    def start_relay(self) -> None:
        self.start("relay", _python(_procfile()["relay"]))

    def start_workers(self, *, per_group: int = 1) -> None:
        # Every worker the Procfile has: an app added later (loyalty) is measured with the rest.
        workers = {
            k.removeprefix("worker-"): v for k, v in _procfile().items() if k.startswith("worker-")
        }
        for group, line in workers.items():
            for n in range(1, per_group + 1):
                # Celery node names must differ: shop@host, shop-2@host, ...
                named = line.replace("@%h", "@%h" if n == 1 else f"-{n}@%h")
                self.start(f"worker-{group}-{n}", named)

    def stop(self, *names: str) -> None:
        """Stop the named processes (all by default) together: each may take seconds to
        finish its batch and leave its consumer group, and they need not take turns."""
        services = [self.processes.pop(n) for n in names or list(self.processes)]
        threads = [threading.Thread(target=s.stop) for s in services]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def stop_workers(self) -> None:
        self.stop(*[n for n in self.processes if n.startswith("worker-")])


def _procfile() -> dict[str, str]:
    return process_types(ROOT / "Procfile")


def _python(command: str) -> str:
    # `python` in the Procfile means the interpreter running the benchmark (the venv's).
    return command.replace("python ", f"{sys.executable} ", 1)
