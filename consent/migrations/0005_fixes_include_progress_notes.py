from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("consent", "0004_grant_decision_required")]

    operations = [
        migrations.AddField(
            model_name="consentdecision",
            name="include_progress_notes",
            field=models.BooleanField(default=False),
        ),
    ]
