"""A second shell beside the demo, as a person opens one: a fresh terminal in the checkout.

That is a Python without Django (no virtualenv activated) and an environment without the
demo's variables, in a checkout whose `var/` is not this one's, where a real demo may run:
a copy of manage.py (it finds var/ beside itself) with links to this checkout's packages
and .venv, and nothing else that a test could write through a link.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def make_checkout(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copy2(ROOT / "manage.py", root / "manage.py")
    for entry in ROOT.iterdir():
        if entry.name == ".venv" or (entry / "__init__.py").exists():
            (root / entry.name).symlink_to(entry)
    return root


def manage(checkout: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python manage.py <args>` from `checkout`, with only PATH, HOME and `env` set."""
    shell = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/"), **env}
    return subprocess.run(
        [bare_python(), "manage.py", *args],
        cwd=checkout,
        env=shell,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def bare_python() -> str:
    """A Python without Django: the system's, or the one this virtualenv was made from."""
    for candidate in ("/usr/bin/python3", str(Path(sys.base_prefix) / "bin" / "python3")):
        if (
            Path(candidate).exists()
            and subprocess.run([candidate, "-c", "import django"], capture_output=True).returncode
        ):
            return candidate
    pytest.skip("no Python without Django on this machine")
