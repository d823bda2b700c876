"""POST /api/orders/: one PlaceOrder in the outbox and 202, or a 4xx and nothing written."""

import copy

import pytest

from messaging.models import OutboxMessage
from tests.factories import product

from .conftest import ORDER, place

pytestmark = pytest.mark.django_db


def test_placing_answers_202_with_the_order_location_and_records_place_order(api, customer):
    product("MUG-001")

    response = place(api)

    command = OutboxMessage.objects.get()
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "requested"
    assert body["order_id"] == command.key
    assert body["correlation_id"] == str(command.correlation_id)
    assert response["Location"] == body["url"] == f"http://testserver/api/orders/{command.key}/"
    assert command.type == "shop.PlaceOrder" and command.kind == "command"
    assert command.payload["account_id"] == customer.id
    assert command.payload["lines"] == [{"sku": "MUG-001", "quantity": 2}]
    assert command.payload["customer"] == ORDER["customer"]


def test_a_retry_with_the_same_idempotency_key_gets_the_first_order_back(api):
    product("MUG-001")

    first = place(api, **{"Idempotency-Key": "buy-42"})
    retry = place(api, **{"Idempotency-Key": "buy-42"})

    assert first.status_code == retry.status_code == 202
    assert retry.json() == first.json()
    assert retry["Location"] == first["Location"]
    assert retry["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert OutboxMessage.objects.count() == 1


def test_the_same_key_with_a_different_body_is_refused(api):
    product("MUG-001")
    place(api, **{"Idempotency-Key": "buy-42"})
    changed = copy.deepcopy(ORDER)
    changed["lines"][0]["quantity"] = 3

    response = place(api, changed, **{"Idempotency-Key": "buy-42"})

    assert response.status_code == 422
    assert response.json() == {
        "detail": "This Idempotency-Key was already used for a different order request."
    }
    assert OutboxMessage.objects.count() == 1


def test_keys_belong_to_one_account(api, other_api):
    product("MUG-001")

    mine = place(api, **{"Idempotency-Key": "buy-42"})
    theirs = place(other_api, **{"Idempotency-Key": "buy-42"})

    assert theirs.status_code == 202
    assert theirs.json()["order_id"] != mine.json()["order_id"]
    assert OutboxMessage.objects.count() == 2


def with_changes(lines=None, **customer) -> dict:
    body = copy.deepcopy(ORDER)
    if lines is not None:
        body["lines"] = lines
    body["customer"].update(customer)
    return body


def without(field: str) -> dict:
    body = copy.deepcopy(ORDER)
    body["customer"].pop(field)
    return body


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            with_changes([{"sku": "MUG-001", "quantity": 0}]),
            {"lines": {"0": {"quantity": ["Choose at least 1."]}}},
        ),
        (
            with_changes([{"sku": "MUG-001", "quantity": 21}]),
            {"lines": {"0": {"quantity": ["At most 20 of one product per order."]}}},
        ),
        (
            with_changes([{"sku": "MUG-001", "quantity": "two"}]),
            {"lines": {"0": {"quantity": ["Enter the quantity as a whole number."]}}},
        ),
        (
            with_changes([{"sku": "MUG-001", "quantity": 1}, {"sku": "NOPE-404", "quantity": 1}]),
            {"lines": {"1": {"sku": ["No product with this SKU is for sale."]}}},
        ),
        (
            with_changes([{"sku": "OLD-001", "quantity": 1}]),
            {"lines": {"0": {"sku": ["No product with this SKU is for sale."]}}},
        ),
        (
            with_changes([{"sku": "MUG-001", "quantity": 20}, {"sku": "MUG-001", "quantity": 20}]),
            {"lines": {"1": {"sku": ["This product is on another line already."]}}},
        ),
        (
            with_changes(
                [
                    {"sku": "MUG-001", "quantity": 1},
                    {"sku": "NOPE-404", "quantity": 1},
                    {"sku": "MUG-001", "quantity": 1},
                ]
            ),
            {
                "lines": {
                    "1": {"sku": ["No product with this SKU is for sale."]},
                    "2": {"sku": ["This product is on another line already."]},
                }
            },
        ),
        (with_changes([]), {"lines": {"non_field_errors": ["This list may not be empty."]}}),
        (
            with_changes(email="not-an-email"),
            {"customer": {"email": ["Enter a valid email address."]}},
        ),
        (
            with_changes(phone="call me"),
            {"customer": {"phone": ["Enter a phone number: digits, spaces, + ( ) -, 6 to 20."]}},
        ),
        (with_changes(name=""), {"customer": {"name": ["This field may not be blank."]}}),
        (without("address"), {"customer": {"address": ["This field is required."]}}),
        ({"lines": ORDER["lines"]}, {"customer": ["This field is required."]}),
    ],
    ids=[
        "quantity-0",
        "quantity-21",
        "quantity-not-a-number",
        "unknown-sku",
        "inactive-sku",
        "same-sku-twice",
        "unknown-sku-and-same-sku-twice",
        "no-lines",
        "bad-email",
        "bad-phone",
        "blank-name",
        "no-address",
        "no-customer",
    ],
)
def test_each_bad_input_is_a_400_with_the_field_message_and_nothing_is_sent(api, body, errors):
    product("MUG-001")
    product("OLD-001", active=False)

    response = place(api, body)

    assert response.status_code == 400
    assert response.json() == errors
    assert not OutboxMessage.objects.exists()


def test_an_email_django_takes_but_the_contract_refuses_is_explained(api):
    # Django's EmailField takes a dotless domain such as localhost; the Customer contract not.
    product("MUG-001")

    response = place(api, with_changes(email="ada@localhost"))

    assert response.status_code == 400
    assert response.json() == {"customer": {"email": ["Enter a valid email address."]}}
    assert not OutboxMessage.objects.exists()


def test_an_overlong_idempotency_key_is_refused(api):
    product("MUG-001")

    response = place(api, **{"Idempotency-Key": "k" * 201})

    assert response.status_code == 400
    assert "idempotency_key" in response.json()
    assert not OutboxMessage.objects.exists()


def test_a_body_that_is_not_json_is_a_400(api):
    response = api.post("/api/orders/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert not OutboxMessage.objects.exists()
