from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0005_segment_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["workspace", "id"], name="contact_ws_id_idx"),
        ),
    ]
