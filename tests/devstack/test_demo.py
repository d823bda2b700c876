"""The supervisor behind `make demo`: banner, Ctrl-C, and a clean start after a crash.

The Procfile here is a stand-in (a static web server and a sleeper), and every URL is
configured, so no embedded server starts: this is about the processes, not the shop.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.processes import accepts_connections, free_ports, wait_until
from devstack.servers import HOST

ROOT = Path(__file__).resolve().parents[2]
BANNER = "The event-driven shop is up"
# The stand-in worker says what a Celery worker says once it consumes, a second late: the
# banner must wait for it, as it waits for the web server to answer /health/live/.
WORKER = "import time; time.sleep(1); print('celery worker x@vm ready.'); time.sleep(600)"
PROCFILE = f"""\
web: python -m http.server $PORT --bind 127.0.0.1 --directory {{site}}
worker-standin: python -c "{WORKER}"
sleeper: python -c "import time; time.sleep(600)"
"""


class Demo:
    def __init__(self, tmp_path: Path, port: int, attempt: int = 1):
        self.data_dir = tmp_path / "var"
        self.port = port
        site = tmp_path / "site"
        (site / "health" / "live").mkdir(parents=True, exist_ok=True)
        (site / "health" / "live" / "index.html").write_text("ok")
        procfile = tmp_path / "Procfile"
        procfile.write_text(PROCFILE.format(site=site))
        self.log = tmp_path / f"demo-{attempt}.log"
        env = {
            **os.environ,
            "PORT": str(port),
            "DATABASE_URL": "postgresql://configured/shop",
            "CELERY_BROKER_URL": "redis://configured/0",
            "KAFKA_BOOTSTRAP_SERVERS": "configured:9092",
        }
        with self.log.open("w") as log:
            # Its own session, like a terminal's foreground job: killpg stands for Ctrl-C.
            self.popen = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "devstack",
                    "--data-dir",
                    str(self.data_dir),
                    "demo",
                    "--procfile",
                    str(procfile),
                    "--skip-setup",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_for_banner(self) -> None:
        wait_until(
            lambda: BANNER in self.output() or self.popen.poll() is not None,
            what="the demo's banner",
            timeout=60,
        )
        assert BANNER in self.output(), self.output()

    def app_pids(self) -> list[int]:
        pid_files = (self.data_dir / "run" / "apps").glob("*.pid")
        return [json.loads(path.read_text())["pid"] for path in pid_files]

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
        return self.popen.wait(timeout=60)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    [port] = free_ports(1)
    running = Demo(tmp_path, port)
    yield running
    running.stop()


def test_banner_then_ctrl_c_stops_every_process(demo: Demo) -> None:
    demo.wait_for_banner()
    assert f"http://{HOST}:{demo.port}/admin/" in demo.output()
    assert re.search(
        r"PostgreSQL +postgresql://configured/shop +from \$DATABASE_URL", demo.output()
    )
    assert demo.output().index("x@vm ready.") < demo.output().index(BANNER)
    pids = demo.app_pids()
    assert len(pids) == 3
    assert all(_alive(pid) for pid in pids)
    env = _devstack(demo.data_dir, "env")
    assert "export DATABASE_URL=postgresql://configured/shop" in env.stdout

    assert demo.stop(signal.SIGINT) == 0  # stopped as asked: success, so make says nothing
    assert "Everything stopped. The data stays in" in demo.output()
    assert not any(_alive(pid) for pid in pids)
    assert not accepts_connections(HOST, demo.port)
    assert not list((demo.data_dir / "run").rglob("*.pid"))
    assert _devstack(demo.data_dir, "env").returncode == 1


def test_reset_is_refused_while_a_demo_runs(demo: Demo) -> None:
    demo.wait_for_banner()
    refused = _devstack(demo.data_dir, "reset")
    assert refused.returncode == 1
    assert "Another devstack supervisor" in refused.stderr
    demo.stop()
    assert _devstack(demo.data_dir, "reset").returncode == 0
    assert not demo.data_dir.exists()


def test_the_next_start_stops_what_a_killed_demo_left(demo: Demo, tmp_path: Path) -> None:
    demo.wait_for_banner()
    orphans = demo.app_pids()
    os.kill(demo.popen.pid, signal.SIGKILL)  # the supervisor alone: its processes live on
    demo.popen.wait(timeout=30)
    assert all(_alive(pid) for pid in orphans)
    assert accepts_connections(HOST, demo.port)

    again = Demo(tmp_path, demo.port, attempt=2)
    try:
        again.wait_for_banner()
        assert not any(_alive(pid) for pid in orphans)
    finally:
        assert again.stop() == 0


def _devstack(data_dir: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devstack", "--data-dir", str(data_dir), command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # a zombie answers kill(0) until it is reaped
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")
