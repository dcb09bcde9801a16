"""Create the one IndexState row that article changes bump."""

from django.db import migrations


def create_row(apps, schema_editor):
    IndexState = apps.get_model("knowledge", "IndexState")
    IndexState.objects.get_or_create(pk=1, defaults={"generation": 0})


def delete_row(apps, schema_editor):
    apps.get_model("knowledge", "IndexState").objects.filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_articles_feedback_search_log")]

    operations = [migrations.RunPython(create_row, delete_row)]
