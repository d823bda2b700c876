"""The API's idempotency keys in the purge: kept for their window, whatever their order."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from messaging import retention
from shop.models import IdempotencyKey

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def a_key(account: User, key: str, *, age: timedelta) -> IdempotencyKey:
    row = IdempotencyKey.objects.create(
        account=account,
        key=key,
        order_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        request_fingerprint="f",
    )
    IdempotencyKey.objects.filter(pk=row.pk).update(created_at=NOW - age)  # auto_now_add
    return row


def test_a_key_a_client_may_still_retry_with_survives_the_purge(settings):
    settings.MESSAGING = {**settings.MESSAGING, "RETAIN_IDEMPOTENCY_KEYS": "2d"}
    account = User.objects.create_user("ada")
    forgotten = a_key(account, "k1", age=timedelta(days=2, minutes=1))
    retried_tomorrow = a_key(account, "k2", age=timedelta(days=1, hours=23))

    report = retention.purge(now=NOW, tables=["idempotency keys"])

    kept = IdempotencyKey.objects.get()
    assert (kept.pk, kept.key) == (retried_tomorrow.pk, "k2")
    assert not IdempotencyKey.objects.filter(pk=forgotten.pk).exists()
    [table] = report.tables
    assert (table.deleted, table.oldest_kept) == (1, kept.created_at)
