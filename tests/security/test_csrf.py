"""Every state change is a POST that needs its CSRF token, and a GET changes nothing.

Each storefront form is sent twice by a client that enforces CSRF as a browser would: without
the token it is a 403 and changes nothing; with the token taken from the page's cookie it
does what it is for, which shows the 403 came from the missing token and nothing else.
(The API's session-authenticated POST: tests/api/test_auth.py.)
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging.models import OutboxMessage
from shop.models import Order
from tests.factories import CUSTOMER, product

pytestmark = pytest.mark.django_db

PASSWORD = "analytical-engine"  # the `customer`'s (conftest.py)
Done = Callable[[], bool]  # whether the form did its job


@dataclass
class Form:
    page: str  # where the form is shown
    url: str  # where it posts
    data: dict
    client: Client


def rows() -> tuple[int, int, int]:
    return Order.objects.count(), OutboxMessage.objects.count(), User.objects.count()


def signed_in(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def buy_form(customer) -> tuple[Form, Done]:
    product("MUG-001")
    data = {"quantity": 1, "email": CUSTOMER.email, "phone": CUSTOMER.phone}
    data |= {"name": CUSTOMER.name, "address": CUSTOMER.address}
    page, url = reverse("shop:product", args=["mug-001"]), reverse("shop:buy", args=["mug-001"])
    form = Form(page, url, data, signed_in(customer))
    return form, lambda: OutboxMessage.objects.filter(type="shop.PlaceOrder").exists()


def cancel_form(customer) -> tuple[Form, Done]:
    order = Order.objects.create(
        correlation_id="00000000-0000-4000-8000-00000000000c",
        account=customer,
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        phone=CUSTOMER.phone,
        address=CUSTOMER.address,
        total=0,
        placed_at=timezone.now(),
    )
    page, url = reverse("shop:order", args=[order.id]), reverse("shop:cancel", args=[order.id])
    form = Form(page, url, {}, signed_in(customer))
    return form, lambda: OutboxMessage.objects.filter(type="shop.CancelOrder").exists()


def signup_form(customer) -> tuple[Form, Done]:
    data = {"username": "grace", "email": "grace@example.com"}
    data |= {"password1": "compiler-of-cobol", "password2": "compiler-of-cobol"}
    form = Form(reverse("shop:signup"), reverse("shop:signup"), data, signed_in())
    return form, lambda: User.objects.filter(username="grace").exists()


def login_form(customer) -> tuple[Form, Done]:
    data = {"username": customer.username, "password": PASSWORD}
    form = Form(reverse("shop:login"), reverse("shop:login"), data, signed_in())
    return form, lambda: "_auth_user_id" in form.client.session


def logout_form(customer) -> tuple[Form, Done]:
    form = Form(reverse("shop:catalog"), reverse("shop:logout"), {}, signed_in(customer))
    return form, lambda: "_auth_user_id" not in form.client.session


FORMS = {
    "shop:buy": buy_form,
    "shop:cancel": cancel_form,
    "shop:signup": signup_form,
    "shop:login": login_form,
    "shop:logout": logout_form,
}


def with_token(form: Form) -> dict:
    """The form's data with the token a browser would send: from the cookie the page set."""
    assert form.client.get(form.page).status_code == 200
    return {**form.data, "csrfmiddlewaretoken": form.client.cookies["csrftoken"].value}


@pytest.mark.parametrize("name", FORMS)
def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(name, customer):
    form, done = FORMS[name](customer)
    before = rows()

    response = form.client.post(form.url, form.data)

    assert response.status_code == 403
    assert rows() == before
    assert not done()


@pytest.mark.parametrize("name", FORMS)
def test_the_same_post_with_its_csrf_token_does_its_job(name, customer):
    form, done = FORMS[name](customer)

    response = form.client.post(form.url, with_token(form))

    assert response.status_code == 302
    assert done()


@pytest.mark.parametrize("name", FORMS)
def test_a_get_changes_nothing(name, customer):
    form, done = FORMS[name](customer)
    before = rows()

    response = form.client.get(form.url, form.data)

    # A page, a refusal, or (BUY) a redirect to the product page: never an effect.
    assert response.status_code in {200, 302, 405}
    assert rows() == before
    assert not done()


def test_the_admin_login_needs_its_csrf_token_too(customer):
    credentials = {"username": customer.username, "password": PASSWORD}

    response = signed_in().post("/admin/login/", credentials)

    assert response.status_code == 403


def test_every_post_form_of_the_storefront_is_tested_here():
    # A new form must join FORMS above. Login and sign-up pages post to their own URL.
    posts_to_itself = {"login.html": "shop:login", "signup.html": "shop:signup"}
    found = set()
    for template in storefront_templates():
        for form in re.findall(r"<form\b[^>]*>", template.read_text()):
            if 'method="post"' not in form.lower():
                continue
            action = re.search(r"{% url '([\w:-]+)'", form)
            found.add(action.group(1) if action else posts_to_itself[template.name])

    assert found == set(FORMS)


def storefront_templates() -> list[Path]:
    folders = [Path(settings.BASE_DIR, app, "templates") for app in ("shop", "sales", "config")]
    # An app's admin/ templates extend Django's admin, whose forms its own tests cover.
    return [
        path
        for folder in folders
        for path in folder.rglob("*.html")
        if "admin" not in path.relative_to(folder).parts
    ]
