"""gunicorn's settings for the web (Procfile: `-c python:config.gunicorn`).

prometheus-client's multiprocess mode: every worker process writes its counters to files
in PROMETHEUS_MULTIPROC_DIR, and `/metrics` (config.metrics) sums them, whichever worker
answers. The directory must start empty, so the master (before it forks any worker)
empties it, or makes one when none is configured.
"""

import os
import shutil
import tempfile
from pathlib import Path


def on_starting(server) -> None:
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        path = Path(configured)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="shop-metrics-")


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
