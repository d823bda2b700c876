"""`python manage.py ...` in a second shell beside `make demo`: no venv, no exported variables.

Each test runs manage.py as a person would in a fresh terminal (tests.devstack.shell), in a
checkout whose `var/` a running demo holds: a demo on stand-in processes whose URLs are
those of the test session's real servers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import demo_env
from devstack.processes import free_ports
from tests.devstack.running import Demo
from tests.devstack.shell import manage

URL_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "KAFKA_BOOTSTRAP_SERVERS")
# What the shell -c below prints last: the database it reached, on which port, and DEBUG.
WHERE = (
    "from django.conf import settings; from django.db import connection; "
    "cursor = connection.cursor(); cursor.execute('SELECT current_database()'); "
    "print(cursor.fetchone()[0], connection.settings_dict['PORT'], settings.DEBUG)"
)


@pytest.fixture
def demo(checkout: Path, tmp_path: Path) -> Iterator[Demo]:
    [port] = free_ports(1)
    urls = {name: os.environ[name] for name in URL_VARIABLES}
    running = Demo(tmp_path / "demo", port, env=urls, data_dir=checkout / "var")
    running.wait_for_banner()
    yield running
    running.stop()


def test_manage_py_uses_the_running_demo(checkout: Path, demo: Demo) -> None:
    checked = manage(checkout, "check")
    assert checked.returncode == 0, checked.stderr
    assert "System check identified no issues" in checked.stdout

    where = manage(checkout, "shell", "-c", WHERE)
    assert where.returncode == 0, where.stderr
    port = os.environ["DATABASE_URL"].rsplit(":", 1)[1].split("/")[0]
    assert where.stdout.splitlines()[-1].split() == ["shop", port, "True"]


def test_a_database_url_already_set_is_kept_and_the_file_ignored(
    checkout: Path, demo: Demo
) -> None:
    elsewhere = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"

    where = manage(
        checkout, "shell", "-c", WHERE, DATABASE_URL=elsewhere, DJANGO_SECRET_KEY="k" * 50
    )

    assert where.returncode == 0, where.stderr
    # Its own database, and none of the demo's relaxations (SHOP_DEMO turns DEBUG on).
    assert where.stdout.splitlines()[-1].split()[::2] == ["postgres", "False"]


def test_without_a_running_demo_nothing_is_loaded(checkout: Path) -> None:
    # The file a demo killed by SIGKILL leaves behind: no supervisor holds var/ any more.
    demo_env.write(checkout / "var", {"SHOP_DEMO": "1"})

    checked = manage(checkout, "check")

    assert checked.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in checked.stderr
