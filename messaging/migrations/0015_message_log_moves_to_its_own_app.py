"""The message log moves to its own app (messagelog); its table stays where it is.

State only: the table `messaging_messagerecord` keeps its name and its rows, and
messagelog's first migration takes the model over.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("messaging", "0014_broker_losses"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Conversation"),
                migrations.DeleteModel(name="Operations"),
                migrations.DeleteModel(name="MessageRecord"),
            ],
            database_operations=[],
        ),
    ]
