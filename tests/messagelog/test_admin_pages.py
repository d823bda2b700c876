"""The message log's admin pages: who may see them, that nobody may edit, what they show."""

import re
import uuid

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messagelog.models import MessageRecord
from messaging.models import DeadLetter
from tests.messagelog.records import (
    dead_lettered,
    failed,
    handled,
    logged,
    long_conversation,
    staff,
)

pytestmark = pytest.mark.django_db

LOG = reverse("admin:messagelog_messagerecord_changelist")
FIND = reverse("admin:messagelog_conversationspage_changelist")
OPERATIONS = reverse("admin:messagelog_operationspage_changelist")


def conversation_url(correlation_id) -> str:
    return reverse("admin:messagelog_conversation", args=[correlation_id])


@pytest.fixture
def operator(client):
    client.force_login(staff())
    return client


@pytest.fixture
def order():
    """An order whose dispatch the warehouse could not handle: it was dead-lettered."""
    correlation_id = uuid.uuid4()
    place = logged("shop.PlaceOrder", correlation_id=correlation_id)
    handled(place, "shop")
    placed = logged("shop.OrderPlaced", correlation_id=correlation_id, cause=place)
    for group in ("warehouse", "notifications", "sales"):
        handled(placed, group)
    reserved = logged("warehouse.StockReserved", correlation_id=correlation_id, cause=placed)
    handled(reserved, "shop")
    dispatch = logged("warehouse.DispatchOrder", correlation_id=correlation_id, cause=reserved)
    for attempt in (1, 2, 3):
        failed(dispatch, "warehouse", attempt, "RuntimeError: carrier API down")
    dead_lettered(dispatch, "warehouse")
    return correlation_id


PAGES = [LOG, FIND, OPERATIONS]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_conversation_page_is_not_for_customers(client, order):
    client.force_login(User.objects.create_user("shopper", password="pw"))

    response = client.get(conversation_url(order))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("url", [*PAGES, "conversation"])
def test_staff_without_the_log_permission_are_refused(client, order, url):
    client.force_login(staff("intern", can_read_log=False))

    response = client.get(conversation_url(order) if url == "conversation" else url)

    assert response.status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "messagelog_messagerecord",
        "messaging_inboxentry",
        "messaging_deadletter",
        "messaging_outboxmessage",
        "messaging_handlingfailure",
    ],
)
def test_nobody_may_add_change_or_delete_the_log(admin_client, order, name):
    record = {
        "messagelog_messagerecord": MessageRecord,
        "messaging_deadletter": DeadLetter,
    }.get(name)
    assert admin_client.get(reverse(f"admin:{name}_add")).status_code == 403
    if record is not None:
        pk = record.objects.first().pk
        change = admin_client.post(reverse(f"admin:{name}_change", args=[pk]), {"key": "x"})
        delete = admin_client.post(reverse(f"admin:{name}_delete", args=[pk]), {"post": "yes"})
        assert change.status_code == 403 and delete.status_code == 403
        assert record.objects.filter(pk=pk).exists()


def test_the_log_lists_kind_type_app_conversation_and_every_groups_outcome(operator, order):
    response = operator.get(LOG)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="mlog-badge mlog-command"' in page and 'class="mlog-badge mlog-event"' in page
    assert "DispatchOrder" in page and "to warehouse" in page and "from shop" in page
    assert conversation_url(order) in page
    assert re.search(r'mlog-chip mlog-dead_lettered"[^>]*>✕ warehouse', page)
    assert re.search(r'mlog-chip mlog-handled"[^>]*>✓ sales', page)


