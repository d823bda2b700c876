"""The index the purge walks, oldest records first (messagelog.retention); built
CONCURRENTLY so that the audit group goes on writing while it is built."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("messagelog", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="messagerecord",
            index=models.Index(fields=["recorded_at"], name="message_recorded_idx"),
        ),
    ]
