# The outbox (Delivery, DeliveryAttempt) and the signal receipts belong to the
# case hub now (casehub 0001 takes them over with their tables): they leave this
# app's state only; nothing changes in the database here.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0004_case_hub"),
        ("casehub", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="delivery", name="connection"),
                migrations.RemoveField(model_name="delivery", name="report"),
                migrations.RemoveField(model_name="deliveryattempt", name="delivery"),
                migrations.RemoveField(model_name="signalreceipt", name="connection"),
                migrations.RemoveField(model_name="signalreceipt", name="event"),
                migrations.RemoveField(model_name="signalreceipt", name="report"),
                migrations.DeleteModel(name="Delivery"),
                migrations.DeleteModel(name="DeliveryAttempt"),
                migrations.DeleteModel(name="SignalReceipt"),
            ],
        ),
    ]
