from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('carecoord', '0007_export'),
    ]

    operations = [
        migrations.AddField(
            model_name='notification',
            name='group',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name='notification',
            name='count',
            field=models.PositiveIntegerField(default=1),
        ),
    ]
