"""Give records parked before 0007 their write time, so they keep their place in the queue.

From the CloudEvent's `ce_time` header as stored, else Kafka's timestamp; a record with
neither keeps none and is handled first (messaging.parking._queue).
"""

import base64
from datetime import UTC, datetime

from django.db import migrations


def written_at(parked):
    for name, value in parked.raw_headers:
        if name == "ce_time":
            try:
                return datetime.fromisoformat(base64.b64decode(value).decode())
            except ValueError:
                break
    if parked.record_timestamp:
        return datetime.fromtimestamp(parked.record_timestamp / 1000, UTC)
    return None


def backfill(apps, schema_editor):
    ParkedRecord = apps.get_model("messaging", "ParkedRecord")
    for parked in ParkedRecord.objects.filter(written_at=None).iterator():
        parked.written_at = written_at(parked)
        if parked.written_at is not None:
            parked.save(update_fields=["written_at"])


class Migration(migrations.Migration):
    dependencies = [("messaging", "0008_outbox_notify_trigger")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
