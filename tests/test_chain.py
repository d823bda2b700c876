"""The command chain of benchmarks/chain (scenario 7): its wire format, its loyalty patch,
and the CPU accounting that puts it beside ours. The chain itself runs end to end in
tests/test_bench_quick.py."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import cputime
from benchmarks.chain import commands, loyalty

ROOT = Path(__file__).resolve().parent.parent


def test_a_command_travels_as_its_handler_reads_it():
    sent = commands.SendEmail(
        order_id="6f1c5d9e-0000-4000-8000-000000000001",
        kind="dispatched",
        to="ada@example.com",
        subject="On its way",
        body="Hello Ada",
        then_record_sale={"placed_at": "2026-12-01T06:00:00+00:00", "lines": []},
    )
    topic, key, value, headers = commands.encode(sent)

    assert (topic, key) == ("chain.notifications", sent.order_id.encode())
    assert dict(headers)["ce_type"] == b"SendEmail"
    assert commands.decode(value, headers) == sent


def test_the_loyalty_patch_applies_to_the_chain_as_it_is():
    result = subprocess.run(
        ["git", "apply", "--check", str(loyalty.PATCH)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_chain_counts_what_its_patch_changes_in_the_code_that_was_there():
    counted = loyalty.chain()

    assert "benchmarks/chain/points.py" not in counted["files"]  # new: loyalty's own code
    assert counted["files"]["benchmarks/chain/services.py"] > 0  # the warehouse tells loyalty
    assert counted["senders"]["files"] == 1
    assert counted["outside"]["lines"] == sum(counted["files"].values())
    assert counted["all"]["lines"] > counted["outside"]["lines"]


def test_ours_is_counted_from_the_commit_that_added_loyalty_once_there_is_one():
    counted = loyalty.ours()
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "loyalty/apps.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    if not added:
        assert counted is None
        return
    assert counted["commit"] == added[-1][:12]
    assert not any(path.startswith("loyalty/") for path in counted["files"])


# A child of the test whose own child leaves for a session of its own (as PostgreSQL's
# backends do), waits for a file, burns 0.4 s of CPU, says so, then sleeps.
CHILD = """
import os, pathlib, sys, time
os.setsid()
go, done = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
start = time.process_time()
while time.process_time() - start < 0.4:
    pass
done.write_text(str(os.getpid()))
time.sleep(30)
"""
LEADER = "import subprocess, sys; subprocess.run([sys.executable, '-c', *sys.argv[1:]])"


def test_cpu_is_counted_per_process_type_with_every_descendant(tmp_path):
    go, done = tmp_path / "go", tmp_path / "done"
    leader = subprocess.Popen(
        [sys.executable, "-c", LEADER, CHILD, str(go), str(done)], start_new_session=True
    )
    try:
        time.sleep(0.5)  # both interpreters started
        before = cputime.snapshot({leader.pid: "busy"})
        go.touch()
        deadline = time.monotonic() + 30
        while not (done.exists() and done.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        used = cputime.delta(before, cputime.snapshot({leader.pid: "busy"}))
    finally:
        if done.exists() and done.read_text():
            os.kill(int(done.read_text()), signal.SIGKILL)
        os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()

    assert 0.35 <= used["busy"] < 1.5
    assert used["harness"] < 0.35  # this process only waited
