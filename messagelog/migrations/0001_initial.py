"""The message log, taken over from the messaging app with its table and its rows.

State only, plus the content types (and so the permissions given to staff) of the models
that moved, renamed in place.
"""

import django.db.models.fields.json
import django.db.models.functions.text
from django.db import migrations, models


MOVED = {
    "messagerecord": "messagerecord",
    "conversation": "conversationspage",
    "operations": "operationspage",
}


def move_content_types(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    for old, new in MOVED.items():
        content_types.objects.filter(app_label="messaging", model=old).update(
            app_label="messagelog", model=new
        )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("messaging", "0015_message_log_moves_to_its_own_app"),
    ]

    operations = [
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
        migrations.CreateModel(
            name='OperationsPage',
            fields=[
            ],
            options={
                'verbose_name': 'operations',
                'verbose_name_plural': 'operations',
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('messaging.outboxmessage',),
        ),
        migrations.CreateModel(
            name='MessageRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('topic', models.CharField(max_length=200)),
                ('partition', models.IntegerField()),
                ('offset', models.BigIntegerField()),
                ('record_timestamp', models.BigIntegerField(default=0)),
                ('key', models.CharField(blank=True, max_length=200)),
                ('message_id', models.UUIDField(db_index=True, null=True)),
                ('type', models.CharField(blank=True, max_length=200)),
                ('source', models.CharField(blank=True, max_length=50)),
                ('kind', models.CharField(blank=True, max_length=10)),
                ('correlation_id', models.UUIDField(db_index=True, null=True)),
                ('causation_id', models.UUIDField(null=True)),
                ('time', models.DateTimeField(null=True)),
                ('headers', models.JSONField(default=dict)),
                ('payload', models.JSONField(null=True)),
                ('raw_value', models.TextField(blank=True)),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name': 'message',
                'verbose_name_plural': 'message log',
                'db_table': 'messaging_messagerecord',
                'ordering': ['time', 'id'],
                'indexes': [models.Index(fields=['key'], name='messaging_m_key_4f6179_idx'), models.Index(fields=['time'], name='messaging_m_time_7b1493_idx'), models.Index(fields=['key'], name='message_key_prefix_idx', opclasses=['varchar_pattern_ops']), models.Index(django.db.models.functions.text.Lower(django.db.models.fields.json.KeyTextTransform('email', django.db.models.fields.json.KeyTextTransform('customer', 'payload'))), condition=models.Q(('payload__has_key', 'customer')), name='message_customer_email_idx')],
                'constraints': [models.UniqueConstraint(fields=('topic', 'partition', 'offset', 'record_timestamp'), name='message_record_once')],
            },
        ),
        migrations.CreateModel(
            name='ConversationsPage',
            fields=[
            ],
            options={
                'verbose_name': 'conversation',
                'verbose_name_plural': 'conversations',
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('messagelog.messagerecord',),
        ),
        ]),
    ]
