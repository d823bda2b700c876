"""The event API says which fields hold a person's data, as the contracts mark them."""

import pytest
from django.test import Client

from config.event_api.fields import fields
from messaging.asyncapi import document

pytestmark = pytest.mark.django_db


def test_a_payloads_rows_mark_its_personal_fields_and_their_erased_value():
    doc = document()
    rows = {f.path: f for f in fields(doc, doc["components"]["schemas"]["shop.OrderPlaced.v2"])}

    assert [p for p, f in rows.items() if f.personal] == [
        "customer.name",
        "customer.email",
        "customer.phone",
        "customer.address",
    ]
    assert rows["customer.email"].erased_as == '"erased@erased.invalid"'
    assert not rows["lines[].sku"].personal and rows["lines[].sku"].erased_as == ""


def test_the_page_says_it_beside_the_field():
    html = Client().get("/api/events/").content.decode()

    dispatch = html[html.index('id="warehouse.DispatchOrder"') :]
    row = dispatch[dispatch.index("<code>address</code>") :][:800]
    assert "personal data: masked for staff without the permission" in row
    assert "(then &quot;(erased)&quot;)" in row
