"""The supervisor behind `make demo`: banner, Ctrl-C, and a clean start after a crash.

The Procfile here is a stand-in (a static web server and a sleeper), and every URL is
configured, so no embedded server starts: this is about the processes, not the shop.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.processes import accepts_connections, free_ports
from devstack.servers import HOST
from tests.devstack.running import BANNER, Demo, alive, devstack


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    [port] = free_ports(1)
    running = Demo(tmp_path, port)
    yield running
    running.stop()


def test_banner_then_ctrl_c_stops_every_process(demo: Demo) -> None:
    demo.wait_for_banner()
    assert f"http://{HOST}:{demo.port}/admin/" in demo.output()
    assert f"http://{HOST}:{demo.port}/api/events/" in demo.output()
    assert re.search(
        r"PostgreSQL +postgresql://configured/shop +from \$DATABASE_URL", demo.output()
    )
    assert demo.output().index("x@vm ready.") < demo.output().index(BANNER)
    # Where each process serves its metrics, and the worker was told its port.
    assert f"http://{HOST}:{demo.port}/metrics" in demo.output()
    worker = re.search(rf"http://{HOST}:(\d+)/metrics +worker-standin", demo.output())
    assert worker and f"metrics on {worker[1]}" in demo.output()
    pids = list(demo.app_pids().values())
    assert len(pids) == 3
    assert all(alive(pid) for pid in pids)
    env = devstack(demo.data_dir, "env")
    assert "export DATABASE_URL=postgresql://configured/shop" in env.stdout

    assert demo.stop(signal.SIGINT) == 0  # stopped as asked: success, so make says nothing
    assert "Everything stopped. The data stays in" in demo.output()
    assert not any(alive(pid) for pid in pids)
    assert not accepts_connections(HOST, demo.port)
    assert not list((demo.data_dir / "run").rglob("*.pid"))
    assert devstack(demo.data_dir, "env").returncode == 1


def test_reset_is_refused_while_a_demo_runs(demo: Demo) -> None:
    demo.wait_for_banner()
    refused = devstack(demo.data_dir, "reset")
    assert refused.returncode == 1
    assert "Another devstack supervisor" in refused.stderr
    demo.stop()
    assert devstack(demo.data_dir, "reset").returncode == 0
    assert not demo.data_dir.exists()


def test_the_next_start_stops_what_a_killed_demo_left(demo: Demo, tmp_path: Path) -> None:
    demo.wait_for_banner()
    orphans = list(demo.app_pids().values())
    os.kill(demo.popen.pid, signal.SIGKILL)  # the supervisor alone: its processes live on
    demo.popen.wait(timeout=30)
    assert all(alive(pid) for pid in orphans)
    assert accepts_connections(HOST, demo.port)

    again = Demo(tmp_path, demo.port, attempt=2)
    try:
        again.wait_for_banner()
        assert not any(alive(pid) for pid in orphans)
    finally:
        assert again.stop() == 0


def test_the_banner_waits_until_every_consumer_group_has_caught_up(demo: Demo) -> None:
    ready = demo.site / "health" / "ready" / "index.html"
    ready.write_text('{"status": "ok", "checks": {"kafka": {"ok": true, "detail": {"shop": 14}}}}')
    demo.wait_for(r"x@vm ready\.")
    time.sleep(2)  # eight looks at /health/ready/, each answering that the shop's group lags
    assert BANNER not in demo.output()

    ready.write_text('{"status": "ok", "checks": {"kafka": {"ok": true, "detail": {"shop": 0}}}}')
    demo.wait_for_banner(timeout=10)
