"""Clients of the REST API, signed in as customers, and the shop's consumer on demand."""

import uuid

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from messaging import registry
from messaging.inbox import Outcome, handle_record
from messaging.models import OutboxMessage
from messaging.wire import RawRecord, encode

ORDER = {
    "lines": [{"sku": "MUG-001", "quantity": 2}],
    "customer": {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0000",
        "address": "12 Analytical Row, London",
    },
}


@pytest.fixture(autouse=True)
def own_cache_namespace(settings):
    # The rate limits count in the shared Redis: a key prefix of its own per test keeps
    # counts from leaking between tests, or from an earlier run, without flushing anything.
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": uuid.uuid4().hex}}


@pytest.fixture
def customer(django_user_model):
    return django_user_model.objects.create_user(
        username=f"ada-{uuid.uuid4().hex[:8]}", password="analytical-engine"
    )


@pytest.fixture
def other_customer(django_user_model):
    return django_user_model.objects.create_user(username=f"grace-{uuid.uuid4().hex[:8]}")


def client_of(user) -> APIClient:
    """A client that authenticates as `user` with a token, as an API client would."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def api(customer) -> APIClient:
    return client_of(customer)


@pytest.fixture
def other_api(other_customer) -> APIClient:
    return client_of(other_customer)


def place(client, body=ORDER, **headers):
    return client.post("/api/orders/", body, format="json", headers=headers)


def shop_consumes(row: OutboxMessage) -> Outcome:
    """The shop's consumer group handles an outbox row as the relay would deliver it."""
    wire = encode(row.topic, row.metadata(), row.payload)
    record = RawRecord(wire.topic, 0, 0, wire.key, wire.value, wire.headers)
    return handle_record(registry.group("shop"), record)
