"""The API fuzzed against its own OpenAPI schema: no server error, every refusal explained.

Schemathesis generates requests from /api/schema/, valid and invalid, and sends them to the
WSGI application in this process, signed in as a customer with a token. Each operation is a
test of its own; the generation is seeded, so a failure reproduces run after run.
"""

import json
import uuid

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi.checks import RejectedPositiveData

from config.wsgi import application
from shop.models import Order
from tests.factories import CUSTOMER, product

SKUS = ["MUG-001", "TEE-002"]
USERNAME, PASSWORD = "fuzzing-ada", "analytical-engine"
MY_ORDER = uuid.UUID("5d1f0c44-0000-4000-8000-000000000001")
SOMEONE_ELSES_ORDER = uuid.UUID("5d1f0c44-0000-4000-8000-000000000002")

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20251124,
        "generation": {"max-examples": 50, "deterministic": True, "database": "none"},
        # Random SKUs and order ids would almost never name a product or an order: reuse
        # real ones often enough to reach placing, reading and cancelling, not only the 404s.
        "dictionaries": {
            "for_sale": {"values": SKUS},
            "orders": {"values": [str(MY_ORDER), str(SOMEONE_ELSES_ORDER)]},
            "username": {"values": [USERNAME]},
            "password": {"values": [PASSWORD]},
        },
        "parameters": {
            "body.username": {"dictionary": "username", "probability": 0.5},
            "body.password": {"dictionary": "password", "probability": 0.5},
            "body.lines[*].sku": {"dictionary": "for_sale", "probability": 0.8},
            "path.sku": {"dictionary": "for_sale", "probability": 0.5},
            "path.order_id": {"dictionary": "orders", "probability": 0.6},
        },
    }
)
# Read from the app, as a client would, when pytest collects this module: the lazy loader
# (`schemathesis.pytest.from_fixture`) fails on pytest 9.2, which dropped `Node._nodeid`.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)

# Refusals of input the schema allows that no schema could rule out: they depend on the data
# (the catalog, the accounts, an earlier use of the key), not on the shape of the request.
REFUSED_FOR_THE_DATA = {
    "No product with this SKU is for sale.",
    "This product is on another line already.",
    "Unable to log in with provided credentials.",
    "This Idempotency-Key was already used for a different order request.",
}


@schema.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure but a refusal of valid input for one of the reasons above."""
    if not isinstance(failure, RejectedPositiveData):
        return True
    try:
        said = messages(json.loads(response.text))
    except ValueError:
        return True
    return not said <= REFUSED_FOR_THE_DATA


def messages(body) -> set[str]:
    """Every message in a refusal, however deep DRF nested it (by field, by line)."""
    if isinstance(body, str):
        return {body}
    if isinstance(body, dict | list):
        children = body.values() if isinstance(body, dict) else body
        return set().union(*(messages(child) for child in children))
    return set()


def refusals_are_explained(ctx, response, case) -> None:
    """A 4xx answers JSON with a `detail` or messages per field, never an empty page."""
    if not 400 <= response.status_code < 500:
        return
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), (
        f"{response.status_code} is not JSON: {response.text[:200]!r}"
    )
    body = json.loads(response.text)
    assert isinstance(body, dict) and messages(body), f"{response.status_code} says nothing"


@pytest.fixture
def requests_keep_the_connection():
    # At the end of each request Django closes the database connection, and with it the test's
    # transaction; Django's test client switches that off while it runs, and so do we.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, settings, django_user_model, other_customer, requests_keep_the_connection) -> str:
    # Fuzzing places many orders a second: the placement limit would answer most of them
    # with 429 and hide what placing does (tests/api/test_throttling.py checks the limit).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "order_placement": "100000/min",
            "token": "100000/min",
        },
    }
    for sku in SKUS:
        product(sku)
    customer = django_user_model.objects.create_user(username=USERNAME, password=PASSWORD)
    # Granted the sales figures too, so GET /api/sales/'s parameters are fuzzed, not refused.
    customer.user_permissions.add(Permission.objects.get(codename="view_dailyproductsales"))
    an_order(MY_ORDER, account=customer)
    an_order(SOMEONE_ELSES_ORDER, account=other_customer)
    return Token.objects.create(user=customer).key


def an_order(order_id: uuid.UUID, *, account) -> Order:
    return Order.objects.create(
        id=order_id,
        correlation_id=uuid.uuid4(),
        account=account,
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        phone=CUSTOMER.phone,
        address=CUSTOMER.address,
        total=0,
        placed_at=timezone.now(),
    )


@schema.parametrize()
# The database and the token are set up once per operation and shared by its examples.
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_api_keeps_to_its_schema(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"}, additional_checks=[refusals_are_explained]
    )
