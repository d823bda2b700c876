"""Whatever a message contract refuses becomes field messages, never a server error."""

import pytest
from rest_framework.exceptions import ValidationError

from shop.api.errors import contract
from shop.contracts import Customer, RequestedLine


def test_a_contract_refusal_is_a_validation_error_per_field():
    with pytest.raises(ValidationError) as refused:
        contract(Customer, {"name": "", "email": "ada@localhost", "phone": "1", "address": "x"})

    assert set(refused.value.detail) == {"name", "email", "phone"}


def test_a_valid_contract_is_built():
    assert contract(RequestedLine, {"sku": "MUG-001", "quantity": 2}) == RequestedLine(
        sku="MUG-001", quantity=2
    )
