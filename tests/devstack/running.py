"""A `python -m devstack demo` subprocess on a Procfile of stand-ins, for the devstack tests.

Every URL is configured (to servers that do not exist, unless a test passes real ones), so no
embedded server starts: these tests are about the processes and the supervisor, not the shop.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from devstack.processes import wait_until

ROOT = Path(__file__).resolve().parents[2]
BANNER = "The event-driven shop is up"
# The stand-in worker says what a Celery worker says once it consumes, a second late: the
# banner must wait for it, as it waits for the web server to answer /health/live/.
WORKER = (
    "import os, time; time.sleep(1); "
    "print('metrics on', os.environ.get('METRICS_PORT')); print('celery worker x@vm ready.'); "
    "time.sleep(600)"
)
READY = '{"status": "ok", "checks": {"kafka": {"ok": true, "detail": {"standin": 0}}}}'
PROCFILE = f"""\
web: python -m http.server $PORT --bind 127.0.0.1 --directory {{site}}
worker-standin: python -c "{WORKER}"
sleeper: python -c "import time; time.sleep(600)"
"""


class Demo:
    def __init__(
        self,
        tmp_path: Path,
        port: int,
        attempt: int = 1,
        procfile: str = PROCFILE,
        *,
        env: Mapping[str, str] | None = None,
        setup: bool = False,
        data_dir: Path | None = None,
    ):
        self.data_dir = data_dir or tmp_path / "var"
        self.port = port
        self.site = site = tmp_path / "site"
        (site / "health" / "live").mkdir(parents=True, exist_ok=True)
        (site / "health" / "live" / "index.html").write_text("ok")
        # What the shop's readiness check says once every consumer group has caught up.
        (site / "health" / "ready").mkdir(parents=True, exist_ok=True)
        (site / "health" / "ready" / "index.html").write_text(READY)
        procfile_path = tmp_path / "Procfile"
        procfile_path.write_text(procfile.replace("{site}", str(site)))
        self.log = tmp_path / f"demo-{attempt}.log"
        env = {
            **os.environ,
            "PORT": str(port),
            "DATABASE_URL": "postgresql://configured/shop",
            "CELERY_BROKER_URL": "redis://configured/0",
            "KAFKA_BOOTSTRAP_SERVERS": "configured:9092",
            **(env or {}),
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
                    str(procfile_path),
                    *([] if setup else ["--skip-setup"]),
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, pattern: str, *, count: int = 1, timeout: float = 60) -> list[str]:
        """Wait until the output holds `count` lines matching `pattern`; return them all."""

        def lines() -> list[str]:
            return [line for line in self.output().splitlines() if re.search(pattern, line)]

        wait_until(
            lambda: len(lines()) >= count or self.popen.poll() is not None,
            what=f"{count} line(s) matching {pattern!r}",
            timeout=timeout,
        )
        assert len(lines()) >= count, self.output()
        return lines()

    def wait_for_banner(self, timeout: float = 60) -> None:
        self.wait_for(BANNER, timeout=timeout)

    def app_pids(self) -> dict[str, int]:
        pid_files = (self.data_dir / "run" / "apps").glob("*.pid")
        return {path.stem: json.loads(path.read_text())["pid"] for path in pid_files}

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
        return self.popen.wait(timeout=60)


def devstack(data_dir: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devstack", "--data-dir", str(data_dir), command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # a zombie answers kill(0) until it is reaped
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")
