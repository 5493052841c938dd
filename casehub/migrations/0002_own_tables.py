# The moved models' tables get this app's names, and their content types move
# with them (so that anything recorded against them stays attached).

from django.db import migrations

MOVED = ("delivery", "deliveryattempt", "signalreceipt")


def content_types_to_casehub(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(
        ContentType.objects.filter(app_label="casehub", model__in=MOVED).values_list(
            "model", flat=True
        )
    )
    ContentType.objects.filter(app_label="reports", model__in=MOVED).exclude(
        model__in=taken
    ).update(app_label="casehub")


def content_types_to_reports(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="casehub", model__in=MOVED).update(
        app_label="reports"
    )


class Migration(migrations.Migration):

    dependencies = [
        ("casehub", "0001_initial"),
        ("reports", "0005_outbox_to_casehub"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelTable(name="delivery", table=None),
        migrations.AlterModelTable(name="deliveryattempt", table=None),
        migrations.AlterModelTable(name="signalreceipt", table=None),
        migrations.RunPython(content_types_to_casehub, content_types_to_reports),
    ]
