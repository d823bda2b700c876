"""The running demo's environment, in a file, so `python manage.py` works in another shell.

`make demo` writes the variables its processes get (the servers' URLs and SHOP_DEMO) to
`var/run/env.json` and deletes the file when it stops; manage.py reads it from the `var/`
next to itself. Production never reads one, by construction rather than by configuration:

- only the `var/` of manage.py's own checkout is read: no variable or working directory
  can point anywhere else;
- only while a devstack supervisor holds that folder: a file a killed demo left is inert,
  and containers run no supervisor (nor have `var/`: .dockerignore leaves it out);
- never over the environment: a shell that sets one of the variables to another value is
  configured for other servers, and the file is ignored as a whole, so the demo's
  relaxations (SHOP_DEMO turns DEBUG on) never meet another database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from devstack.processes import is_locked


def env_file(data_dir: Path) -> Path:
    return data_dir / "run" / "env.json"


def write(data_dir: Path, variables: Mapping[str, str]) -> Path:
    """Write the file readable by its owner only: a configured URL may carry a password.

    Written aside and renamed into place, so a reader never sees half of it.
    """
    path = env_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".new")
    scratch.unlink(missing_ok=True)
    with os.fdopen(os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        json.dump(dict(variables), out)
    scratch.replace(path)
    return path


def read(data_dir: Path) -> dict[str, str] | None:
    """The running demo's variables; None unless a supervisor holds `data_dir` now."""
    path = env_file(data_dir)
    # The file first: the lock is probed (and so briefly taken when free) only beside a demo.
    if not path.exists() or not is_locked(data_dir):
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # removed meanwhile (the demo stopped) or being replaced
        return None


def load(data_dir: Path, environ: MutableMapping[str, str] = os.environ) -> bool:
    """Add the running demo's variables to `environ`, unless it is configured otherwise.

    Returns whether they were added.
    """
    variables = read(data_dir)
    if not variables:
        return False
    if any(environ.get(name) not in (None, "", value) for name, value in variables.items()):
        return False
    for name, value in variables.items():
        if not environ.get(name):
            environ[name] = value
    return True
