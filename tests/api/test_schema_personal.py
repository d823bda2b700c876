"""The REST API's schema marks the personal fields of what it takes, as the contract does."""

import pytest
import yaml
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_customer_an_order_is_placed_for_is_marked_personal_field_by_field():
    schema = yaml.safe_load(APIClient().get("/api/schema/").content)

    customer = schema["components"]["schemas"]["OrderPlaceCustomer"]["properties"]
    lines = schema["components"]["schemas"]["OrderPlaceLine"]["properties"]

    assert {name for name, prop in customer.items() if prop.get("x-personal")} == {
        "name",
        "email",
        "phone",
        "address",
    }
    assert not any(prop.get("x-personal") for prop in lines.values())
