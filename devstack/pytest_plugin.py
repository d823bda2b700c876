"""Real servers for a test session: embedded PostgreSQL, Redis and Tansu.

Loaded with `-p devstack.pytest_plugin` (pyproject.toml), before pytest-django reads the
settings, so the settings see the servers' URLs. A variable already set in the
environment is respected: `DATABASE_URL=... pytest` runs against that server instead.
"""

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

from devstack.servers import start_for_tests

VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "KAFKA_BOOTSTRAP_SERVERS")
_session: dict = {}


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    # The settings refuse to run without a secret key when DEBUG is off, as in production;
    # one key for the session, shared by the worker and relay subprocesses of e2e tests.
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    # Otherwise production settings: the live servers of the tests speak plain http, and
    # static files come from the source folders (no collectstatic before a test run).
    for name in ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_SECURE_COOKIES", "DJANGO_STATIC_MANIFEST"):
        os.environ.setdefault(name, "0")
    if all(os.environ.get(name) for name in VARIABLES) or _session:
        return
    base_dir = Path(tempfile.mkdtemp(prefix="shop-tests-"))
    env, stop = start_for_tests(base_dir)
    for name, value in env.items():
        os.environ.setdefault(name, value)
    _session.update(stop=stop, base_dir=base_dir)


def pytest_unconfigure(config) -> None:
    if _session:
        _session.pop("stop")()
        shutil.rmtree(_session.pop("base_dir"), ignore_errors=True)


def pytest_report_header(config) -> list[str]:
    origin = "embedded, started for this session" if _session else "from the environment"
    return [f"servers ({origin}): " + ", ".join(os.environ.get(v, "?") for v in VARIABLES)]
