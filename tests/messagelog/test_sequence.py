"""The sequence diagram's geometry: lifelines, and one arrow per message from its sender."""

import uuid
from datetime import timedelta

from django.utils import timezone

from messagelog.conversation import ORIGIN, build_conversation
from messagelog.outcomes import MessageTraces, Status
from messagelog.sequence import LANE, LEFT, ROW, TOP, sequence_diagram
from messaging.models import HandlingFailure
from tests.messagelog.records import handled, logged

CORRELATION = uuid.uuid4()
T0 = timezone.now()


def message(message_type, ms, cause=None):
    return logged(
        message_type,
        correlation_id=CORRELATION,
        cause=cause,
        at=T0 + timedelta(milliseconds=ms),
        save=False,
    )


def diagram(records, entries=()):
    inbox = {}
    for entry in entries:
        inbox.setdefault(entry.message_id, []).append(entry)
    traces = MessageTraces(inbox=inbox, dead_letters={}, failures={})
    return sequence_diagram(build_conversation(CORRELATION, records, [], traces).steps)


def lanes(d) -> dict[str, int]:
    return {lane.name: lane.x for lane in d.lifelines}


def test_one_lifeline_per_app_after_where_requests_come_from():
    d = diagram([message("shop.PlaceOrder", 0)])

    assert [lane.name for lane in d.lifelines] == [
        ORIGIN,
        "shop",
        "warehouse",
        "notifications",
        "sales",
        "loyalty",
    ]
    assert [lane.x for lane in d.lifelines] == [LEFT + LANE // 2 + i * LANE for i in range(6)]


def test_without_a_request_from_outside_there_is_no_web_lifeline():
    d = diagram([message("warehouse.StockLevelChanged", 0)])

    assert ORIGIN not in lanes(d)


def test_a_command_goes_from_its_sender_to_its_owner_with_the_owners_outcome():
    place = message("shop.PlaceOrder", 0)
    placed = message("shop.OrderPlaced", 10, cause=place)
    reserved = message("warehouse.StockReserved", 20, cause=placed)
    dispatch = message("warehouse.DispatchOrder", 30, cause=reserved)
    entries = [
        handled(place, "shop", save=False),
        handled(reserved, "shop", took=timedelta(milliseconds=50), save=False),
    ]

    d = diagram([place, placed, reserved, dispatch], entries)
    x = lanes(d)
    first, last = d.arrows[0], d.arrows[-1]

    assert (first.kind, first.x, [(t.group, t.x, t.status) for t in first.tips]) == (
        "command",
        x[ORIGIN],
        [("shop", x["shop"], Status.HANDLED)],
    )
    assert (last.x, [(t.group, t.status) for t in last.tips]) == (
        x["shop"],
        [("warehouse", Status.PENDING)],
    )
    assert last.rightward and last.label_anchor == "start"


def test_an_event_goes_from_its_owner_to_every_group_that_follows_it():
    place = message("shop.PlaceOrder", 0)
    placed = message("shop.OrderPlaced", 10, cause=place)
    entries = [handled(placed, g, save=False) for g in ("warehouse", "sales")]

    arrow = diagram([place, placed], entries).arrows[1]

    assert arrow.kind == "event" and arrow.x == lanes(diagram([place]))["shop"]
    assert [(t.group, t.status, t.failed) for t in arrow.tips] == [
        ("warehouse", Status.HANDLED, False),
        ("notifications", Status.PENDING, False),
        ("sales", Status.HANDLED, False),
        ("loyalty", Status.PENDING, False),
    ]


def test_an_event_going_left_is_labelled_on_its_left():
    placed = message("shop.OrderPlaced", 0)
    reserved = message("warehouse.StockReserved", 10, cause=placed)

    arrow = diagram([placed, reserved]).arrows[1]

    assert not arrow.rightward and arrow.label_anchor == "end"
    assert arrow.label_x < arrow.x


def test_an_event_nobody_follows_has_no_tips():
    arrow = diagram([message("notifications.EmailSent", 0)]).arrows[0]

    assert arrow.tips == () and arrow.lines == () and arrow.loops == ()


def test_rows_go_down_in_causal_order_and_the_drawing_fits_them():
    records = [message("notifications.TextSent", i) for i in range(4)]

    d = diagram(records)

    assert [a.y for a in d.arrows] == [TOP + i * ROW + ROW // 2 for i in range(4)]
    assert d.height > d.arrows[-1].y and d.width > max(lane.x for lane in d.lifelines)


def test_a_message_its_own_app_handles_loops_back_to_its_lifeline():
    placed = message("shop.OrderPlaced", 0)

    arrow = diagram([placed], [handled(placed, "shop", save=False)]).arrows[0]

    assert [t.group for t in arrow.loops] == ["shop"]
    assert "shop" not in [t.group for t in arrow.lines]


def test_a_group_that_succeeded_after_failing_is_marked_as_retried():
    place = message("shop.PlaceOrder", 0)
    failure = HandlingFailure(
        group="shop",
        message_id=place.message_id,
        attempt=1,
        error="boom",
        started_at=place.time,
        failed_at=place.time,
    )
    inbox = {place.message_id: [handled(place, "shop", save=False)]}
    traces = MessageTraces(inbox=inbox, dead_letters={}, failures={place.message_id: [failure]})
    steps = build_conversation(CORRELATION, [place], [], traces).steps

    [tip] = sequence_diagram(steps).arrows[0].tips

    assert (tip.status, tip.failures, tip.retried, tip.failed) == (Status.HANDLED, 1, True, False)


def test_lines_to_nearer_groups_are_drawn_last_so_they_stay_visible():
    place = message("shop.PlaceOrder", 0)
    placed = message("shop.OrderPlaced", 10, cause=place)

    arrow = diagram([place, placed]).arrows[1]

    assert [t.group for t in arrow.lines] == ["loyalty", "sales", "notifications", "warehouse"]
