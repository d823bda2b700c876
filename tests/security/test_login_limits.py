"""Password guessing at the storefront's and the admin's login: 429 past 10 failures in a
window, per client address and per username; a right password is never held against you.
"""

import pytest
import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.test import Client

from shop import login_limits

pytestmark = pytest.mark.django_db

LOGINS = ["/account/login/", "/admin/login/"]
PASSWORD = "analytical-engine"


@pytest.fixture
def staff(django_user_model):
    # Staff, so that the same account can log in to both the storefront and the admin.
    return django_user_model.objects.create_user(
        username="ada-staff", password=PASSWORD, is_staff=True
    )


def log_in(client: Client, url: str, username: str, password: str, address="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, url, times: int, *, username="ada-staff", address="10.0.0.1") -> list[int]:
    return [log_in(client, url, username, "wrong", address).status_code for _ in range(times)]


@pytest.mark.parametrize("url", LOGINS)
def test_the_eleventh_failure_from_one_address_is_a_429_page(url, staff):
    client = Client()

    answers = fail(client, url, 10, username="nobody") + fail(client, url, 1, username="other")

    assert answers == [200] * 10 + [429]
    page = log_in(client, url, "someone-else", "anything")
    assert page.status_code == 429
    assert "Too many attempts to log in" in page.content.decode()
    assert int(page["Retry-After"]) == login_limits.WINDOW


@pytest.mark.parametrize("url", LOGINS)
def test_guesses_at_one_username_from_many_addresses_are_limited(url, staff):
    client = Client()

    answers = [fail(client, url, 1, address=f"10.0.1.{n}")[0] for n in range(11)]

    assert answers == [200] * 10 + [429]
    # The right password too: past the limit nothing is checked, so nothing is learnt.
    refused = log_in(client, url, "ada-staff", PASSWORD, address="10.0.2.1")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("url", LOGINS)
def test_a_right_password_below_the_limit_logs_in_and_clears_the_username_count(url, staff):
    client = Client()
    fail(client, url, 9)

    success = log_in(client, url, "ada-staff", PASSWORD)

    assert success.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)
    # Nine more failures from elsewhere are not the username's tenth and eleventh.
    assert fail(Client(), url, 9, address="10.0.3.1") == [200] * 9


def test_a_success_does_not_clear_the_address_count(staff, django_user_model):
    django_user_model.objects.create_user(username="mallory", password="own-password")
    client = Client()
    fail(client, "/account/login/", 10, username="victim")

    # A guesser's own valid account must not reset the guesses from their address.
    assert log_in(client, "/account/login/", "mallory", "own-password").status_code == 429


def test_other_addresses_and_usernames_are_not_held_back(staff):
    fail(Client(), "/account/login/", 10, username="nobody", address="10.0.0.1")

    assert log_in(Client(), "/account/login/", "ada-staff", PASSWORD, "10.0.0.2").status_code == 302


def test_the_counts_expire_with_their_window_and_logging_in_works_again(staff):
    client = Client()
    fail(client, "/account/login/", 10)
    keys = login_limits.counter_keys("10.0.0.1", "ada-staff")
    server = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])

    remaining = [server.ttl(cache.make_key(key)) for key in keys]
    assert all(0 < seconds <= login_limits.WINDOW for seconds in remaining)
    assert log_in(client, "/account/login/", "ada-staff", PASSWORD).status_code == 429

    for key in keys:  # the window ends: Redis expires the counts, as it will on its own
        cache.touch(key, timeout=0)

    assert log_in(client, "/account/login/", "ada-staff", PASSWORD).status_code == 302


def test_a_failure_once_the_window_has_closed_opens_a_new_one(staff, monkeypatch):
    # The count expired between `add` and `incr`: incr finds nothing and the count restarts.
    monkeypatch.setattr(caches["default"], "add", lambda *args, **kwargs: False)

    fail(Client(), "/account/login/", 1)

    assert cache.get(login_limits.counter_keys("10.0.0.1", None)[0]) == 1


def test_the_page_to_ask_again_is_only_for_posts(staff):
    fail(Client(), "/account/login/", 11)

    assert Client().get("/account/login/", REMOTE_ADDR="10.0.0.1").status_code == 200
