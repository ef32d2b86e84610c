from django.db import migrations, models


def copy_preferred_names(apps, schema_editor):
    """People already named on their record or carer record are greeted by that name."""
    User = apps.get_model("carecoord", "User")
    ServiceUser = apps.get_model("carecoord", "ServiceUser")
    Carer = apps.get_model("carers", "Carer")
    for model in (ServiceUser, Carer):
        rows = (model._base_manager.exclude(user=None).exclude(preferred_name="")
                .values_list("user_id", "preferred_name"))
        for user_id, preferred_name in rows.iterator():
            User._base_manager.filter(pk=user_id, preferred_name="").update(
                preferred_name=preferred_name[:100])


class Migration(migrations.Migration):

    dependencies = [
        ('carecoord', '0014_access_events_partitioned_by_month'),
        ('carers', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='preferred_name',
            field=models.CharField(blank=True, max_length=100, verbose_name='name you would like us to use'),
        ),
        migrations.RunPython(copy_preferred_names, migrations.RunPython.noop),
    ]
