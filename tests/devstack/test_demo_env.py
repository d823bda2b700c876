"""The running demo's environment file: private, read only beside a running demo, and never
mixed into an environment configured for other servers."""

from __future__ import annotations

import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import demo_env

ROOT = Path(__file__).resolve().parents[2]
DEMO = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5490/shop",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6390/0",
    "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
    "SHOP_DEMO": "1",
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def supervisor(data_dir: Path) -> Iterator[None]:
    """Another process holding the folder, as `make demo` does (a lock is per process)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from devstack.processes import exclusive\n"
            "with exclusive(Path(sys.argv[1])):\n"
            "    print('held', flush=True); sys.stdin.read()",
            str(data_dir),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "held\n"
    yield
    holder.communicate(timeout=30)


def test_the_file_is_readable_by_its_owner_only(data_dir: Path) -> None:
    path = demo_env.write(data_dir, DEMO)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(path.parent.glob("*.new"))


def test_it_is_read_while_a_supervisor_holds_the_folder(data_dir: Path, supervisor) -> None:
    demo_env.write(data_dir, DEMO)

    assert demo_env.read(data_dir) == DEMO


def test_a_file_a_killed_demo_left_is_ignored(data_dir: Path) -> None:
    demo_env.write(data_dir, DEMO)

    assert demo_env.read(data_dir) is None
    environ: dict[str, str] = {}
    assert not demo_env.load(data_dir, environ)
    assert environ == {}


def test_it_adds_what_the_environment_lacks(data_dir: Path, supervisor) -> None:
    demo_env.write(data_dir, DEMO)
    # Already the demo's value, or empty ("unset" to devstack too): no conflict.
    environ = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092", "SHOP_DEMO": "", "HOME": "/root"}

    assert demo_env.load(data_dir, environ)
    assert environ == {**DEMO, "HOME": "/root"}


def test_an_environment_configured_for_other_servers_is_left_as_it_is(
    data_dir: Path, supervisor
) -> None:
    demo_env.write(data_dir, DEMO)
    environ = {"DATABASE_URL": "postgresql://shop@db.internal/shop"}

    assert not demo_env.load(data_dir, environ)
    # Nothing at all: SHOP_DEMO would turn DEBUG on against that other database.
    assert environ == {"DATABASE_URL": "postgresql://shop@db.internal/shop"}
