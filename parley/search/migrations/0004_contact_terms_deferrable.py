# A contact import writes its new contacts' words after each chunk, on a
# second connection, instead of inside the chunk (parley.transfer.words): the
# words cost the database more than the contacts, and apart the two overlap.
# The import asks for that with a transaction-local setting around its own
# INSERT; every other insert (API, inbox, ingest function) sets nothing and
# keeps its words from this trigger, in its own transaction, as before.

from django.db import migrations

CONTACT_KIND = 1

FORWARD = f"""
CREATE OR REPLACE FUNCTION parley_contact_terms_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('parley.contact_terms', true) = 'deferred' THEN
        RETURN NULL;
    END IF;
    INSERT INTO core_searchterm (workspace_id, kind, object_id, term)
    SELECT n.workspace_id, {CONTACT_KIND}, n.id, t
    FROM new_rows n,
         parley_contact_terms(n.name, n.profile_name, n.email, n.wa_id, n.attributes) AS t;
    RETURN NULL;
END $$;
"""

BACKWARD = f"""
CREATE OR REPLACE FUNCTION parley_contact_terms_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO core_searchterm (workspace_id, kind, object_id, term)
    SELECT n.workspace_id, {CONTACT_KIND}, n.id, t
    FROM new_rows n,
         parley_contact_terms(n.name, n.profile_name, n.email, n.wa_id, n.attributes) AS t;
    RETURN NULL;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0003_contact_update_skips_unsearched")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
