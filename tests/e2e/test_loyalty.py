"""A signed-in customer buys over HTTP, the real loyalty worker awards the points, a
cancellation takes them back, and "My points" shows both."""

import re

import pytest

from loyalty import selectors
from shop.models import Order
from tests.e2e.browserless import HttpSession
from tests.e2e.conversation import buy
from tests.factories import product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "mary@example.com"


def balance_shown(session: HttpSession) -> int:
    page = session.get("/account/points/")
    assert page.status == 200
    return int(re.search(r'data-balance="(\d+)"', page.body).group(1))


def test_a_customer_watches_points_arrive_and_leave_with_a_cancellation(
    live_server, wait_until, django_user_model
):
    product("LOY-MUG", price="14.50", stock=10)
    product("LOY-TEE", price="22.00", stock=10)
    django_user_model.objects.create_user("mary", EMAIL, "a-long-pass-phrase-42")
    session = HttpSession(live_server.url)
    login = session.post_form(
        "/account/login/",
        "/account/login/",
        {"username": "mary", "password": "a-long-pass-phrase-42"},
    )
    assert login.status == 302

    kept = buy(live_server, "LOY-MUG", 2, session, email=EMAIL)  # €29.00: 29 points
    wait_until(lambda: selectors.balance(email=EMAIL) == 29, what="the points to arrive")
    assert balance_shown(session) == 29

    # Cancelled at once, while the parcel is still being packed.
    dropped = buy(live_server, "LOY-TEE", 1, session, email=EMAIL)  # €22.00: 22 points
    # Before the shop has placed it, a Cancel is answered "still placing; try again".
    wait_until(lambda: Order.objects.filter(id=dropped).exists(), what="the order to be placed")
    cancel = session.post_form(f"/orders/{dropped}/cancel/", f"/orders/{dropped}/", {})
    assert cancel.status == 302
    wait_until(
        lambda: Order.objects.filter(id=dropped, status=Order.Status.CANCELLED).exists(),
        what="the order to be cancelled",
    )
    wait_until(
        lambda: [a.cancelled for a in selectors.awards(email=EMAIL)] == [True, False],
        what="the points to be awarded and taken back",
    )

    page = session.get("/account/points/").body
    assert balance_shown(session) == 29
    assert str(kept)[:8].upper() in page and str(dropped)[:8].upper() in page
    assert "taken back" in page
