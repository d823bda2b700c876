"""Who sees what: the admin is for staff only, and an order only for whoever placed it.

(The API's side, someone else's order being a 404: tests/api/test_orders.py.)
"""

import re
import uuid

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from messaging.models import OutboxMessage
from shop.models import Order
from tests.factories import CUSTOMER

pytestmark = pytest.mark.django_db

# Values for the admin's URL parameters: the pages must turn a customer away before they
# look anything up, so whether an object exists does not matter.
SAMPLES = {"int": "1", "path": "1", "str": "1", "uuid": str(uuid.uuid4()), "slug": "x"}
# Pages of the admin that anyone may reach: the way in and out, and its translations.
OPEN = {"login", "logout", "jsi18n"}


def admin_urls() -> dict[str, str]:
    """Every page of the admin (the models' and any custom view), by URL name."""
    urls = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and pattern.name not in OPEN:
                urls[pattern.name or route] = "/admin/" + fill(route)

    walk(admin.site.urls[0], "")
    return urls


def fill(route: str) -> str:
    """A URL the route matches: a sample value for each parameter of a path() or re_path()."""
    # A regex group takes its first alternative (an app label); `.*` takes any text.
    route = re.sub(r"\(\?P<\w+>([^)]*)\)", lambda m: m.group(1).split("|")[0], route)
    route = route.replace(".*", "x").replace("^", "").replace("$", "")
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m.group(1) or "str"], route)


def an_order(account) -> Order:
    return Order.objects.create(
        correlation_id=uuid.uuid4(),
        account=account,
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        phone=CUSTOMER.phone,
        address=CUSTOMER.address,
        total=0,
        placed_at=timezone.now(),
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_walk_finds_the_admin_of_every_model():
    urls = admin_urls()

    for model in admin.site._registry:
        name = f"{model._meta.app_label}_{model._meta.model_name}_changelist"
        assert name in urls, name
    assert "index" in urls


def test_a_customer_is_sent_to_the_admin_login_from_every_admin_page(customer):
    client = signed_in(customer)
    before = (Order.objects.count(), OutboxMessage.objects.count())

    for name, url in admin_urls().items():
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (name, url, response.status_code)
            assert response["Location"].startswith(reverse("admin:login")), (name, url)
    assert (Order.objects.count(), OutboxMessage.objects.count()) == before


def test_staff_get_in_so_the_redirects_above_are_about_who_asks(customer):
    customer.is_staff = customer.is_superuser = True
    customer.save()

    assert signed_in(customer).get("/admin/shop/order/").status_code == 200


@pytest.mark.parametrize("page", ["shop:order", "shop:order-live"])
def test_another_customers_order_page_does_not_exist_for_me(page, customer, other_customer):
    order = an_order(other_customer)
    url = reverse(page, args=[order.id])

    assert signed_in(customer).get(url).status_code == 404
    assert signed_in(other_customer).get(url).status_code == 200


def test_another_customer_cannot_cancel_my_order(customer, other_customer):
    order = an_order(other_customer)

    response = signed_in(customer).post(reverse("shop:cancel", args=[order.id]))

    assert response.status_code == 404
    assert not OutboxMessage.objects.exists()


def test_my_orders_lists_only_mine(customer, other_customer):
    mine, theirs = an_order(customer), an_order(other_customer)

    page = signed_in(customer).get(reverse("shop:my-orders")).content.decode()

    assert reverse("shop:order", args=[mine.id]) in page
    assert reverse("shop:order", args=[theirs.id]) not in page
