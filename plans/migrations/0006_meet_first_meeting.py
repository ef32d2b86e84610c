"""The first meeting's draft (FirstMeeting), and items in the service user's own words
wherever they sit (PlanItem.own_words, written_by "said_by_service_user"). ADR 0017."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("plans", "0005_fixes_signed_history_triggers"),
        ("carecoord", "0008_todo_notification_group"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="planitem",
            name="own_words",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="planitem",
            name="written_by",
            field=models.CharField(
                choices=[
                    ("service_user", "Written by the service user"),
                    ("recorded_in_meeting", "Recorded by the care coordinator in a meeting"),
                    ("coordinator", "Written by the care coordinator"),
                    ("carer", "Written by a carer"),
                    ("suggestion_accepted",
                     "Suggested by the care coordinator, accepted by the service user"),
                    ("said_by_service_user",
                     "In the service user's words, recorded by the care coordinator"),
                ],
                max_length=30,
            ),
        ),
        migrations.CreateModel(
            name="FirstMeeting",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                           serialize=False, verbose_name="ID")),
                ("answers", models.JSONField(blank=True, default=dict)),
                ("started_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("episode", models.OneToOneField(
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="first_meeting", to="carecoord.episode")),
                ("finished_by", models.ForeignKey(
                    blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                    related_name="+", to=settings.AUTH_USER_MODEL)),
                ("plan", models.ForeignKey(
                    blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                    related_name="+", to="plans.plan")),
                ("started_by", models.ForeignKey(
                    null=True, on_delete=django.db.models.deletion.SET_NULL,
                    related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={"ordering": ["-started_at"]},
        ),
    ]
