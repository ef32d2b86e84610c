"""Before every grant must name its decision (0004): delete the grants that name none.

Nothing can justify them — consent.services writes a grant only as a decision's effect —
and deleting fails closed: at worst a carer stops seeing an item until
`python manage.py check_consent_permissions --repair` (or `consent_sync_carer`) grants it
again from what the decisions say, this time with the decision that justifies it.
Not reversible: a grant without a decision is not something to put back.
"""

from django.db import migrations


def delete_grants_without_decision(apps, schema_editor):
    Grant = apps.get_model("consent", "PlanItemUserObjectPermission")
    deleted, _ = Grant.objects.using(schema_editor.connection.alias).filter(
        decision__isnull=True).delete()
    if deleted:
        print(f"\n  Deleted {deleted} consent grant(s) that named no decision; run "
              "`manage.py check_consent_permissions --repair` to grant again what the "
              "decisions say.")


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_decision_scope_constraints")]

    operations = [
        migrations.RunPython(delete_grants_without_decision, migrations.RunPython.noop),
    ]
