"""Limits on password guessing at the storefront's and the admin's login pages and the
API's token endpoint (shop.api.tokens).

After LIMIT failed logins from one client address, or for one username from anywhere,
within WINDOW seconds of the first of them, the login answers 429 (a page saying when to try
again) without looking at the password, until the window is over. The counts live in the
shared cache (Redis), so every web process sees them, and expire with their window.

A success clears its username's count (the person got their password right) but never the
address's: otherwise one valid account would let a guesser reset their own count. The
username's limit lets anyone lock an account's login for a window; that is the price of
stopping guesses spread over many addresses, and the window keeps it short.

Written here rather than taken from django-axes, which brings models, middleware, an
authentication backend and a dozen settings for what these few functions do; and
django-ratelimit counts every request, while only a failure should count here.
"""

import hashlib
from functools import wraps

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle

LIMIT = 10
WINDOW = 5 * 60  # seconds


def client_address(request: HttpRequest) -> str:
    # The API's rule (REST_FRAMEWORK["NUM_PROXIES"]), so a client is one client everywhere.
    return BaseThrottle().get_ident(request)


def counter_keys(address: str, username: str | None) -> list[str]:
    keys = [f"login-failures:address:{address}"]
    if username:
        # Hashed: any text a client types becomes a short, safe key, and no username is kept.
        digest = hashlib.sha256(username.casefold().encode()).hexdigest()
        keys.append(f"login-failures:username:{digest}")
    return keys


def is_blocked(request: HttpRequest, username: str | None) -> bool:
    counts = cache.get_many(counter_keys(client_address(request), username))
    return any(count >= LIMIT for count in counts.values())


def record_failure(request: HttpRequest, username: str | None) -> None:
    for key in counter_keys(client_address(request), username):
        cache.add(key, 0, timeout=WINDOW)  # the first failure opens the window
        try:
            cache.incr(key)  # atomic, and keeps the window's expiry
        except ValueError:  # the window closed between the two calls: this opens a new one
            cache.set(key, 1, timeout=WINDOW)


def record_success(request: HttpRequest, username: str) -> None:
    _address, username_key = counter_keys(client_address(request), username)
    cache.delete(username_key)


class CountedLogin:
    """Mixed into an AuthenticationForm: counts each refused username and password."""

    def clean(self):
        username = self.cleaned_data.get("username")
        try:
            cleaned = super().clean()
        except ValidationError:
            record_failure(self.request, username)
            raise
        if username and self.get_user() is not None:
            record_success(self.request, username)
        return cleaned


class LoginForm(CountedLogin, AuthenticationForm):
    pass


class AdminLoginForm(CountedLogin, AdminAuthenticationForm):
    pass


def limited(login_view):
    """Wrap a login view: past the limit, a login attempt is answered 429 without a check."""

    @wraps(login_view)
    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST" and is_blocked(request, request.POST.get("username")):
            return too_many_attempts(request)
        return login_view(request, *args, **kwargs)

    return view


def too_many_attempts(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "registration/too_many_attempts.html",
        {"minutes": WINDOW // 60},
        status=429,
    )
    response["Retry-After"] = str(WINDOW)  # at most that long: the window began earlier
    return response
