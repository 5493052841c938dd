"""Wagtail starts with a "Moderators approval" workflow on the whole page tree,
approved by its national "Moderators" group. Kommun sites choose moderation
for themselves (cms.services.municipality_moderation_set, each kommun's own
workflow on its site root); the tree-wide default would have every editor
submit pages to a group no kommun is in. It is taken off the tree (the
workflow itself stays, for the national administrator to reuse)."""

from django.db import migrations


def unassign_default_workflow(apps, schema_editor):
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    WorkflowPage.objects.filter(page__depth=1).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0005_blocks_and_news"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.RunPython(unassign_default_workflow, migrations.RunPython.noop),
    ]
