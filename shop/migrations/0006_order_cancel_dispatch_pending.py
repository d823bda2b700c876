"""Order.cancel_dispatch_pending: the shop awaits the warehouse's answer to its
CancelDispatch. Orders that are cancelling await it now."""

from django.db import migrations, models


def cancelling_orders_await_the_answer(apps, schema_editor):
    # An order is cancelling only once it asked the warehouse to stop the parcel.
    apps.get_model("shop", "Order").objects.filter(status="cancelling").update(
        cancel_dispatch_pending=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0005_erased_orders"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="cancel_dispatch_pending",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(cancelling_orders_await_the_answer, migrations.RunPython.noop),
    ]
