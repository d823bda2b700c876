"""The admin shows the awards read-only, found by an order id or a customer's whole email."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from loyalty import services

pytestmark = pytest.mark.django_db

LIST = "/admin/loyalty/award/"


@pytest.fixture
def awarded():
    order_id = uuid.uuid4()
    services.points_award(
        order_id=order_id,
        email="ada@example.com",
        total=Decimal("42.00"),
        currency="EUR",
        placed_at=datetime(2026, 11, 24, 10, tzinfo=UTC),
    )
    return order_id


@pytest.mark.parametrize("term", ["{order_id}", "ADA@example.com"])
def test_an_award_is_found_by_its_order_or_its_customers_email(admin_client, awarded, term):
    page = admin_client.get(LIST, {"q": term.format(order_id=awarded)})

    assert page.status_code == 200
    assert str(awarded) in page.content.decode()


def test_a_search_for_anything_else_finds_nothing_and_fails_nothing(admin_client, awarded):
    page = admin_client.get(LIST, {"q": "ada"})

    assert page.status_code == 200
    assert str(awarded) not in page.content.decode()


def test_awards_cannot_be_added_changed_or_deleted(admin_client, awarded):
    assert admin_client.get(f"{LIST}add/").status_code == 403
    award_page = admin_client.get(LIST).content.decode()
    assert "Add award" not in award_page


def test_staff_without_the_permission_see_the_customers_email_masked_and_cannot_search_it(
    client, awarded
):
    from django.urls import reverse

    from loyalty.models import Award
    from messaging.personal import MASK
    from tests.staff import staff_client

    award = reverse("admin:loyalty_award_change", args=[Award.objects.get().pk])
    staff_client(client, "view_award", sees_personal_data=False)

    page = client.get(award).content.decode()
    assert MASK in page and "ada@example.com" not in page
    assert str(awarded) not in client.get(LIST, {"q": "ada@example.com"}).content.decode()
    client.logout()
    staff_client(client, "view_award", sees_personal_data=True)
    assert "ada@example.com" in client.get(award).content.decode()
