"""The plain index on `key` goes: the prefix index (varchar_pattern_ops) serves a key's
equality as well, and the audit group kept both up to date on every record it wrote.
Dropped CONCURRENTLY, so that the audit group goes on writing meanwhile."""

from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("messagelog", "0002_retention_index"),
    ]

    operations = [
        RemoveIndexConcurrently(
            model_name="messagerecord",
            name="messaging_m_key_4f6179_idx",
        ),
    ]
