"""Personal data in payloads: found by the contracts' marks, masked, redacted, scrubbed."""

import io
import json
import logging

import jsonschema
import pytest

from messaging.contracts import ERASED, ERASED_VALUE, PERSONAL, all_message_classes
from messaging.logcontext import PersonalDataFilter
from messaging.personal import MASK, masked, personal_fields, redacted, scrubbed
from messaging.schemas import payload_schema
from shop.contracts import OrderPlaced
from tests.factories import CUSTOMER, order_placed

PLACED = order_placed(("MUG-001", 2)).model_dump(mode="json")


def test_contracts_mark_the_customer_and_what_is_sent_to_them():
    assert personal_fields("shop.OrderPlaced") == [
        "customer.name",
        "customer.email",
        "customer.phone",
        "customer.address",
    ]
    assert personal_fields("shop.PlaceOrder") == [
        "customer.name",
        "customer.email",
        "customer.phone",
        "customer.address",
        "account_id",
    ]
    assert personal_fields("warehouse.DispatchOrder") == ["recipient", "address"]
    # A reason a customer may have typed, and each copy of it on its way back.
    assert personal_fields("shop.CancelOrder") == ["reason"]
    assert personal_fields("warehouse.CancelDispatch") == ["reason"]
    assert personal_fields("warehouse.DispatchCancelled") == ["reason"]
    assert personal_fields("shop.OrderCancelled") == ["reason"]
    assert personal_fields("shop.OrderCancellationRefused") == []  # the shop's words
    assert personal_fields("notifications.SendEmail") == ["to", "body"]
    assert personal_fields("notifications.EmailSent") == ["to"]
    assert personal_fields("sales.Nothing") == []
    assert personal_fields("warehouse.StockReserved") == []


def test_masking_hides_the_person_and_keeps_the_rest():
    shown = masked("shop.OrderPlaced", PLACED)

    assert set(shown["customer"].values()) == {MASK}
    assert shown["lines"] == PLACED["lines"]
    assert shown["total"] == PLACED["total"]
    assert shown["order_id"] == PLACED["order_id"]
    assert PLACED["customer"]["email"] == CUSTOMER.email  # the payload itself is untouched


def test_what_the_contract_does_not_know_is_masked():
    """A record that failed its contract may carry anything in a property nobody declared."""
    shown = masked("shop.OrderPlaced", {**PLACED, "note": "call Ada on 0123", "tries": 2})

    assert shown["note"] == MASK and shown["tries"] == 2


def test_a_payload_of_an_unknown_type_is_masked_but_for_its_shape_and_numbers():
    shown = masked("elsewhere.Something", {"who": {"email": "a@b.example"}, "n": [1, "x"]})

    assert shown == {"who": {"email": MASK}, "n": [1, MASK]}


def test_redaction_puts_each_fields_erased_value_and_the_record_still_validates():
    erased = redacted("shop.OrderPlaced", PLACED)

    assert erased["customer"] == {
        "name": ERASED,
        "email": "erased@erased.invalid",
        "phone": "000000",
        "address": ERASED,
    }
    assert erased["lines"] == PLACED["lines"]
    jsonschema.validate(erased, payload_schema(OrderPlaced))


def _personal_properties(schema: dict):
    for node in [schema, *schema.get("$defs", {}).values()]:
        for name, prop in node.get("properties", {}).items():
            if prop.get(PERSONAL):
                yield name, prop


PERSONAL_FIELDS = [
    (contract, name, prop)
    for contract in sorted(all_message_classes(), key=lambda c: c.type_name())
    for name, prop in _personal_properties(payload_schema(contract))
]


@pytest.mark.parametrize(
    ("contract", "name", "prop"),
    PERSONAL_FIELDS,
    ids=[f"{c.type_name()}.{name}" for c, name, _ in PERSONAL_FIELDS],
)
def test_every_personal_fields_erased_value_satisfies_its_own_constraints(contract, name, prop):
    """Else a redacted record (a dead letter retried, a lost record published again) would
    be refused by the very contract it was written under."""
    jsonschema.validate(prop[ERASED_VALUE], prop)


def test_free_text_loses_the_values_pydantic_quotes_and_email_addresses():
    error = (
        "1 validation error for PlaceOrder\ncustomer.phone\n  String should match pattern "
        "[type=string_pattern_mismatch, input_value='Ada, 12 Row', input_type=str]\n"
        "SMTPRecipientsRefused: {'ada@example.com': (550, b'no such user')}"
    )

    clean = scrubbed(error)

    assert "Ada" not in clean and "ada@example.com" not in clean
    assert "customer.phone" in clean and "string_pattern_mismatch" in clean
    assert "input_value=•••• (personal), input_type=str" in clean


def test_a_log_line_never_carries_an_email_even_in_a_traceback():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PersonalDataFilter())
    logger = logging.getLogger("tests.personal")
    logger.addHandler(handler)
    try:
        logger.warning("could not reach %s", "ada@example.com")
        try:
            raise ValueError("refused: grace@example.com")
        except ValueError:
            logger.exception("send failed")
    finally:
        logger.removeHandler(handler)

    written = stream.getvalue()
    assert "@example.com" not in written
    assert "could not reach •••• (personal)" in written
    assert "ValueError: refused: •••• (personal)" in written


def test_the_event_api_document_says_which_fields_are_personal():
    from messaging.asyncapi import document

    schemas = document()["components"]["schemas"]
    customer = schemas["shop.OrderPlaced.v2.Customer"]["properties"]

    assert customer["email"][PERSONAL] is True
    assert json.dumps(customer["email"][ERASED_VALUE]) == '"erased@erased.invalid"'
    assert PERSONAL not in schemas["shop.OrderPlaced.v2.OrderLine"]["properties"]["sku"]


def test_an_absent_personal_value_is_shown_absent():
    place = {"order_id": "x", "customer": PLACED["customer"], "lines": [], "account_id": None}

    assert masked("shop.PlaceOrder", place)["account_id"] is None
    assert masked("shop.PlaceOrder", {**place, "account_id": 7})["account_id"] == MASK
