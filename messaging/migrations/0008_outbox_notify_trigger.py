"""The outbox wakes the relay from the database itself: a statement-level trigger.

Before, `outbox.send` ran `SELECT pg_notify(...)` after each INSERT: one more round trip
per message, in every BUY and every handler. PostgreSQL folds identical notifications of
one transaction into one and delivers it at commit (none on rollback), so the trigger
costs no round trip and wakes the relay once per transaction.
"""

from django.db import migrations

CHANNEL = "messaging_outbox"  # messaging.outbox.NOTIFY_CHANNEL, as it was when written

CREATE = f"""
CREATE FUNCTION messaging_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER messaging_outbox_notify
    AFTER INSERT ON messaging_outboxmessage
    FOR EACH STATEMENT EXECUTE FUNCTION messaging_outbox_notify();
"""

DROP = """
DROP TRIGGER messaging_outbox_notify ON messaging_outboxmessage;
DROP FUNCTION messaging_outbox_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("messaging", "0007_parked_queue_in_written_order")]

    operations = [migrations.RunSQL(CREATE, DROP)]
