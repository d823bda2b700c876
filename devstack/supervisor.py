"""The Procfile's processes under one supervisor: restarted when they die, stopped in order.

A process that exits on its own (a crash, SIGKILL, the OOM killer) is started again after a
backoff that doubles while it keeps dying (1, 2, 4 ... capped at 30 s) and starts over from
1 s once it has stayed up for a minute; the others run on untouched, and the log says so:

    worker-warehouse exited (killed by SIGKILL); restarting in 1 s (restart 1)

Ctrl-C (SIGINT) or SIGTERM stops them all: SIGTERM to each process's session, SIGKILL to
what is left after `stop_timeout`, and no restart from then on, not even one that was
pending. An embedded server that dies is not restarted: the supervisor stops every process
and says which server died (see `Supervisor.run`).

Why our own rather than a library:
- honcho's Manager, which ran the demo before, has no restart policy by design (like
  foreman, it stops everything when one process exits), and its loop is a single method
  over private state that forks a Python helper per process; restarting from a subclass
  would mean rewriting that loop. honcho stays for what it does well: reading the Procfile
  (`devstack.procfile`) and printing foreman's coloured `time name | line` format.
- supervisord and circus restart processes, but each is a daemon of its own, configured by
  files, with its own logs and control channel (XML-RPC, ZeroMQ), and neither backs off
  exponentially: supervisord restarts a process that had started at once and gives up on
  one that keeps failing to start (FATAL), circus gives up after `max_retry` tries. Running
  one under the demo would replace 200 lines with a second supervisor to supervise.

Each process leads its own session (see `devstack.processes`), its command exec'd by
/bin/sh so the pid we hold is the program itself, the pid a person finds with `ps` (as in
containers, where `python -m devstack run` execs the same line). Its pid file is rewritten
at every start, so a later run stops what a killed supervisor left, restarted ones included.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import queue
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from honcho.colour import get_colours
from honcho.printer import Message, Printer

from devstack.processes import (
    POLL_INTERVAL,
    DevstackError,
    Service,
    group_alive,
    record_pid,
    signal_group,
)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_TIMEOUT = 10.0  # then SIGKILL: a Celery worker finishes its running tasks well within it
TICK = 0.1  # how often exits, deadlines and signals are looked at
SYSTEM = "system"  # the name on the supervisor's own lines, as honcho has it


@dataclass(frozen=True)
class Backoff:
    """How long to wait before restarting a process that died `streak` times in a row."""

    first: float = 1.0
    cap: float = 30.0
    stable_after: float = 60.0  # up this long, a process's next death counts as its first

    def delay(self, streak: int) -> float:
        return min(self.cap, self.first * 2 ** (streak - 1))


@dataclass
class Child:
    """One process type of the Procfile, across its restarts."""

    name: str
    command: str
    colour: str
    popen: subprocess.Popen[bytes] | None = None  # the running process, if any
    last_pid: int = 0  # the latest process's pid, which is also its session's group id
    started_at: float = 0.0
    restarts: int = 0  # in all, for the log
    streak: int = 0  # deaths without a stable run in between, for the backoff
    restart_at: float | None = None  # a pending restart (monotonic time)
    reader: threading.Thread | None = field(default=None, repr=False)

    @property
    def markers(self) -> list[str]:
        # The words the shell leaves alone identify the process later (see record_pid).
        return [word for word in shlex.split(self.command) if "$" not in word]


class Supervisor:
    def __init__(
        self,
        processes: Mapping[str, str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        run_dir: Path,
        printer: Printer,
        servers: Iterable[Service] = (),
        backoff: Backoff = Backoff(),
        stop_timeout: float = STOP_TIMEOUT,
        process_env: Mapping[str, Mapping[str, str]] | None = None,
    ):
        colours = get_colours()
        self.children = {
            name: Child(name, command, next(colours)) for name, command in processes.items()
        }
        self.env = dict(env)
        # Variables of one process type only (the demo's metrics ports).
        self.process_env = dict(process_env or {})
        self.cwd = cwd
        self.run_dir = run_dir
        self.printer = printer
        self.printer.width = max(len(name) for name in [SYSTEM, *processes])
        self.servers = list(servers)
        self.backoff = backoff
        self.stop_timeout = stop_timeout
        self._lines: queue.Queue[Message] = queue.Queue()
        self._asked: signal.Signals | None = None

    def run(self) -> int:
        """Run until SIGINT or SIGTERM (then 0), or until a server dies (DevstackError).

        A dead server is not restarted under the running applications. Tansu keeps topics and
        committed offsets in memory, so a new one would lack the topics `create_topics` made
        while every consumer went on against it; a new Redis would have forgotten Celery's
        queue (parked retries, packing timers); and PostgreSQL dying (disk full, the OOM
        killer) is worth seeing rather than papering over. A fresh `make demo` runs the setup
        steps again, in order, and keeps the data.
        """
        previous = {sig: signal.signal(sig, self._ask_to_stop) for sig in STOP_SIGNALS}
        try:
            for child in self.children.values():
                self._start(child)
            dead_server = None
            while self._asked is None and dead_server is None:
                self._print_lines(timeout=TICK)
                dead_server = next((s for s in self.servers if not s.running()), None)
                for child in self.children.values():
                    self._reap(child)
                    if self._restart_due(child) and self._asked is None and dead_server is None:
                        self._end_session(child)
                        self._start(child)
            if dead_server is not None:
                how = describe_exit(dead_server.popen.returncode)
                self._say(
                    f"{dead_server.name} exited ({how}): the demo does not restart its "
                    "servers, so it stops every process"
                )
                self._stop_all()
                raise DevstackError(
                    f"The embedded {dead_server.name} server exited ({how}), so the demo "
                    "stopped every process: it does not restart servers under them. "
                    f"Last lines of {dead_server.log_path}:\n{dead_server.log_tail()}\n"
                    "`make demo` starts everything again; the data is kept."
                )
            assert self._asked is not None
            self._say(f"{self._asked.name} received")
            self._stop_all()
            return 0
        except BaseException:
            self._stop_all()  # SIGHUP (as KeyboardInterrupt), a broken terminal, a bug
            raise
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _ask_to_stop(self, signum: int, frame: object) -> None:
        # Only a flag: the loop does the work, so a signal never lands mid-print or mid-start.
        self._asked = self._asked or signal.Signals(signum)

    def _start(self, child: Child) -> None:
        child.restart_at = None
        popen = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {child.command}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.cwd,
            env=self.env | dict(self.process_env.get(child.name, {})),
        )
        child.popen, child.last_pid, child.started_at = popen, popen.pid, time.monotonic()
        record_pid(self.run_dir, child.name, popen.pid, child.markers, signal.SIGTERM)
        assert popen.stdout is not None
        child.reader = threading.Thread(
            target=self._read, args=(child, popen.stdout), name=f"read {child.name}", daemon=True
        )
        child.reader.start()
        self._say(f"{child.name} started (pid={popen.pid})")

    def _read(self, child: Child, stdout: IO[bytes]) -> None:
        # Until every process of the session has closed its output, not only the leader.
        with stdout:
            for line in iter(stdout.readline, b""):
                self._lines.put(Message("line", line, _now(), child.name, child.colour))

    def _reap(self, child: Child) -> None:
        """Notice that `child`'s process exited on its own, and schedule its restart."""
        if child.popen is None or child.popen.poll() is None:
            return
        how = describe_exit(child.popen.returncode)
        child.popen = None
        self._flush(child)
        # Whatever it left in its session (gunicorn's workers) is asked to go now and
        # killed at the restart, so a new one finds its port and its queue free.
        _signal_session(child.last_pid, signal.SIGTERM)
        if time.monotonic() - child.started_at >= self.backoff.stable_after:
            child.streak = 0
        child.streak += 1
        child.restarts += 1
        delay = self.backoff.delay(child.streak)
        child.restart_at = time.monotonic() + delay
        self._say(
            f"{child.name} exited ({how}); restarting in {delay:g} s (restart {child.restarts})"
        )

    def _restart_due(self, child: Child) -> bool:
        return child.restart_at is not None and time.monotonic() >= child.restart_at

    def _stop_all(self) -> None:
        """SIGTERM every process's session, SIGKILL what is left at the deadline; no restarts."""
        for child in self.children.values():
            if child.restart_at is not None:
                self._say(f"{child.name} will not be restarted: everything is stopping")
                child.restart_at = None
            if child.popen is not None and child.popen.poll() is None:
                self._say(f"sending SIGTERM to {child.name} (pid {child.popen.pid})")
                signal_group(child.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        killed = False
        while True:
            for child in self.children.values():
                if child.popen is not None and child.popen.poll() is not None:
                    how = describe_exit(child.popen.returncode)
                    child.popen = None
                    self._flush(child)
                    self._say(f"{child.name} stopped ({how})")
            # Done when every session is empty, not only every leader: gunicorn's workers
            # finish their requests after the master has gone.
            left = [
                child
                for child in self.children.values()
                if child.popen is not None or group_alive(child.last_pid)
            ]
            if not left or (killed and time.monotonic() > deadline + self.stop_timeout):
                break
            if time.monotonic() > deadline and not killed:
                for child in left:
                    self._say(f"sending SIGKILL to {child.name} (pid {child.last_pid})")
                    _signal_session(child.last_pid, signal.SIGKILL)
                killed = True
            self._print_lines(timeout=TICK)
        self._print_lines(timeout=0)

    def _end_session(self, child: Child) -> None:
        """Kill what a dead process left in its session, so its restart finds ports free."""
        if not group_alive(child.last_pid):
            return
        self._say(f"sending SIGKILL to what {child.name} (pid {child.last_pid}) left running")
        _signal_session(child.last_pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while group_alive(child.last_pid) and time.monotonic() < deadline:
            time.sleep(POLL_INTERVAL)

    def _flush(self, child: Child) -> None:
        """Print what a process wrote before it exited, ahead of the line saying it did."""
        if child.reader is not None:
            child.reader.join(timeout=0.5)  # its session may live on, holding the pipe open
        self._print_lines(timeout=0)

    def _print_lines(self, *, timeout: float) -> None:
        try:
            message = self._lines.get(timeout=timeout) if timeout else self._lines.get_nowait()
            while True:
                self.printer.write(message)
                message = self._lines.get_nowait()
        except queue.Empty:
            return

    def _say(self, text: str) -> None:
        self.printer.write(Message("line", f"{text}\n", _now(), SYSTEM, None))


def describe_exit(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def _signal_session(pgid: int, sig: signal.Signals) -> None:
    # The group alone, never the pid: the leader has been reaped and its pid may be reused,
    # while a group id stays reserved as long as a member lives.
    if pgid <= 0:
        return  # never started; killpg(0) would signal our own group
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _now() -> datetime.datetime:
    return datetime.datetime.now()
