"""Indexes the purge walks, oldest rows first (messaging.retention).

Built CONCURRENTLY: on a database that already holds months of rows a plain CREATE INDEX
would block the relay and every consumer while it runs.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("messaging", "0018_erased_keys"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="handlingfailure",
            index=models.Index(fields=["failed_at"], name="failure_time_idx"),
        ),
        AddIndexConcurrently(
            model_name="inboxentry",
            index=models.Index(fields=["started_at"], name="inbox_started_idx"),
        ),
        AddIndexConcurrently(
            model_name="outboxmessage",
            index=models.Index(fields=["time"], name="outbox_time_idx"),
        ),
    ]
