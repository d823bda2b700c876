from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('warehouse', '0002_reservation_address_reservation_carrier_and_more'),
    ]

    operations = [
        migrations.CreateModel(
            name='ErasedOrder',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('order_id', models.UUIDField(unique=True)),
                ('erased_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]
