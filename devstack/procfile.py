"""Running one Procfile process type by name: how containers start the shop's processes.

`python -m devstack run worker-warehouse` execs exactly the Procfile's line for that type,
so `make demo` (every type, under `devstack.supervisor`) and docker-compose.yml (one type
per service) cannot drift apart: the Procfile is the only list of commands.
"""

from __future__ import annotations

import os
from pathlib import Path

from honcho.environ import parse_procfile

from devstack.processes import DevstackError

PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"


def process_types(path: Path = PROCFILE) -> dict[str, str]:
    try:
        processes = dict(parse_procfile(path.read_text()).processes)
    except FileNotFoundError:
        raise DevstackError(f"No Procfile at {path}.") from None
    if not processes:
        raise DevstackError(f"{path} lists no processes.")
    return processes


def exec_process(name: str, path: Path = PROCFILE) -> None:
    """Replace this process with the shell running `name`'s command (signals go straight to it)."""
    processes = process_types(path)
    if name not in processes:
        raise DevstackError(f"No process type {name!r} in {path} (known: {', '.join(processes)}).")
    os.chdir(path.parent)
    os.execvp("/bin/sh", ["/bin/sh", "-c", f"exec {processes[name]}"])
