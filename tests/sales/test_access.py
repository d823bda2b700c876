"""Who sees the sales figures: staff with the sales permission, or anyone in the demo."""

import uuid

import pytest
import yaml
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sales.access import PERMISSION
from sales.services import sale_record

pytestmark = pytest.mark.django_db

PAGE, API, ADMIN = "/sales/", "/api/sales/", "/admin/sales/dailyproductsales/"


@pytest.fixture(autouse=True)
def a_sale(settings):
    settings.SALES_FIGURES_PUBLIC = False  # production, whatever the environment says
    sale_record(
        order_id=uuid.uuid4(),
        placed_at=timezone.now(),
        lines=[
            {
                "sku": "MUG-001",
                "name": "Mug",
                "quantity": 3,
                "unit_price": {"amount": "14.00", "currency": "EUR"},
            }
        ],
    )


def account(django_user_model, *, staff: bool = False, granted: bool = False):
    user = django_user_model.objects.create_user(f"u-{uuid.uuid4().hex[:8]}", is_staff=staff)
    if granted:
        app, codename = PERMISSION.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    return user


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_visitor_is_sent_to_log_in_and_the_api_asks_for_credentials():
    page = browser().get(PAGE)

    assert page.status_code == 302 and page["Location"] == "/account/login/?next=/sales/"
    response = api().get(API)
    assert response.status_code == 401 and "42.00" not in response.content.decode()


@pytest.mark.parametrize("staff", [False, True], ids=["customer", "staff-without-grant"])
def test_an_account_without_the_permission_is_refused_everywhere(django_user_model, staff):
    user = account(django_user_model, staff=staff)

    assert browser(user).get(PAGE).status_code == 403
    response = api(user).get(API)
    assert response.status_code == 403
    assert PERMISSION in response.json()["detail"]
    # The admin sends a customer to its login page, and refuses staff without the grant.
    assert browser(user).get(ADMIN).status_code == (403 if staff else 302)
    assert 'href="/sales/"' not in browser(user).get("/").content.decode()


def test_staff_with_the_permission_see_the_figures(django_user_model):
    user = account(django_user_model, staff=True, granted=True)

    page = browser(user).get(PAGE)
    assert page.status_code == 200 and "€42.00" in page.content.decode()
    figures = api(user).get(API).json()
    assert [p["revenue"] for p in figures["products"]] == ["42.00"]
    assert browser(user).get(ADMIN).status_code == 200
    assert 'href="/sales/"' in browser(user).get("/").content.decode()


def test_the_demo_opens_the_figures_to_anyone(settings):
    settings.SALES_FIGURES_PUBLIC = True

    assert "€42.00" in browser().get(PAGE).content.decode()
    assert api().get(API).json()["products"][0]["revenue"] == "42.00"
    assert 'href="/sales/"' in browser().get("/").content.decode()


@pytest.mark.parametrize("public", [False, True], ids=["production", "demo"])
def test_the_api_schema_says_who_may_read_the_figures(settings, public):
    settings.SALES_FIGURES_PUBLIC = public

    schema = yaml.safe_load(APIClient().get("/api/schema/").content)

    operation = schema["paths"][API]["get"]
    assert PERMISSION in operation["description"]
    assert {"401", "403"} <= set(operation["responses"])
    anonymous = {} in operation["security"]
    assert anonymous is public
