"""What every embedded server module shares: where they listen, and how they start safely."""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path

from devstack.processes import DevstackError, Service

# Loopback only: the embedded servers trust every client (PostgreSQL runs with trust auth).
HOST = "127.0.0.1"


def package_path(package: str, *parts: str) -> Path:
    """A file shipped inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DevstackError(f"The {package} package is not installed: run `make venv`.")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


@contextlib.contextmanager
def stop_on_error(service: Service) -> Iterator[None]:
    """Stop a server that failed to become ready: the caller gets no handle to stop it."""
    try:
        yield
    except BaseException:
        service.stop()
        raise
