"""Child processes we own: start, wait for readiness, stop, and clean up after a crash.

Every process devstack starts (servers and Procfile processes alike) leads its own session,
so a Ctrl-C in the terminal reaches only the supervisor, which then stops the applications
first and the servers last. Each one also leaves a pid file in the data folder's `run/`
directory; if a supervisor dies without cleaning up (SIGKILL, power cut), the next one stops
those leftovers before starting anything, so a second run always starts from a clean slate.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

STOP_TIMEOUT = 15.0
POLL_INTERVAL = 0.05


class DevstackError(RuntimeError):
    """A problem the person at the keyboard can fix; the message says how."""


@dataclass
class Service:
    """A server or application process started by devstack, in its own session."""

    name: str
    popen: subprocess.Popen[bytes]
    pid_file: Path
    log_path: Path
    stop_signal: signal.Signals = signal.SIGTERM
    url: str = ""  # how clients reach it, once it is ready

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        if self.running():
            signal_group(self.popen.pid, self.stop_signal)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                signal_group(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self.pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    run_dir: Path,
    log_path: Path,
    markers: Sequence[str],
    stop_signal: signal.Signals = signal.SIGTERM,
    user: str | None = None,
    cwd: Path | None = None,
) -> Service:
    """Start `argv` in a new session, output appended to `log_path`, and record its pid.

    `markers` are strings its command line contains; they let a later run tell our
    leftover from an unrelated process that happens to reuse the pid.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd,
            **as_user(user),
        )
    pid_file = record_pid(run_dir, name, popen.pid, markers, stop_signal)
    return Service(name, popen, pid_file, log_path, stop_signal)


def record_pid(
    run_dir: Path, name: str, pid: int, markers: Sequence[str], stop_signal: signal.Signals
) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    pid_file = run_dir / f"{name}.pid"
    record = {"pid": pid, "markers": list(markers), "signal": stop_signal.name}
    pid_file.write_text(json.dumps(record))
    return pid_file


def stop_leftovers(run_dir: Path) -> list[str]:
    """Stop every process a previous supervisor of this folder left running.

    Only call this while holding the folder's lock: then no live supervisor owns them.
    Returns the names of the processes that were stopped.
    """
    stopped = []
    for pid_file in sorted(run_dir.glob("*.pid")):
        with contextlib.suppress(ValueError, KeyError, OSError):
            record = json.loads(pid_file.read_text())
            pid = int(record["pid"])
            if stop_if_running(pid, record["markers"], signal.Signals[record["signal"]]):
                stopped.append(pid_file.stem)
        pid_file.unlink(missing_ok=True)
    return stopped


@contextlib.contextmanager
def exclusive(data_dir: Path) -> Iterator[None]:
    """Hold the data folder for one supervisor at a time, cleaning up a dead one's leftovers.

    A POSIX record lock (lockf) rather than flock: it belongs to this process alone, so the
    processes it starts do not inherit it and it vanishes the moment this process dies,
    however it dies.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = data_dir / "devstack.lock"
    with lock_path.open("a+") as lock:
        try:
            fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            raise DevstackError(
                f"Another devstack supervisor is running from {data_dir} "
                f"(pid {lock_path.read_text().strip() or '?'}). Stop it first (Ctrl-C in its "
                "terminal)."
            ) from None
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        # Applications first (run/apps/), then the servers they were using (run/).
        stop_leftovers(data_dir / "run" / "apps")
        stop_leftovers(data_dir / "run")
        yield


def is_locked(data_dir: Path) -> bool:
    """Whether a supervisor currently holds `data_dir` (for other processes to ask)."""
    lock_path = data_dir / "devstack.lock"
    if not lock_path.exists():
        return False
    with lock_path.open("a+") as lock:
        try:
            fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(lock, fcntl.LOCK_UN)
        return False


def wait_until(
    ready: Callable[[], bool], *, what: str, timeout: float, service: Service | None = None
) -> None:
    """Poll `ready` until it is true; fail fast if `service` dies, and fail at the deadline."""
    deadline = time.monotonic() + timeout
    while not ready():
        if service is not None and not service.running():
            raise DevstackError(
                f"{what} exited with code {service.popen.returncode} while starting. "
                f"Last lines of {service.log_path}:\n{service.log_tail()}"
            )
        if time.monotonic() > deadline:
            tail = f" Last lines of {service.log_path}:\n{service.log_tail()}" if service else ""
            raise DevstackError(f"{what} was not ready after {timeout:.0f} s.{tail}")
        time.sleep(POLL_INTERVAL)


def accepts_connections(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_port_free(host: str, port: int, *, what: str, hint: str) -> None:
    """Fail with a message a person can act on, instead of a server's log line later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # The servers themselves set SO_REUSEADDR, so a port held only by TIME_WAIT is fine.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise DevstackError(
                f"Port {port} on {host} is already in use, so {what} cannot start there. {hint}"
            ) from None


def stop_if_running(pid: int, markers: Sequence[str], sig: signal.Signals) -> bool:
    """Stop the session led by `pid` if it is still the one described by `markers`.

    A group whose leader has exited but whose members live on is still that session: the
    kernel never hands out a pid that is in use as a group id.
    """
    ours = _command_matches(pid, markers) or (not _alive(pid) and group_alive(pid))
    if pid in (os.getpid(), os.getpgid(0)) or not ours:
        return False
    signal_group(pid, sig)
    if not _wait_gone(pid, STOP_TIMEOUT):
        signal_group(pid, signal.SIGKILL)
        _wait_gone(pid, STOP_TIMEOUT)
    return True


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ports nobody listens on right now; all held open together so they differ."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in socks]


def as_user(user: str | None) -> dict[str, object]:
    """Popen arguments that run the child as `user` (None: as ourselves)."""
    if user is None:
        return {}
    import pwd

    entry = pwd.getpwnam(user)
    # Drop root's supplementary groups too, not only the uid.
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the session (process group) that `pid` leads: the program and its children."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        # Not a session leader after all (a server someone else started): signal it alone.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _wait_gone(pid: int, timeout: float) -> bool:
    """Wait until `pid` and every process of its group have exited; False at the deadline.

    The group matters: the leader is often a shell whose child (the real server, holding
    the port) exits a moment later.
    """
    deadline = time.monotonic() + timeout
    while _alive(pid) or group_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_INTERVAL)
    return True


def group_alive(pgid: int) -> bool:
    """Whether a live process (not a zombie) is still in the process group `pgid`."""
    if pgid <= 0:
        return False  # 0 is the kernel's own threads' group, never one of ours
    if not Path("/proc/self").exists():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    # Scan /proc rather than killpg(pgid, 0), which counts zombies nobody has reaped yet.
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
            if int(pgrp) == pgid and state != "Z":
                return True
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); in containers whose init never reaps, it stays one.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _command_matches(pid: int, markers: Sequence[str]) -> bool:
    command = _command_line(pid)
    return command is not None and all(marker in command for marker in markers)


def _command_line(pid: int) -> str | None:
    if Path("/proc/self").exists():
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return raw.replace(b"\0", b" ").decode(errors="replace")
    # No /proc (macOS): ask ps, which prints nothing for a pid that does not exist.
    result = subprocess.run(
        ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None
