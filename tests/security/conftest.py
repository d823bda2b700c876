"""Customers to attack the shop as, and rate-limit counts that start at zero per test."""

import uuid

import pytest


@pytest.fixture(autouse=True)
def own_cache_namespace(settings):
    # Login failures and API throttles count in the shared Redis: a key prefix of its own per
    # test keeps counts from leaking between tests or runs, without flushing anything.
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": uuid.uuid4().hex}}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Checking a password costs the hasher's deliberate tenth of a second, and these tests
    # try hundreds: a fast hasher keeps them at seconds. What is tested is who may log in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def customer(django_user_model):
    return django_user_model.objects.create_user(
        username=f"ada-{uuid.uuid4().hex[:8]}", password="analytical-engine"
    )


@pytest.fixture
def other_customer(django_user_model):
    return django_user_model.objects.create_user(
        username=f"grace-{uuid.uuid4().hex[:8]}", password="compiler-of-cobol"
    )
