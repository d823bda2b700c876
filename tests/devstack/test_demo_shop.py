"""`make demo` on the real Procfile, against servers of its own: what a person sees.

At the banner every product page shows its stock (the shop's projection of the warehouse's
StockLevelChanged, which the seeding announced), and the README's `python manage.py ...`
commands work as printed in a second shell (tests.devstack.shell).
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.processes import free_ports
from devstack.procfile import PROCFILE
from devstack.servers import HOST, start_for_tests
from tests.devstack.running import Demo
from tests.devstack.shell import make_checkout, manage

pytestmark = pytest.mark.e2e

# The scheduler keeps its schedule under this checkout's var/ (a relative path, from the
# processes' working directory), where a real demo may run; nothing here needs it.
PROCESSES = "".join(
    f"{line}\n" for line in PROCFILE.read_text().splitlines() if not line.startswith("scheduler:")
)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkout(tmp_path_factory.mktemp("shop") / "checkout")


@pytest.fixture(scope="module")
def shop(checkout: Path) -> Iterator[Demo]:
    """One demo for the module: starting the whole shop takes about 15 s."""
    urls, stop = start_for_tests(checkout.parent / "servers")
    try:
        [port] = free_ports(1)
        demo = Demo(
            checkout.parent / "demo",
            port,
            procfile=PROCESSES,
            env=urls,
            setup=True,
            data_dir=checkout / "var",
        )
        try:
            demo.wait_for_banner(timeout=240)
            yield demo
        finally:
            demo.stop()
    finally:
        stop()


def page(demo: Demo, path: str) -> str:
    with urllib.request.urlopen(f"http://{HOST}:{demo.port}{path}", timeout=10) as reply:
        return reply.read().decode()


def test_every_product_shows_its_stock_at_the_banner(shop: Demo) -> None:
    slugs = sorted(set(re.findall(r'href="/products/([\w-]+)/"', page(shop, "/"))))
    assert len(slugs) == 14

    checking = [slug for slug in slugs if "Checking stock" in page(shop, f"/products/{slug}/")]

    assert checking == []


def test_the_readmes_replay_command_works_in_a_second_shell(checkout: Path, shop: Demo) -> None:
    replayed = manage(
        checkout, "replay_events", "--group", "notifications", "--topic", "orders", "--dry-run"
    )

    assert replayed.returncode == 0, replayed.stderr
    assert "Replaying orders into notifications (dry run)" in replayed.stdout
