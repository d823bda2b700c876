from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0019_retention_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="traceparent",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="tracestate",
            field=models.TextField(blank=True),
        ),
    ]
