"""Orders need a signed-in customer: a token, or the storefront's session with its CSRF."""

import pytest
from rest_framework.test import APIClient

from messaging.models import OutboxMessage
from tests.factories import product

from .conftest import place

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/orders/"),
        ("post", "/api/orders/"),
        ("get", "/api/orders/00000000-0000-0000-0000-000000000000/"),
        ("post", "/api/orders/00000000-0000-0000-0000-000000000000/cancel/"),
    ],
)
def test_anonymous_callers_are_asked_to_authenticate(method, path):
    product("MUG-001")

    response = getattr(APIClient(), method)(path, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["detail"] == "Authentication credentials were not provided."
    assert not OutboxMessage.objects.exists()


def test_a_bad_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get("/api/orders/")

    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


def test_a_customer_gets_a_token_with_their_password_and_uses_it(customer):
    client = APIClient()

    response = client.post(
        "/api/auth/token/", {"username": customer.username, "password": "analytical-engine"}
    )
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")

    assert response.status_code == 200
    assert client.get("/api/orders/").status_code == 200


def test_a_wrong_password_gets_no_token(customer):
    response = APIClient().post(
        "/api/auth/token/", {"username": customer.username, "password": "wrong"}
    )

    assert response.status_code == 400
    assert "token" not in response.json()
    assert response.json()["non_field_errors"] == ["Unable to log in with provided credentials."]


def test_the_storefront_session_works_and_needs_its_csrf_token(customer):
    product("MUG-001")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(customer)

    listed = client.get("/api/orders/")
    forged = place(client)

    assert listed.status_code == 200
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["detail"]
    assert not OutboxMessage.objects.exists()
