"""Message versions: written in `dataschema`, upcast on the way in, never guessed."""

import dataclasses
import json

import pytest

from messaging import registry
from messaging.contracts import UnknownVersion, upcast
from messaging.inbox import Outcome, handle_record
from messaging.models import DeadLetter, OutboxMessage
from messaging.wire import MalformedRecord, decode
from shop.contracts import OrderPlaced
from tests.factories import order_placed, product, record_of
from warehouse.contracts import DispatchOrder
from warehouse.models import Stock

VERSION_1 = {
    "order_id": "0b0a9d8e-7c1f-4b61-9b0e-3c7d2f1a5e10",
    "customer": {
        "name": "Ada",
        "email": "ada@example.com",
        "phone": "+44 20 1234",
        "address": "1 St",
    },
    "lines": [{"sku": "MUG-001", "name": "Mug", "quantity": 2, "unit_price": "14.00"}],
    "total": "28.00",
    "placed_at": "2026-11-24T10:00:00Z",
}


def with_schema(record, version: int | None):
    """The record as it would have been written as `version` (None: before versions)."""
    headers = [(k, v) for k, v in record.headers if k != "ce_dataschema"]
    if version is not None:
        schema = f"http://shop.example/api/asyncapi.json#/components/schemas/x.v{version}"
        headers.append(("ce_dataschema", schema.encode()))
    return dataclasses.replace(record, headers=headers)


def test_the_version_is_written_and_read_back():
    record = record_of(order_placed(("MUG-001", 1)))

    metadata, _ = decode(record.key, record.value, record.headers)

    assert metadata.version == OrderPlaced.version == 2
    assert decode(record.key, record.value, with_schema(record, None).headers)[0].version == 1
    unversioned = [*with_schema(record, None).headers, ("ce_dataschema", b"urn:shop:placed")]
    with pytest.raises(MalformedRecord, match="does not end in a version"):
        decode(record.key, record.value, unversioned)


@pytest.mark.parametrize("currency", ["EUR", "CHF"])
def test_order_placed_version_1_is_priced_in_the_shops_currency(settings, currency):
    settings.SHOP_CURRENCY = currency

    placed = OrderPlaced.model_validate(upcast(OrderPlaced, 1, VERSION_1))

    assert placed.total.model_dump(mode="json") == {"amount": "28.00", "currency": currency}
    assert placed.lines[0].unit_price.currency == currency
    assert placed.lines[0].subtotal == placed.total.amount


def test_dispatch_order_version_1_loses_its_lines():
    data = {"order_id": VERSION_1["order_id"], "recipient": "Ada", "address": "1 St"}

    current = upcast(DispatchOrder, 1, {**data, "lines": [{"sku": "MUG-001", "quantity": 2}]})

    assert DispatchOrder.model_validate(current) == DispatchOrder.model_validate(data)


def test_a_version_this_code_cannot_read_is_refused():
    with pytest.raises(UnknownVersion, match="version 3 is not one this code reads"):
        upcast(OrderPlaced, 3, VERSION_1)
    with pytest.raises(UnknownVersion, match="version 1 could not be upcast: KeyError"):
        upcast(OrderPlaced, 1, {"order_id": VERSION_1["order_id"]})


@pytest.mark.django_db
def test_a_version_1_record_is_handled_as_the_current_model():
    product("MUG-001", stock=10)
    record = record_of(order_placed(("MUG-001", 2)))
    data = json.loads(record.value)
    old = {
        **data,
        "lines": [{**ln, "unit_price": "10.00"} for ln in data["lines"]],
        "total": "20.00",
    }
    v1 = dataclasses.replace(with_schema(record, None), value=json.dumps(old).encode())

    assert handle_record(registry.group("warehouse"), v1) == Outcome.HANDLED
    assert Stock.objects.get(sku="MUG-001").reserved == 2


@pytest.mark.django_db
def test_a_newer_version_than_the_code_is_dead_lettered_not_guessed():
    record = with_schema(record_of(order_placed(("MUG-001", 1))), OrderPlaced.version + 1)

    assert handle_record(registry.group("sales"), record) == Outcome.DEAD_LETTERED

    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.type) == (DeadLetter.Reason.INVALID, "shop.OrderPlaced")
    assert "version 3 is not one this code reads (it reads 1 to 2)" in letter.error


@pytest.mark.django_db
def test_the_outbox_keeps_the_version_the_payload_was_written_as():
    product("MUG-001", stock=10)
    record = record_of(order_placed(("MUG-001", 1)))
    handle_record(registry.group("warehouse"), record)

    assert set(OutboxMessage.objects.values_list("type", "version")) == {
        ("warehouse.StockReserved", 1),
        ("warehouse.StockLevelChanged", 1),
    }
