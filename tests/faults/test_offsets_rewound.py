"""Every record delivered twice: the consumer groups' offsets rewound to the beginning.

An operator resets the groups to the earliest offset (what `kafka-consumer-groups
--reset-offsets --to-earliest` does) while their workers are stopped; the restarted
workers read every record again. Each one is already in the group's inbox: no order is
placed twice, no stock reserved twice, no email sent twice, no sale counted twice.
"""

import signal

import pytest

from messaging.models import InboxEntry
from shop.models import Order
from tests.faults import offsets

pytestmark = pytest.mark.faults

GROUPS = ("shop", "warehouse", "notifications", "sales")


def test_rewound_offsets_redeliver_everything_and_change_nothing(shop):
    shop.stack.start_all()
    shop.stream.place(100)
    shop.wait(
        lambda: Order.objects.filter(status=Order.Status.DISPATCHED).count() >= 50,
        what="half the orders to be dispatched",
    )
    shop.stream.cancel_some(5)  # still packing: the warehouse decides whether it can stop

    # Stopped gracefully, so each group is left without members and accepts the reset.
    stopped = {name: shop.stack.kill(f"worker-{name}", signal.SIGTERM) for name in GROUPS}
    handled_before = {
        name: set(InboxEntry.objects.filter(group=name).values_list("message_id", flat=True))
        for name in GROUPS
    }
    for name in GROUPS:
        offsets.rewind(name)
    assert all(offset == 0 for name in GROUPS for offset in offsets.committed(name).values()), (
        "every group starts again from the first record"
    )
    for name in GROUPS:
        shop.stack.start(f"worker-{name}")
    shop.stream.place(100)

    exercised = shop.settle()

    not_recognised = {
        name: InboxEntry.objects.filter(group=name, message_id__in=ids, duplicates=0).count()
        for name, ids in handled_before.items()
    }
    shop.report(
        "consumer group offsets rewound to the beginning",
        exercised,
        **{
            "groups rewound": ", ".join(GROUPS),
            "messages they had handled before the rewind": sum(map(len, handled_before.values())),
            "customer cancellations requested": shop.stream.cancel_requests,
        },
    )
    assert set(stopped.values()) == {0}
    assert not any(not_recognised.values()), "every earlier message came back as a duplicate"
    assert exercised.duplicates >= sum(map(len, handled_before.values()))
