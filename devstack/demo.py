"""`python -m devstack demo`: servers, setup steps, then every Procfile process, supervised.

Order of shutdown matters: on Ctrl-C the supervisor (`devstack.supervisor`) stops the
applications (they may be finishing a transaction or committing offsets), and only then do
the servers stop, PostgreSQL last. Until then a process that dies is restarted; a server
that dies stops the demo.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TextIO

from honcho.printer import Message, Printer

from devstack import demo_env
from devstack.processes import (
    DevstackError,
    Service,
    ensure_port_free,
    exclusive,
    stop_leftovers,
)
from devstack.procfile import process_types
from devstack.servers import HOST, embedded_servers
from devstack.supervisor import STOP_SIGNALS, SYSTEM, Supervisor

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "var"
URL_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "KAFKA_BOOTSTRAP_SERVERS")
# Idempotent, so they run on every start: the broker's memory storage starts empty each time.
SETUP_STEPS = (
    ("migrate", "--noinput"),
    ("create_topics",),
    ("seed_catalog",),
    ("seed_stock",),
    ("ensure_demo_admin",),
)
BANNER_WAIT = 120.0
CELERY_WORKER = re.compile(r"\bcelery\b.*\bworker\b")


def run_demo(procfile: Path, data_dir: Path = DATA_DIR, *, setup: bool = True) -> int:
    begun = time.monotonic()
    # A shell starting us in the background may have set SIGINT to "ignore"; the supervisor
    # handles it during the run regardless, so make the setup phase answer Ctrl-C the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    processes = process_types(procfile)
    port = int(os.environ.get("PORT") or 8000)
    with embedded_servers(data_dir) as started:
        # Checked only now: a web server left by a killed demo has just been stopped.
        ensure_port_free(HOST, port, what="the shop's web server", hint="Run with PORT=8001.")
        env = _demo_env(started, port)
        # For manage.py in another shell (devstack.demo_env): what it needs of `env`.
        env_file = demo_env.write(data_dir, {k: env[k] for k in (*URL_VARIABLES, "SHOP_DEMO")})
        try:
            if setup:
                run_setup(env)
            ports = metrics_ports(processes)
            banner = partial(_banner, env, started, data_dir, begun, ports)
            code = run_processes(
                processes,
                env,
                _apps_run_dir(data_dir),
                banner=banner,
                servers=started.services,
                process_env=_metrics_env(ports, data_dir),
            )
        finally:
            env_file.unlink(missing_ok=True)
            # The servers stop next: a second Ctrl-C must not cut that short (and leave one up).
            for sig in STOP_SIGNALS:
                signal.signal(sig, signal.SIG_IGN)
    if code == 0:
        print(f"Everything stopped. The data stays in {data_dir} (`make reset` deletes it).")
    return code


def run_setup(env: Mapping[str, str]) -> None:
    for step in SETUP_STEPS:
        command = ["manage.py", *step]
        print(f"==> python {shlex.join(command)}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, check=False)
        if result.returncode != 0:
            raise DevstackError(
                f"`python {shlex.join(command)}` failed with exit code {result.returncode} "
                "(its output is above); the demo cannot start without it."
            )
        print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


def run_processes(
    processes: Mapping[str, str],
    env: Mapping[str, str],
    run_dir: Path,
    *,
    banner: Callable[[], str],
    servers: Sequence[Service] = (),
    process_env: Mapping[str, Mapping[str, str]] | None = None,
) -> int:
    """Run every process until Ctrl-C or SIGTERM (then 0); a dead server raises DevstackError."""
    printer = DemoPrinter(sys.stdout, commands=processes, banner=banner, port=int(env["PORT"]))
    supervisor = Supervisor(
        processes,
        env=env,
        cwd=ROOT,
        run_dir=run_dir,
        printer=printer,
        servers=servers,
        process_env=process_env,
    )
    try:
        return supervisor.run()  # stops every process before it returns or raises
    finally:
        printer.stopping.set()
        stop_leftovers(run_dir)  # all stopped by now: this only removes their pid files


def reset(data_dir: Path = DATA_DIR) -> int:
    if not data_dir.exists():
        print(f"{data_dir} does not exist: nothing to reset.")
        return 0
    with exclusive(data_dir):  # refuses while a demo runs; stops what a killed one left
        shutil.rmtree(data_dir)
    print(f"Removed {data_dir}.")
    return 0


def print_env(data_dir: Path = DATA_DIR) -> int:
    variables = demo_env.read(data_dir)
    if variables is None:
        print(f"No demo is running from {data_dir} (start one with `make demo`).", file=sys.stderr)
        return 1
    for name, value in variables.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


class DemoPrinter(Printer):
    """honcho's printer, plus the banner once the shop is up.

    It watches the lines go by for the Celery workers' "ready." (a restarted worker is
    waited for again) and starts the banner's thread with the first line written.
    """

    STARTED = re.compile(r"^(?P<name>\S+) started \(pid=\d+\)$")

    def __init__(
        self,
        output: TextIO,
        *,
        commands: Mapping[str, str],
        banner: Callable[[], str],
        port: int,
    ):
        super().__init__(output)
        self.banner = banner
        self.port = port
        self.stopping = threading.Event()
        self.workers = {name for name, command in commands.items() if CELERY_WORKER.search(command)}
        self.ready: set[str] = set()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def write(self, message: Message) -> None:
        with self._lock:
            super().write(message)
        data = message.data  # bytes from the processes, str from the supervisor itself
        text = (data.decode(errors="replace") if isinstance(data, bytes) else str(data)).strip()
        if message.name in self.workers and text.endswith(" ready."):
            self.ready.add(message.name)  # Celery's own line once the worker consumes
        started = self.STARTED.match(text)
        if message.name == SYSTEM and started:
            self.ready.discard(started["name"])
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._print_banner_when_up, daemon=True)
            self._watcher.start()

    def _print_banner_when_up(self) -> None:
        # "Up" means a shopper's BUY will be handled: the web server answers a request (its
        # port opens before its workers have loaded Django), every Celery worker is ready,
        # and every consumer group has read what its topics hold. The last is not implied
        # by the second: a worker says "ready." before its consumers have joined their
        # groups (about 3 s more on Tansu), and until the shop's group has read the stock
        # the seeding announced, every product page says "Checking stock...".
        deadline = time.monotonic() + BANNER_WAIT
        while not self.stopping.wait(0.25):
            if self.workers <= self.ready and answers(self.port) and caught_up(self.port):
                with self._lock:
                    print(self.banner(), file=self.output, flush=True)
                return
            if time.monotonic() > deadline:
                waiting = sorted(self.workers - self.ready) or [
                    "web" if not answers(self.port) else "the consumer groups (/health/ready/)"
                ]
                with self._lock:
                    print(
                        f"Still waiting for {', '.join(waiting)} after {BANNER_WAIT:.0f} s: "
                        "see the lines above.",
                        file=self.output,
                        flush=True,
                    )
                return


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/health/live/", timeout=2) as reply:
            return reply.status == 200
    except OSError:  # refused, reset, timed out, or an HTTP error status
        return False


def caught_up(port: int) -> bool:
    """Whether the shop is ready and no consumer group has records left to read.

    The shop's own readiness check says it: it reports each group's lag, the records on
    its topics past its committed offsets (so a group that has not joined yet lags by all
    of them). The relay needs no group to join, so by the time the workers are ready it
    has published what the setup steps wrote (about 2 s earlier, measured).
    """
    url = f"http://{HOST}:{port}/health/ready/"
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            lag = json.load(reply)["checks"]["kafka"]["detail"]
    except (OSError, ValueError, KeyError, TypeError):  # 503 (not ready) is an OSError too
        return False
    return isinstance(lag, dict) and not any(lag.values())


def _apps_run_dir(data_dir: Path) -> Path:
    return data_dir / "run" / "apps"  # processes.exclusive stops these before the servers


def _demo_env(started: Mapping[str, str], port: int) -> dict[str, str]:
    env = {**os.environ, **started, "SHOP_DEMO": "1", "PYTHONUNBUFFERED": "1", "PORT": str(port)}
    # Every record's dataschema points at this demo's own event API document.
    env.setdefault("EVENT_API_URL", f"http://{HOST}:{port}/api/asyncapi.json")
    # The Procfile says `python` and `celery`: make them this virtualenv's, activated or not.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def metrics_ports(processes: Mapping[str, str]) -> dict[str, int]:
    """A metrics port for the relay and each worker: METRICS_PORT (9101) and up, in
    Procfile order. The web serves its own on /metrics; the scheduler counts nothing."""
    first = int(os.environ.get("METRICS_PORT") or 9101)
    names = [name for name in processes if name == "relay" or name.startswith("worker")]
    return {name: first + i for i, name in enumerate(names)}


def _metrics_env(ports: Mapping[str, int], data_dir: Path) -> dict[str, dict[str, str]]:
    env = {name: {"METRICS_PORT": str(port)} for name, port in ports.items()}
    # gunicorn's processes sum their counters from files here (config.gunicorn empties it).
    env["web"] = {"PROMETHEUS_MULTIPROC_DIR": str(data_dir / "run" / "prometheus")}
    return env


def _banner(
    env: Mapping[str, str],
    started: Mapping[str, str],
    data_dir: Path,
    begun: float,
    metrics: Mapping[str, int] | None = None,
) -> str:
    def origin(variable: str, embedded: str) -> str:
        return embedded if variable in started else f"from ${variable}"

    shop = f"http://{HOST}:{env['PORT']}/"
    rows = [
        ("Shop", shop, ""),
        ("Admin", f"{shop}admin/", "user admin, password admin"),
        ("Sales", f"{shop}sales/", "figures built from the order events"),
        ("REST API", f"{shop}api/docs/", "OpenAPI"),
        ("Event API", f"{shop}api/events/", "every command and event (AsyncAPI)"),
        ("Metrics", f"{shop}metrics", "Prometheus: backlog, lag, heartbeats (from this host)"),
        *(("", f"http://{HOST}:{port}/metrics", name) for name, port in (metrics or {}).items()),
        ("PostgreSQL", env["DATABASE_URL"], origin("DATABASE_URL", "embedded")),
        ("Redis", env["CELERY_BROKER_URL"], origin("CELERY_BROKER_URL", "embedded")),
        ("Kafka", env["KAFKA_BOOTSTRAP_SERVERS"], origin("KAFKA_BOOTSTRAP_SERVERS", "embedded")),
    ]
    width = max(len(url) for _, url, _ in rows)
    lines = [f"  {name:<11} {url:<{width}}  {note}".rstrip() for name, url, note in rows]
    rule = "=" * (max(len(line) for line in lines) + 2)
    if "KAFKA_BOOTSTRAP_SERVERS" in started:
        lines.append("  (the embedded broker keeps topics in memory: they start empty every run)")
    return "\n".join(
        [
            "",
            rule,
            f"  The event-driven shop is up, {time.monotonic() - begun:.1f} s after the start",
            rule,
            *lines,
            "",
            f"  Server logs: {data_dir / 'log'}/",
            *_another_shell(data_dir),
            "  Ctrl-C stops everything.",
            rule,
            "",
        ]
    )


def _another_shell(data_dir: Path) -> list[str]:
    if data_dir == DATA_DIR:
        return [f"  In another shell in {ROOT}, `python manage.py ...` uses this demo."]
    # manage.py reads only its own checkout's var/ (devstack.demo_env): say how to point it.
    return [
        "  For manage.py in another shell:",
        f'    eval "$(.venv/bin/python -m devstack --data-dir {shlex.quote(str(data_dir))} env)"',
    ]
