"""The API's BUY: at most one order per (account, Idempotency-Key)."""

import pytest

from shop import services
from shop.contracts import RequestedLine
from shop.models import IdempotencyKey
from tests.factories import CUSTOMER
from tests.shop.orders import sent

pytestmark = pytest.mark.django_db

KEY = "3b0c8a4e-retry-me"
MUGS = [RequestedLine(sku="MUG-001", quantity=2)]


def request_once(account, lines=MUGS, key=KEY):
    return services.order_request_once(
        account_id=account.id, idempotency_key=key, customer=CUSTOMER, lines=lines
    )


def test_a_retry_gets_the_first_request_back_and_sends_nothing(django_user_model):
    ada = django_user_model.objects.create_user("ada")

    first, first_is_new = request_once(ada)
    again, again_is_new = request_once(ada)

    assert (first_is_new, again_is_new) == (True, False)
    assert again == first
    [command] = sent()
    assert (command.type, command.key, command.correlation_id) == (
        "shop.PlaceOrder",
        str(first.order_id),
        first.correlation_id,
    )
    assert command.payload["account_id"] == ada.id


def test_the_key_for_a_different_request_is_refused(django_user_model):
    ada = django_user_model.objects.create_user("ada")
    first, _ = request_once(ada)

    with pytest.raises(services.IdempotencyKeyReused):
        request_once(ada, lines=[RequestedLine(sku="MUG-001", quantity=3)])

    assert [m.key for m in sent()] == [str(first.order_id)]
    assert IdempotencyKey.objects.get().order_id == first.order_id


def test_keys_belong_to_one_account(django_user_model):
    ada = django_user_model.objects.create_user("ada")
    bob = django_user_model.objects.create_user("bob")

    adas, _ = request_once(ada)
    bobs, bobs_is_new = request_once(bob)

    assert bobs_is_new and bobs.order_id != adas.order_id
    assert sorted(m.key for m in sent()) == sorted([str(adas.order_id), str(bobs.order_id)])
