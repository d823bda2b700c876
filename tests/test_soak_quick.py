"""`make soak` still works: its quick mode places a few hundred orders with retention set to
seconds, purges as it goes, and finds every order handled once (from each group's effects).

No time is asserted (the machine is shared), and neither is the boundedness of the tables
(a minute is too short to tell a bound from growth); the full soak reports both.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_soak_handles_every_order_once_while_purging(tmp_path):
    # The soak starts servers of its own; it must not see the test session's.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", "--quick", "--output", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    output = result.stdout[-3000:] + result.stderr[-3000:]
    assert (tmp_path / "soak.json").exists(), output
    data = json.loads((tmp_path / "soak.json").read_text())
    checks = {k: v for k, v in data["checks"].items() if k != "table counts bounded"}
    assert all(checks.values()), checks
    assert result.returncode == 0 or not data["checks"]["table counts bounded"], output
    assert data["orders"] == 300
    for table in ("outbox", "inbox", "message log"):
        assert data["purge"]["deleted"][table] > 0, table
    assert (tmp_path / "soak.md").exists()
