# Keep core_searchterm in step with contacts and messages, in the database, so
# every writer (the ORM, the ingest function, bulk imports) is covered and the
# words commit or roll back with their row. Statement-level triggers with
# transition tables: a bulk insert of 10,000 rows costs one INSERT of terms.

from django.db import migrations

CONTACT_KIND = 1
MESSAGE_KIND = 2

FORWARD = f"""
CREATE FUNCTION parley_contact_terms(
    name text, profile_name text, email text, wa_id text, attributes jsonb
) RETURNS SETOF text LANGUAGE sql IMMUTABLE AS $$
    SELECT DISTINCT t FROM (
        SELECT left(unnest(tsvector_to_array(to_tsvector('simple'::regconfig,
            name || ' ' || profile_name || ' ' || email || ' ' || replace(email, '@', ' ')
            || ' ' || coalesce(
            (SELECT string_agg(v, ' ') FROM jsonb_each_text(attributes) AS a(k, v)), ''
        )
        ))), 60) AS t
        -- The number in digits, country code first; a number typed without its
        -- country code is looked up with the workspace's (parley.crm.search).
        UNION ALL SELECT wa_id
    ) words WHERE t <> ''
$$;

CREATE FUNCTION parley_message_terms(body text) RETURNS SETOF text LANGUAGE sql IMMUTABLE AS $$
    SELECT DISTINCT left(t, 60) FROM unnest(
        tsvector_to_array(to_tsvector('simple'::regconfig, left(body, 4000)))
    ) AS t WHERE t <> ''
$$;

CREATE FUNCTION parley_contact_terms_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO core_searchterm (workspace_id, kind, object_id, term)
    SELECT n.workspace_id, {CONTACT_KIND}, n.id, t
    FROM new_rows n,
         parley_contact_terms(n.name, n.profile_name, n.email, n.wa_id, n.attributes) AS t;
    RETURN NULL;
END $$;

CREATE FUNCTION parley_contact_terms_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Most updates (last_inbound_at on every message) change no searchable
    -- column; for the others, drop the words that went and add the new ones.
    DELETE FROM core_searchterm s USING (
        SELECT o.workspace_id, o.id, t
        FROM old_rows o JOIN new_rows n ON n.id = o.id,
             parley_contact_terms(o.name, o.profile_name, o.email, o.wa_id, o.attributes) AS t
        WHERE (o.name, o.profile_name, o.email, o.wa_id, o.attributes)
                IS DISTINCT FROM (n.name, n.profile_name, n.email, n.wa_id, n.attributes)
            AND t NOT IN (
                SELECT parley_contact_terms(n.name, n.profile_name, n.email, n.wa_id, n.attributes)
            )
    ) AS gone
    WHERE s.workspace_id = gone.workspace_id AND s.kind = {CONTACT_KIND} AND s.term = gone.t
        AND s.object_id = gone.id;
    INSERT INTO core_searchterm (workspace_id, kind, term, object_id)
    SELECT n.workspace_id, {CONTACT_KIND}, t, n.id
    FROM new_rows n JOIN old_rows o ON o.id = n.id,
         parley_contact_terms(n.name, n.profile_name, n.email, n.wa_id, n.attributes) AS t
    WHERE (o.name, o.profile_name, o.email, o.wa_id, o.attributes)
        IS DISTINCT FROM (n.name, n.profile_name, n.email, n.wa_id, n.attributes)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION parley_contact_terms_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The words are recomputed from the deleted rows, so the primary key
    -- finds them: no second index on the word table.
    DELETE FROM core_searchterm s USING old_rows o,
        parley_contact_terms(o.name, o.profile_name, o.email, o.wa_id, o.attributes) AS t
    WHERE s.workspace_id = o.workspace_id AND s.kind = {CONTACT_KIND} AND s.term = t
        AND s.object_id = o.id;
    RETURN NULL;
END $$;

CREATE FUNCTION parley_message_terms_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO core_searchterm (workspace_id, kind, object_id, term)
    SELECT n.workspace_id, {MESSAGE_KIND}, n.id, t
    FROM new_rows n, parley_message_terms(n.text) AS t
    WHERE n.text <> '';
    RETURN NULL;
END $$;

CREATE FUNCTION parley_message_terms_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM core_searchterm s USING old_rows o, parley_message_terms(o.text) AS t
    WHERE s.workspace_id = o.workspace_id AND s.kind = {MESSAGE_KIND} AND s.term = t
        AND s.object_id = o.id AND o.text <> '';
    RETURN NULL;
END $$;

CREATE TRIGGER contact_terms_insert AFTER INSERT ON crm_contact
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_contact_terms_insert();
CREATE TRIGGER contact_terms_update AFTER UPDATE ON crm_contact
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_contact_terms_update();
CREATE TRIGGER contact_terms_delete AFTER DELETE ON crm_contact
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_contact_terms_delete();
CREATE TRIGGER message_terms_insert AFTER INSERT ON inbox_message
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_message_terms_insert();
CREATE TRIGGER message_terms_delete AFTER DELETE ON inbox_message
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_message_terms_delete();

-- Rows that existed before this migration.
INSERT INTO core_searchterm (workspace_id, kind, object_id, term)
SELECT c.workspace_id, {CONTACT_KIND}, c.id, t FROM crm_contact c,
       parley_contact_terms(c.name, c.profile_name, c.email, c.wa_id, c.attributes) AS t;
INSERT INTO core_searchterm (workspace_id, kind, object_id, term)
SELECT m.workspace_id, {MESSAGE_KIND}, m.id, t FROM inbox_message m,
       parley_message_terms(m.text) AS t WHERE m.text <> '';
"""

BACKWARD = """
DROP TRIGGER contact_terms_insert ON crm_contact;
DROP TRIGGER contact_terms_update ON crm_contact;
DROP TRIGGER contact_terms_delete ON crm_contact;
DROP TRIGGER message_terms_insert ON inbox_message;
DROP TRIGGER message_terms_delete ON inbox_message;
DROP FUNCTION parley_contact_terms_insert();
DROP FUNCTION parley_contact_terms_update();
DROP FUNCTION parley_contact_terms_delete();
DROP FUNCTION parley_message_terms_insert();
DROP FUNCTION parley_message_terms_delete();
DROP FUNCTION parley_contact_terms(text, text, text, text, jsonb);
DROP FUNCTION parley_message_terms(text);
DELETE FROM core_searchterm;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_initial"),
        ("core", "0001_search_terms"),
        ("crm", "0004_contact_events"),
        ("inbox", "0003_conversation_tags"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
