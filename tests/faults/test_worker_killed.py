"""A Celery worker SIGKILLed mid-stream and replaced by a new process.

A SIGKILL loses what the worker held only in memory: records it handled but whose offsets
it had not committed yet, and the countdown tasks it had taken from Redis (the parcels it
was packing). The first come back to the replacement and are recognised by the inbox; the
second are found by the scheduler's safety net. The warehouse is killed twice, once for
each loss, at a moment when it certainly holds some. A poll's records commit in one
transaction and their offsets a few milliseconds later, so the first kill comes when the
worker, stopped (SIGSTOP) and looked at, is caught between the two.
"""

import os
import random
import signal
import time

import pytest

from messaging.models import InboxEntry
from shop.models import Order
from tests.faults import offsets
from warehouse.models import Reservation

pytestmark = pytest.mark.faults

WORKER = "worker-warehouse"


def test_a_worker_killed_mid_stream_loses_nothing_and_does_nothing_twice(shop):
    # The warehouse starts late, so it meets a backlog and reads it in large batches.
    shop.stack.start_all(without=[WORKER])
    shop.stream.place(100)
    shop.wait(lambda: Order.objects.count() == 100, what="the shop to place the first orders")
    shop.stack.start(WORKER)
    shop.wait(lambda: shop.handled("warehouse") >= 20, what="the warehouse to be handling")

    first_kill, handled_at_kill, committed_at_kill = kill_holding_uncommitted(shop)
    shop.stack.start(WORKER)

    shop.stream.place(50)
    shop.wait(
        lambda: Reservation.objects.filter(status=Reservation.Status.PACKING).count() >= 3,
        what="parcels being packed",
    )
    second_kill = shop.stack.kill(WORKER, signal.SIGKILL)
    packing_at_kill = set(
        Reservation.objects.filter(status=Reservation.Status.PACKING).values_list(
            "order_id", flat=True
        )
    )
    shop.stack.start(WORKER)
    shop.stream.place(50)

    exercised = shop.settle()

    redelivered = offsets.uncommitted(handled_at_kill, committed_at_kill)
    recognised = InboxEntry.objects.filter(
        group="warehouse", message_id__in=redelivered, duplicates__gte=1
    ).count()
    late = [
        r
        for r in Reservation.objects.filter(order_id__in=packing_at_kill)
        if (r.updated_at - r.ship_after).total_seconds() > 4
    ]
    shop.report(
        "a Celery worker SIGKILLed and replaced",
        exercised,
        **{
            "kills (exit status)": f"{first_kill}, {second_kill}",
            "handled but uncommitted at the first kill": len(redelivered),
            "of those, recognised as duplicates by the replacement": recognised,
            "parcels packing at the second kill": len(packing_at_kill),
            "of those, shipped late by the scheduler's safety net": len(late),
        },
    )
    assert first_kill == second_kill == -signal.SIGKILL
    assert redelivered and recognised == len(redelivered)
    assert packing_at_kill and all(
        r.status == Reservation.Status.DISPATCHED
        for r in Reservation.objects.filter(order_id__in=packing_at_kill)
    )


def kill_holding_uncommitted(shop, *, tries: int = 600):
    """SIGKILL the warehouse's worker while it holds records handled and not committed.

    It is stopped at random moments and looked at: the inbox against the committed offsets.
    Returns the exit status, what it had handled, and its committed offsets.
    """
    process = shop.stack.running[WORKER]
    for _ in range(tries):
        os.killpg(process.pid, signal.SIGSTOP)
        handled = set(
            InboxEntry.objects.filter(group="warehouse").values_list("message_id", flat=True)
        )
        committed = offsets.committed("warehouse")
        if offsets.uncommitted(handled, committed):
            return shop.stack.kill(WORKER, signal.SIGKILL), handled, committed
        os.killpg(process.pid, signal.SIGCONT)
        time.sleep(random.uniform(0, 0.03))
    pytest.fail(f"the warehouse never held uncommitted records in {tries} looks")
