"""Placing orders and guessing passwords are rate-limited: 429 past the limit."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from messaging.models import OutboxMessage
from tests.factories import product

from .conftest import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }

    return set_rates


def test_placing_past_the_limit_is_a_429_and_places_nothing(api, other_api, rates):
    product("MUG-001")
    rates(order_placement="2/min")

    answers = [place(api).status_code for _ in range(3)]

    assert answers == [202, 202, 429]
    assert OutboxMessage.objects.count() == 2
    refused = place(api)
    assert int(refused["Retry-After"]) > 0
    assert "throttled" in refused.json()["detail"]
    assert place(other_api).status_code == 202  # counted per account


def test_reading_orders_is_not_limited_by_the_placement_rate(api, rates):
    rates(order_placement="1/min")

    assert [api.get("/api/orders/").status_code for _ in range(3)] == [200, 200, 200]


def test_password_guesses_are_limited(customer, rates):
    rates(token="2/min")
    client = APIClient()
    guess = {"username": customer.username, "password": "wrong"}

    answers = [client.post("/api/auth/token/", guess).status_code for _ in range(3)]

    assert answers == [400, 400, 429]


def test_a_made_up_forwarded_for_header_does_not_reset_the_count(customer, rates):
    rates(token="1/min")
    client = APIClient()
    guess = {"username": customer.username, "password": "wrong"}

    first = client.post("/api/auth/token/", guess, headers={"X-Forwarded-For": "10.0.0.1"})
    second = client.post("/api/auth/token/", guess, headers={"X-Forwarded-For": "10.0.0.2"})

    assert (first.status_code, second.status_code) == (400, 429)


def test_guesses_at_one_username_from_many_addresses_are_counted_as_at_the_login_pages(
    customer,
):
    # The request rate is per address; the failure count is per username too, and shared
    # with the storefront's and the admin's login, so guessing cannot move to the API.
    guess = {"username": customer.username, "password": "wrong"}

    answers = [
        APIClient(REMOTE_ADDR=f"10.0.9.{n}").post("/api/auth/token/", guess).status_code
        for n in range(11)
    ]

    assert answers == [400] * 10 + [429]
    right = {"username": customer.username, "password": "analytical-engine"}
    refused = APIClient(REMOTE_ADDR="10.0.8.1").post("/api/auth/token/", right)
    assert refused.status_code == 429 and "token" not in refused.json()
    assert int(refused["Retry-After"]) > 0
    login = {"username": customer.username, "password": "wrong"}
    assert Client().post("/account/login/", login, REMOTE_ADDR="10.0.8.2").status_code == 429


def test_a_token_below_the_limit_clears_the_username_count(customer):
    guess = {"username": customer.username, "password": "wrong"}
    for n in range(9):
        APIClient(REMOTE_ADDR=f"10.0.7.{n}").post("/api/auth/token/", guess)

    right = {"username": customer.username, "password": "analytical-engine"}
    assert APIClient(REMOTE_ADDR="10.0.6.1").post("/api/auth/token/", right).status_code == 200
    answers = [
        APIClient(REMOTE_ADDR=f"10.0.5.{n}").post("/api/auth/token/", guess).status_code
        for n in range(9)
    ]
    assert answers == [400] * 9


def test_a_malformed_call_is_not_counted_as_a_guess(customer):
    no_password = {"username": customer.username}
    for n in range(11):
        APIClient(REMOTE_ADDR=f"10.0.4.{n}").post("/api/auth/token/", no_password)

    right = {"username": customer.username, "password": "analytical-engine"}
    assert APIClient(REMOTE_ADDR="10.0.3.1").post("/api/auth/token/", right).status_code == 200
