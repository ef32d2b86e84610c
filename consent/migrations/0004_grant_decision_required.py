"""Every grant names the decision it carries out (ADR 0008); decisions that still grant
cannot be deleted. 0003 removed the grants that named none."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("consent", "0003_delete_grants_without_decision")]

    operations = [
        migrations.AlterField(
            model_name="planitemuserobjectpermission",
            name="decision",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="consent.consentdecision"),
        ),
    ]
