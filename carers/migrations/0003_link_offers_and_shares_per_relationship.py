# Security issue 13, point 1 (ADR 0009): carer relationships with a carer who already
# had a record are offered and active only once accepted; a carer's needs, check-ins and
# assessment requests are shared per relationship. What was shared before keeps exactly
# the reach it had: through each relationship active at the time of this migration.

from django.db import migrations, models


def shares_per_relationship(apps, schema_editor):
    relationship_model = apps.get_model("carers", "CarerRelationship")
    active = {}
    for pk, carer_id in relationship_model._base_manager.filter(
        ended_on__isnull=True
    ).values_list("pk", "carer_id"):
        active.setdefault(carer_id, []).append(pk)
    for name in ("CarerNeeds", "WellbeingCheckIn"):
        model = apps.get_model("carers", name)
        for row in model._base_manager.filter(shared_with_coordinator=True):
            row.shared_with.set(active.get(row.carer_id, []))
    # Every request used to go to the coordinators of everyone the carer cared for.
    for row in apps.get_model("carers", "AssessmentRequest")._base_manager.all():
        row.shared_with.set(active.get(row.carer_id, []))


class Migration(migrations.Migration):

    dependencies = [
        ('carers', '0002_assessmentrequest_carerinsight_carerneeds_and_more'),
    ]

    operations = [
        migrations.AddField(
            model_name='assessmentrequest',
            name='shared_with',
            field=models.ManyToManyField(blank=True, related_name='+', to='carers.carerrelationship'),
        ),
        migrations.AddField(
            model_name='carerneeds',
            name='shared_with',
            field=models.ManyToManyField(blank=True, related_name='+', to='carers.carerrelationship'),
        ),
        migrations.AddField(
            model_name='carerrelationship',
            name='responded_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='carerrelationship',
            name='status',
            field=models.CharField(choices=[('active', 'Active'), ('offered', 'Waiting for them to accept'), ('declined', 'Declined')], default='active', max_length=10),
        ),
        migrations.AddField(
            model_name='wellbeingcheckin',
            name='shared_with',
            field=models.ManyToManyField(blank=True, related_name='+', to='carers.carerrelationship'),
        ),
        migrations.RunPython(shares_per_relationship, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='carerneeds',
            name='shared_with_coordinator',
        ),
        migrations.RemoveField(
            model_name='wellbeingcheckin',
            name='shared_with_coordinator',
        ),
    ]
