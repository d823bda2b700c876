"""Sales figures per currency (OrderPlaced version 2 carries Money).

Rows and stored lines from before were in the shop's one currency, SHOP_CURRENCY, as the
OrderPlaced upcaster assumes for version 1 records.
"""

from django.conf import settings
from django.db import migrations, models


def in_shop_currency(apps, schema_editor):
    currency = settings.SHOP_CURRENCY
    apps.get_model("sales", "DailyProductSales").objects.update(currency=currency)
    SaleRecord = apps.get_model("sales", "SaleRecord")
    for record in SaleRecord.objects.iterator():
        lines = [
            line
            if isinstance(line.get("unit_price"), dict)
            else {**line, "unit_price": {"amount": line["unit_price"], "currency": currency}}
            for line in record.lines
        ]
        if lines != record.lines:
            SaleRecord.objects.filter(pk=record.pk).update(lines=lines)


class Migration(migrations.Migration):
    dependencies = [("sales", "0002_cancellation_before_placement")]

    operations = [
        migrations.AddField(
            model_name="dailyproductsales",
            name="currency",
            field=models.CharField(max_length=3, default=""),
            preserve_default=False,
        ),
        migrations.RunPython(in_shop_currency, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="dailyproductsales", name="one_row_per_product_and_day"
        ),
        migrations.AddConstraint(
            model_name="dailyproductsales",
            constraint=models.UniqueConstraint(
                fields=("day", "sku", "currency"), name="one_row_per_product_day_and_currency"
            ),
        ),
    ]
