"""What adding loyalty changes in each design, counted from real diffs.

Ours: the commit that added `loyalty/apps.py`, read from git: every file it changed that
existed before (its new files, `loyalty/` and loyalty's tests, are the new code), and the
Python among them in the four apps (shop, warehouse, notifications, sales). The chain:
`loyalty.patch` beside this module, the change the chain needs for loyalty (a test
applies it to the chain's code): every file it changes that existed before, and those
among them that are another service's code. Lines are added plus removed, as
`git diff --numstat` counts them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PATCH = Path(__file__).with_name("loyalty.patch")
APPS = ("shop/", "warehouse/", "notifications/", "sales/")
# The chain's code that belongs to a service other than loyalty (the senders).
CHAIN_SERVICES = ("benchmarks/chain/buy.py", "benchmarks/chain/services.py")


def count() -> dict:
    return {"ours": ours(), "chain": chain()}


def ours() -> dict | None:
    """None until the commit that adds loyalty exists (or outside a git checkout)."""
    try:
        added = _git("log", "--diff-filter=A", "--format=%H", "--", "loyalty/apps.py").split()
    except (OSError, subprocess.CalledProcessError):
        return None
    if not added:
        return None
    commit = added[-1]  # the first to add it, should it have been added again later
    new = set(_git("show", "--diff-filter=A", "--name-only", "--format=", commit).split())
    files = []
    for line in _git("show", "--numstat", "--format=", commit).splitlines():
        plus, minus, path = line.split("\t", 2)
        lines = 0 if plus == "-" else int(plus) + int(minus)  # "-": a binary file
        files.append((path, lines))
    outside = [(p, n) for p, n in files if p not in new]
    apps = [(p, n) for p, n in outside if p.startswith(APPS) and p.endswith(".py")]
    return {
        "commit": commit[:12],
        "subject": _git("show", "-s", "--format=%s", commit).strip()[:120],
        "all": _tally(files),
        "outside": _tally(outside),
        "senders": _tally(apps),
        "files": dict(outside),
    }


def chain() -> dict:
    files: dict[str, int] = {}
    new: set[str] = set()
    path = None
    for line in PATCH.read_text().splitlines():
        if line.startswith("diff --git "):
            path = line.split(" b/", 1)[1]
            files[path] = 0
        elif line.startswith("new file mode"):
            new.add(path)
        elif line.startswith(("+++", "---")):
            continue
        elif line.startswith(("+", "-")) and path is not None:
            files[path] += 1
    outside = [(p, n) for p, n in files.items() if p not in new]
    senders = [(p, n) for p, n in outside if p in CHAIN_SERVICES]
    return {
        "patch": str(PATCH.relative_to(ROOT)),
        "all": _tally(list(files.items())),
        "outside": _tally(outside),
        "senders": _tally(senders),
        "files": dict(outside),
    }


def _tally(files: list[tuple[str, int]]) -> dict[str, int]:
    return {"files": len(files), "lines": sum(n for _, n in files)}


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
