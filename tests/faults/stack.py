"""The shop's processes for one fault test: started from the Procfile, killed, replaced.

Each process runs its Procfile line, as `make demo` and docker compose do, so what fails
here is what runs in production: the relay, one Celery worker per consumer group and the
scheduler, whose safety nets (lost shipping and delivery tasks, lost retries) are part of
recovering from a killed worker.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devstack.procfile import process_types

ROOT = Path(__file__).resolve().parents[2]
# Every type but the web server (the tests buy through Django's test client).
PROCESS_TYPES = tuple(name for name in process_types() if name != "web")
# Every process names itself to PostgreSQL, so a test can find its connections.
APPLICATION_NAME_PREFIX = "faults-"


class Stack:
    def __init__(self, base_dir: Path, env: dict[str, str]) -> None:
        self.base_dir = base_dir
        self.env = env
        self.lines = process_types()
        # The scheduler's state file goes to the test's folder, not the demo's var/.
        self.lines["scheduler"] += f" --schedule {base_dir / 'celerybeat-schedule'}"
        self.running: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, list[Path]] = {}

    def start(self, name: str, command: list[str] | None = None) -> subprocess.Popen:
        """Start `name` (its Procfile line unless `command` is given); a restart gets a new log."""
        generation = len(self.logs.setdefault(name, [])) + 1
        log_path = self.base_dir / f"{name}.{generation}.log"
        self.logs[name].append(log_path)
        argv = command or ["/bin/sh", "-c", f"exec {self.lines[name]}"]
        env = self.env | {"PGAPPNAME": f"{APPLICATION_NAME_PREFIX}{name}"}
        with log_path.open("wb") as log:
            # Its own session: a signal meant for it never reaches the test run, and back.
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running[name] = process
        return process

    def start_all(self, *, without=(), instead: dict[str, list[str]] | None = None) -> None:
        """Every process type but those `without`; `instead` runs another command for some."""
        for name in PROCESS_TYPES:
            if name not in without:
                self.start(name, (instead or {}).get(name))

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> int:
        """Send `sig` and wait for the process to end; returns its exit status."""
        process = self.running.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        return process.wait(timeout=30)

    def exited(self, name: str) -> bool:
        """Whether a process expected to end by itself has (`kill` then reaps it)."""
        return self.running[name].poll() is not None

    def stop_all(self) -> None:
        for process in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.running.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.running.clear()

    def log(self, name: str) -> str:
        """Everything every generation of `name` wrote."""
        return "".join(p.read_text(errors="replace") for p in self.logs.get(name, []))

    def tails(self, lines: int = 15) -> str:
        return "\n".join(
            f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            for paths in self.logs.values()
            for path in paths
        )


def python_command(module: str) -> list[str]:
    """Run one of this suite's own modules in a child, like a Procfile line would."""
    return [sys.executable, "-m", module]