def test_a_record_shows_headers_payload_coordinates_and_the_error(operator, order):
    record = MessageRecord.objects.get(type="warehouse.DispatchOrder")

    response = operator.get(reverse("admin:messagelog_messagerecord_change", args=[record.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert conversation_url(order) in page
    assert "ce_specversion" in page and "&quot;order_id&quot;" in page
    assert f"{record.offset}" in page and "warehouse.commands" in page
    assert (
        "dead-lettered: handler kept failing" in page and "RuntimeError: carrier API down" in page
    )


def test_a_record_shows_the_version_its_data_was_written_as(operator, order):
    record = MessageRecord.objects.get(type="warehouse.DispatchOrder")
    url = reverse("admin:messagelog_messagerecord_change", args=[record.pk])
    schema = (
        "http://127.0.0.1:8000/api/asyncapi.json#/components/schemas/warehouse.DispatchOrder.v2"
    )

    before_versions = operator.get(url).content.decode()
    record.headers["ce_dataschema"] = schema
    record.save()
    versioned = operator.get(url).content.decode()

    assert "written before versions" in before_versions
    assert '<a href="/api/events/#warehouse.DispatchOrder">2</a>' in versioned
    assert schema in versioned


def test_the_log_costs_the_same_queries_for_a_page_of_5_or_of_50(operator):
    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert operator.get(LOG).status_code == 200
        return len(captured)

    long_conversation(5)
    few = queries_for_page()
    long_conversation(45)

    assert queries_for_page() == few


def test_the_log_is_called_the_message_log_and_counts_messages(operator):
    long_conversation(3)

    index = operator.get(reverse("admin:index")).content.decode()
    page = operator.get(LOG).content.decode()

    assert f'href="{LOG}">Message log</a>' in index
    assert re.search(r"\b3\s+messages\b", page)


def test_the_log_never_counts_the_whole_table(operator):
    long_conversation(30)

    with CaptureQueriesContext(connection) as captured:
        operator.get(LOG)
        operator.get(LOG + "?kind=event&type=shop.OrderPlaced")
        # The date filter's own parameters: an aware midnight, as the admin writes it.
        operator.get(LOG, {"outcome": "pending", "time__gte": "2020-01-01 00:00:00+00:00"})

    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert counts, "the list shows how many messages match"
    for sql in counts:
        assert " LIMIT " in sql, f"unbounded count: {sql}"


@pytest.mark.parametrize("size", [20, 200])
def test_a_conversation_page_takes_the_same_few_queries_at_any_length(
    operator, django_assert_num_queries, size
):
    correlation_id = long_conversation(size)

    # The session, the user and their two permission sets; then the conversation: the log,
    # the outbox, the inbox, dead letters and failures.
    with django_assert_num_queries(10):
        response = operator.get(conversation_url(correlation_id))

    assert response.status_code == 200
    assert response.content.decode().count('class="mlog-step ') == size


def test_pasting_an_order_id_opens_its_conversation(operator, order):
    key = MessageRecord.objects.filter(correlation_id=order).first().key

    response = operator.get(FIND, {"q": key})

    assert response.status_code == 302 and response["Location"] == conversation_url(order)


def test_an_email_with_several_orders_lists_their_conversations(client):
    mine = [long_conversation(7) for _ in range(2)]
    MessageRecord.objects.filter(correlation_id__in=mine, type="shop.OrderPlaced").update(
        payload={"customer": {"email": "grace@example.com"}}
    )
    # Finding someone by email is for who may see personal data (test_personal_data.py).
    client.force_login(staff(sees_personal_data=True))

    page = client.get(FIND, {"q": "grace@example.com"}).content.decode()

    assert "2 conversations match" in page
    assert all(conversation_url(c) in page for c in mine)


def test_without_a_term_the_latest_conversations_are_listed(operator, order):
    page = operator.get(FIND).content.decode()

    assert "Latest conversations" in page and conversation_url(order) in page


def test_a_conversation_page_shows_sequence_tree_steps_and_what_failed(operator, order):
    response = operator.get(conversation_url(order))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in page and 'marker-end="url(#head-command-dead_lettered)"' in page
    assert 'class="mlog-tree"' in page
    assert page.count('class="mlog-step ') == 4
    assert "What went wrong" in page and "RuntimeError: carrier API down" in page
    assert "dead-lettered: handler kept failing" in page


def test_an_unknown_conversation_is_a_404_that_says_so(operator):
    response = operator.get(conversation_url(uuid.uuid4()))

    assert response.status_code == 404
    assert "No message with this correlation id" in response.content.decode()
