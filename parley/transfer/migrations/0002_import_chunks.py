# Per-chunk bookkeeping instead of a row per number (see ImportChunk). An
# import running across the deploy keeps its numbers: they become one chunk
# row per import, with no words owed (the trigger wrote them).

import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models


# Every tenant's rows: under FORCE ROW LEVEL SECURITY the migration sees none
# without the cross-tenant setting (transaction-local).
CARRY_OVER = """
SELECT set_config('parley.cross_tenant', 'on', true);
INSERT INTO transfer_importchunk
    (workspace_id, contact_import_id, first_row, wa_ids, row_numbers, created_ids, words_done)
SELECT workspace_id, contact_import_id, 0, array_agg(wa_id), array_agg(row_number), '{}', true
FROM transfer_importkey GROUP BY workspace_id, contact_import_id;
SELECT set_config('parley.cross_tenant', '', true);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('tenancy', '0002_mark_read_on_open'),
        ('transfer', '0001_initial'),
        ('search', '0004_contact_terms_deferrable'),
    ]

    operations = [
        migrations.CreateModel(
            name='ImportChunk',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('first_row', models.IntegerField()),
                ('wa_ids', django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), default=list, size=None)),
                ('row_numbers', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, size=None)),
                ('created_ids', django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), default=list, size=None)),
                ('words_done', models.BooleanField(default=False)),
                ('contact_import', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='transfer.contactimport')),
                ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace')),
            ],
        ),
        migrations.RunSQL(CARRY_OVER, migrations.RunSQL.noop),
        migrations.DeleteModel(
            name='ImportKey',
        ),
        migrations.AddConstraint(
            model_name='importchunk',
            constraint=models.UniqueConstraint(fields=('workspace', 'contact_import', 'first_row'), name='importchunk_unique'),
        ),
    ]
