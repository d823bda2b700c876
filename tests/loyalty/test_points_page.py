"""The customer's points page: their own balance and the orders it came from, nobody else's."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import Client

from loyalty import services

pytestmark = pytest.mark.django_db

PAGE = "/account/points/"


def placed(email: str, total: str) -> uuid.UUID:
    order_id = uuid.uuid4()
    services.points_award(
        order_id=order_id,
        email=email,
        total=Decimal(total),
        currency="EUR",
        placed_at=datetime(2026, 11, 24, 10, tzinfo=UTC),
    )
    return order_id


def signed_in(django_user_model, email: str) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user(f"u-{uuid.uuid4().hex[:8]}", email))
    return client


def test_a_customer_sees_their_balance_and_the_orders_it_came_from(django_user_model, settings):
    settings.SHOP_CURRENCY = "EUR"
    kept = placed("ada@example.com", "42.50")
    cancelled = placed("ada@example.com", "14.00")
    services.points_take_back(order_id=cancelled)

    page = signed_in(django_user_model, "Ada@example.com").get(PAGE)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-balance="42"' in html
    assert str(kept)[:8].upper() in html and "+42" in html
    assert str(cancelled)[:8].upper() in html and "taken back" in html
    assert f'href="/orders/{kept}/"' in html


def test_another_customers_points_are_not_shown(django_user_model):
    theirs = placed("grace@example.com", "99.00")

    page = signed_in(django_user_model, "ada@example.com").get(PAGE)

    html = page.content.decode()
    assert 'data-balance="0"' in html
    assert str(theirs)[:8].upper() not in html and "grace@example.com" not in html


def test_an_account_without_an_email_sees_no_points(django_user_model):
    erased = placed("ada@example.com", "10.00")
    services.customer_erase(order_id=erased)  # its award's email is blank now

    page = signed_in(django_user_model, "").get(PAGE)

    assert 'data-balance="0"' in page.content.decode()
    assert str(erased)[:8].upper() not in page.content.decode()


def test_a_visitor_is_sent_to_log_in():
    response = Client().get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/?next=/account/points/")


def test_the_menu_offers_the_page_to_a_signed_in_customer_only(django_user_model):
    assert PAGE not in Client().get("/").content.decode()
    assert PAGE in signed_in(django_user_model, "ada@example.com").get("/").content.decode()
