"""Rebuilding the projections with `replay_events --rebuild` while orders keep coming.

The sales projection (its own group) and the shop's availability projection (inside the
group that also places orders) are emptied and rebuilt from the topics while a stream of
orders, with cancellations, runs through every process. Live handling of their events
waits behind the rebuild's fence and follows it; at the end the figures are those the
orders imply, and the availability the shop shows is the warehouse's stock.
"""

import subprocess
import sys

import pytest

from shop.models import Availability
from tests.faults.stack import ROOT
from warehouse.models import Stock

pytestmark = pytest.mark.faults


def test_rebuilding_sales_and_availability_while_orders_flow_loses_and_doubles_nothing(shop):
    shop.stack.start_all()
    shop.stream.place(60)
    shop.wait(lambda: shop.handled("sales") >= 20, what="sales to be counting")

    rebuilt = {}
    for projection in ("sales", "availability"):
        shop.stream.place(40)  # in flight while the rebuild runs
        shop.stream.cancel_some(8)
        rebuilt[projection] = rebuild(shop, projection)
    shop.stream.place(30)
    exercised = shop.settle()

    stock = {s.sku: s.available for s in Stock.objects.all()}
    shown = dict(Availability.objects.values_list("sku", "available"))
    waited = sum(
        shop.stack.log(name).count("waits for the rebuild of")
        for name in ("worker-sales", "worker-shop")
    )
    shop.report(
        "sales and availability rebuilt while orders flow",
        exercised,
        **{
            "records each rebuild read": {
                p: r.split(" records read")[0] for p, r in rebuilt.items()
            },
            "live handlings that waited for a rebuild": waited,
        },
    )
    assert shown == stock


def rebuild(shop, projection: str) -> str:
    """`replay_events --projection <projection> --rebuild`, as an operator runs it."""
    done = subprocess.run(
        [sys.executable, "manage.py", "replay_events", "--projection", projection, "--rebuild"],
        cwd=ROOT,
        env=shop.stack.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split("\n", 1)[1]
