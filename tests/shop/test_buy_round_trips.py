"""What a BUY costs the database, counted in round trips (statements, BEGIN and COMMIT
included), against the real database and outside any test transaction.

It was eight, plus a connection health check: the product, the session's SELECT, BEGIN,
the PlaceOrder INSERT, COMMIT, then BEGIN, the session's UPDATE, COMMIT (for a new guest,
a SELECT that the new session key was free and an INSERT instead of the first two). The
web checks no connection's health per request (config.gunicorn), the PlaceOrder INSERT is
the BUY's whole change and needs no BEGIN and COMMIT around it, and the session is written
in one statement, its key's uniqueness left to the primary key (config.sessions).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.sessions import SessionStore
from messaging.models import OutboxMessage
from tests.factories import product
from tests.shop.test_views import GOOD

pytestmark = pytest.mark.django_db(transaction=True)


def buy(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("shop:buy", args=["mug-001"]), GOOD)
    assert response.status_code == 302
    return [q["sql"].split()[0] for q in queries.captured_queries]


def test_a_guests_first_buy_takes_three_round_trips(client):
    product("MUG-001")

    statements = buy(client)

    assert statements == ["SELECT", "INSERT", "INSERT"]  # product, PlaceOrder, session
    assert OutboxMessage.objects.filter(type="shop.PlaceOrder").count() == 1


def test_a_returning_guests_buy_takes_four_and_keeps_every_order_they_placed(client):
    product("MUG-001")
    first = client.post(reverse("shop:buy", args=["mug-001"]), GOOD).url

    statements = buy(client)

    # product, the session, PlaceOrder, the session again
    assert statements == ["SELECT", "SELECT", "INSERT", "UPDATE"]
    assert client.get(first).status_code == 200  # the first order is still theirs to see
    assert len(client.session["orders"]) == 2


def test_a_new_sessions_taken_key_is_refused_by_the_table_and_another_drawn(client, monkeypatch):
    """No SELECT checks a new key is free: the primary key refuses a taken one."""
    taken = SessionStore()
    taken["who"] = "the first browser"
    taken.create()
    keys = iter([taken.session_key, "k" * 32])
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(keys))

    fresh = SessionStore()
    fresh["orders"] = {"an order": "its conversation"}
    fresh.save()

    assert fresh.session_key == "k" * 32
    assert SessionStore("k" * 32).load() == {"orders": {"an order": "its conversation"}}
    assert SessionStore(taken.session_key).load() == {"who": "the first browser"}
