"""The access-events report and its CSV read a team's events newest first and page by
(occurred_at, id) (keyset pagination, ADR 0027): one index on both columns gives that
order and the page boundary, and replaces the one on occurred_at alone. On the partitioned
table (0014) an index on the parent makes one on every partition, present and future."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("carecoord", "0015_user_preferred_name"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="accessevent",
            name="accessevent_occurred_at",
        ),
        migrations.AddIndex(
            model_name="accessevent",
            index=models.Index(fields=["occurred_at", "id"], name="accessevent_occurred_at_id"),
        ),
    ]
