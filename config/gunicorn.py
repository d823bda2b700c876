"""gunicorn's settings for the web (Procfile: `-c python:config.gunicorn`).

prometheus-client's multiprocess mode: every worker process writes its counters to files
in PROMETHEUS_MULTIPROC_DIR, and `/metrics` (config.metrics) sums them, whichever worker
answers. The directory must start without any earlier run's files, so the master (before it forks
any worker) removes them, or makes a directory when none is configured.
"""

import os
import tempfile
from pathlib import Path


def on_starting(server) -> None:
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        # Only the client's own files: the directory is configured, and may hold others.
        for stale in path.glob("*.db"):
            stale.unlink()
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="shop-metrics-")


def post_fork(server, worker) -> None:
    """In each web process, before it loads Django: no connection health check per request
    (settings.DATABASES), unless the environment asks for one.

    The check is a round trip on every request, to spare the one request per process that
    meets a connection the database dropped (a restart): that request fails, having written
    nothing, and Django closes the broken connection as the request ends, so the next one
    connects afresh. The consumers keep the check: there a failure costs a handler attempt.
    """
    os.environ.setdefault("DATABASE_CONN_HEALTH_CHECKS", "0")


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
