"""The relay dies after Kafka took a batch and before the rows were marked published.

The first relay is the real one, made to exit at exactly that moment (see
crashing_relay.py); a new relay replaces it and publishes those rows a second time, as
it must, since it cannot know they were sent. Every consumer group meets each of them
twice and handles it once.
"""

import json
from collections import Counter

import pytest

from messagelog.models import MessageRecord
from messaging.models import InboxEntry, OutboxMessage
from messaging.registry import groups
from tests.faults.crashing_relay import CRASH_EXIT_CODE
from tests.faults.stack import python_command

pytestmark = pytest.mark.faults

BACKLOG = 100  # BUYs waiting in the outbox when the relay starts: one batch, all in flight


def test_a_relay_crash_before_marking_rows_published_duplicates_nothing(shop, tmp_path):
    batch_file = tmp_path / "crashed-batch.json"
    crashing = [*python_command("tests.faults.crashing_relay"), "1", str(batch_file)]
    # The relay starts late, so its first batch is a whole backlog of PlaceOrder commands.
    shop.stack.start_all(without=["relay"])
    shop.stream.place(BACKLOG)
    shop.stack.start("relay", crashing)
    shop.wait(lambda: shop.stack.exited("relay"), what="the relay to crash")
    status = shop.stack.kill("relay")  # reaps it
    crashed = json.loads(batch_file.read_text())
    unmarked = OutboxMessage.objects.filter(message_id__in=crashed, published_at=None).count()
    shop.stack.start("relay")  # the replacement: the real relay
    shop.stream.place(200 - BACKLOG)

    exercised = shop.settle()

    copies = Counter(
        str(m)
        for m in MessageRecord.objects.filter(message_id__in=crashed).values_list(
            "message_id", flat=True
        )
    )
    types = dict(
        OutboxMessage.objects.filter(message_id__in=crashed).values_list("message_id", "type")
    )
    expected_duplicates = {
        (name, message_id)
        for message_id, type_ in types.items()
        for name, group in groups().items()
        if type_ in group.handlers
    }
    recognised = set(
        InboxEntry.objects.filter(message_id__in=crashed, duplicates__gte=1).values_list(
            "group", "message_id"
        )
    )
    shop.report(
        "the relay killed between publishing and marking published",
        exercised,
        **{
            "relay exit status": status,
            "rows in the crashed batch (on Kafka, not marked published)": f"{len(crashed)} "
            f"({unmarked} unmarked)",
            "their second copies recognised by the inboxes": len(recognised),
        },
    )
    assert status == CRASH_EXIT_CODE and len(crashed) == BACKLOG and unmarked == BACKLOG
    assert set(copies.values()) == {2} and len(copies) == len(crashed)
    assert recognised == expected_duplicates
    assert exercised.republished == len(crashed), "no other record was published twice"
