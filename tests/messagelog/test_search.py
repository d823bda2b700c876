"""What a staff user pastes into the message log's search box, and that it stays indexed."""

import uuid

import pytest
from django.db import connection

from messagelog.models import MessageRecord
from messagelog.search import customer_correlations, search_filter
from tests.messagelog.records import logged

pytestmark = pytest.mark.django_db


def found(term: str) -> set[str]:
    return set(MessageRecord.objects.filter(search_filter(term)).values_list("type", flat=True))


@pytest.fixture
def order():
    order_id, correlation_id = uuid.uuid4(), uuid.uuid4()
    place = logged("shop.PlaceOrder", correlation_id=correlation_id, key=str(order_id))
    placed = logged(
        "shop.OrderPlaced",
        correlation_id=correlation_id,
        cause=place,
        key=str(order_id),
        payload={"order_id": str(order_id), "customer": {"email": "Grace@Example.com"}},
    )
    logged("warehouse.StockLevelChanged", correlation_id=correlation_id, cause=placed, key="MUG-1")
    logged("shop.PlaceOrder", correlation_id=uuid.uuid4(), key=str(uuid.uuid4()))  # someone else
    return order_id, correlation_id, placed


def test_a_correlation_id_finds_the_whole_conversation(order):
    _, correlation_id, _ = order

    assert found(str(correlation_id)) == {
        "shop.PlaceOrder",
        "shop.OrderPlaced",
        "warehouse.StockLevelChanged",
    }


def test_an_order_id_finds_the_messages_keyed_by_it(order):
    order_id, _, _ = order

    assert found(f"  {order_id}  ") == {"shop.PlaceOrder", "shop.OrderPlaced"}
    assert found(str(order_id).replace("-", "")) == {"shop.PlaceOrder", "shop.OrderPlaced"}


def test_the_short_reference_in_the_customers_emails_finds_the_order(order):
    order_id, _, _ = order

    assert found(str(order_id)[:8].upper()) == {"shop.PlaceOrder", "shop.OrderPlaced"}


def test_a_message_id_finds_that_message(order):
    _, _, placed = order

    assert found(str(placed.message_id)) == {"shop.OrderPlaced"}


def test_an_email_finds_the_conversations_of_that_customers_orders(order):
    assert found("grace@example.com") == {
        "shop.PlaceOrder",
        "shop.OrderPlaced",
        "warehouse.StockLevelChanged",
    }
    assert found("ada@example.com") == set()


def test_any_other_term_is_an_exact_key(order):
    assert found("MUG-1") == {"warehouse.StockLevelChanged"}
    assert found("MUG") == set()
    assert search_filter("   ") is None


def explain(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # Without its ORDER BY: on a table of a few rows the planner may walk the time index
        # for the order and filter as it goes; the question here is the filter's index.
        sql, params = queryset.order_by().query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_email_lookup_uses_its_partial_index(order):
    assert "message_customer_email_idx" in explain(customer_correlations("grace@example.com"))


def test_the_short_reference_uses_the_prefix_index(order):
    queryset = MessageRecord.objects.filter(search_filter("3f2a1b9c"))

    assert "message_key_prefix_idx" in explain(queryset)


def test_an_exact_key_uses_the_prefix_index_too(order):
    """The log keeps one index on `key`: its pattern operator class serves equality as well
    (an exact key here, erasure's lookup of a customer's records)."""
    queryset = MessageRecord.objects.filter(search_filter("MUG-1"))

    assert "message_key_prefix_idx" in explain(queryset)
