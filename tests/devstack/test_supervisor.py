"""The demo's supervisor: a process that dies is restarted with a growing backoff, the others
run on, Ctrl-C or SIGTERM stops everything and restarts nothing, and a dead server stops it all.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from honcho.printer import Printer

from devstack.processes import DevstackError, free_ports, spawn
from devstack.supervisor import Backoff, Supervisor
from tests.devstack.running import PROCFILE, Demo, alive

CRASHER = "crasher: python -c 'import sys; sys.exit(3)'\n"


def test_a_killed_process_is_restarted_and_the_others_keep_their_pids(tmp_path: Path) -> None:
    demo = Demo(tmp_path, *free_ports(1))
    try:
        demo.wait_for_banner()
        before = demo.app_pids()
        killed_at = time.monotonic()
        os.kill(before["worker-standin"], signal.SIGKILL)

        [line] = demo.wait_for(r"worker-standin exited")
        assert line.endswith(
            "worker-standin exited (killed by SIGKILL); restarting in 1 s (restart 1)"
        )
        demo.wait_for(r"worker-standin \| celery worker x@vm ready\.", count=2)
        after = demo.app_pids()
        assert time.monotonic() - killed_at >= 1  # the backoff was waited out
        assert after["worker-standin"] != before["worker-standin"]  # its pid file follows it
        assert alive(after["worker-standin"])
        assert {name: after[name] for name in ("web", "sleeper")} == {
            name: before[name] for name in ("web", "sleeper")
        }
        assert alive(before["web"]) and alive(before["sleeper"])
        assert demo.stop() == 0
        assert not any(alive(pid) for pid in after.values())
    finally:
        demo.stop()


def test_the_backoff_doubles_for_a_process_that_keeps_exiting(tmp_path: Path) -> None:
    demo = Demo(tmp_path, *free_ports(1), procfile=PROCFILE + CRASHER)
    try:
        lines = demo.wait_for(r"crasher exited", count=3)
        assert [line.split("| ", 1)[1] for line in lines[:3]] == [
            "crasher exited (exit code 3); restarting in 1 s (restart 1)",
            "crasher exited (exit code 3); restarting in 2 s (restart 2)",
            "crasher exited (exit code 3); restarting in 4 s (restart 3)",
        ]
        pids = demo.app_pids()
        assert alive(pids["web"]) and alive(pids["sleeper"])
        assert demo.output().count("sleeper started") == 1
    finally:
        demo.stop()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_during_a_backoff_stops_everything_and_restarts_nothing(
    tmp_path: Path, sig: signal.Signals
) -> None:
    demo = Demo(tmp_path, *free_ports(1), procfile=PROCFILE + CRASHER)
    try:
        demo.wait_for_banner()
        os.kill(demo.app_pids()["sleeper"], signal.SIGKILL)
        demo.wait_for(r"sleeper started", count=2)
        pids = demo.app_pids()
        demo.wait_for(r"crasher exited .*restarting in 2 s")  # a restart is now pending

        assert demo.stop(sig) == 0
        output = demo.output()
        after = output[output.index(f"{sig.name} received") :]
        assert "restarting" not in after
        assert " started (pid=" not in after
        assert "Everything stopped." in after
        assert not any(alive(pid) for pid in pids.values())
        assert not list((demo.data_dir / "run").rglob("*.pid"))
    finally:
        demo.stop()


def test_a_dead_server_stops_every_process_and_says_which(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    server = spawn(
        "redis",
        ["sleep", "600"],
        run_dir=run_dir,
        log_path=tmp_path / "redis.log",
        markers=["sleep"],
    )
    output = io.StringIO()
    supervisor = Supervisor(
        {"app": "sleep 600"},
        env=os.environ,
        cwd=tmp_path,
        run_dir=run_dir / "apps",
        printer=Printer(output),
        servers=[server],
    )
    threading.Timer(1.0, server.popen.kill).start()
    try:
        with pytest.raises(DevstackError, match=r"redis server exited \(killed by SIGKILL\)"):
            supervisor.run()
    finally:
        server.stop()
    assert "restarting" not in output.getvalue()
    assert "app stopped" in output.getvalue()
    assert not alive(supervisor.children["app"].last_pid)


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(first=1, cap=30)
    assert [backoff.delay(streak) for streak in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_process_ignoring_sigterm_is_killed_at_the_deadline(tmp_path: Path) -> None:
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('up', flush=True); time.sleep(600)"
    )
    output = io.StringIO()
    supervisor = Supervisor(
        {"stubborn": f'python -c "{stubborn}"'},
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
        cwd=tmp_path,
        run_dir=tmp_path / "run",
        printer=Printer(output),
        stop_timeout=1,
    )
    threading.Thread(
        target=lambda: _signal_when(lambda: "| up" in output.getvalue(), signal.SIGTERM),
        daemon=True,
    ).start()
    assert supervisor.run() == 0
    assert "sending SIGKILL to stubborn" in output.getvalue()
    assert "stubborn stopped (killed by SIGKILL)" in output.getvalue()


def _signal_when(condition: Callable[[], bool], sig: signal.Signals) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if condition():
            os.kill(os.getpid(), sig)  # the supervisor's handler is installed by now
            return
        time.sleep(0.05)
