# Bitmaps for the values of choice and yes/no attributes (kind 4, key
# "<attribute key>=<value>"), so "city is Braga or Porto" and "VIP is yes" are
# counted from bitmaps like tags: over a million contacts a condition on the
# attributes JSON read every contact (300 ms and more on two cores).
#
# Only those two types: their values are few. A text attribute could hold a
# different value per contact, a bitmap row for each. Which keys have bitmaps
# follows the workspace's attribute definitions: the contact triggers read
# them, and a definition created, changed or deleted rebuilds its key's bits.
# A value of another JSON type than its definition's (left from an earlier
# type) gets no bit, as the compiler's query does not match it either.

import importlib

from django.db import migrations, models

_FACTS = """
    SELECT {row}.workspace_id AS w, 4::smallint AS k,
           a.key || '=' || (a.value #>> '{{}}') AS key, {row}.id, {present} AS p
      FROM {source}
      CROSS JOIN LATERAL jsonb_each({row}.attributes) AS a(key, value)
      JOIN crm_attributedefinition d ON d.workspace_id = {row}.workspace_id AND d.key = a.key
     WHERE (d.type = 'choice' AND jsonb_typeof(a.value) = 'string')
        OR (d.type = 'boolean' AND jsonb_typeof(a.value) = 'boolean')"""


def _facts(source: str, row: str, present: str) -> str:
    """The attribute-value facts of the contacts ``source`` gives as ``row``."""
    return _FACTS.format(source=source, row=row, present=present)


FORWARD = f"""
CREATE OR REPLACE FUNCTION parley_contact_bits_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_bitmap_defer(array_agg(c.w), array_agg(c.k), array_agg(c.key),
                                array_agg(c.id), array_agg(true))
      FROM (SELECT n.workspace_id AS w, 0::smallint AS k, ''::text AS key, n.id FROM new_rows n
            UNION ALL
            SELECT n.workspace_id, 2::smallint, n.consent::text, n.id FROM new_rows n
            UNION ALL
            SELECT f.w, f.k, f.key, f.id FROM ({_facts("new_rows n", "n", "true")}) f) c;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION parley_contact_bits_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_bitmap_defer(array_agg(c.w), array_agg(c.k), array_agg(c.key),
                                array_agg(c.id), array_agg(false))
      FROM (SELECT o.workspace_id AS w, 0::smallint AS k, ''::text AS key, o.id FROM old_rows o
            UNION ALL
            SELECT o.workspace_id, 2::smallint, o.consent::text, o.id FROM old_rows o
            UNION ALL
            SELECT f.w, f.k, f.key, f.id FROM ({_facts("old_rows o", "o", "false")}) f) c;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION parley_contact_bits_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Most contact updates (last_inbound_at on every message, last_outbound_at
    -- on every send) leave consent and attributes alone: one hashed EXCEPT says so.
    IF NOT EXISTS (
        SELECT id, consent, attributes FROM new_rows
        EXCEPT SELECT id, consent, attributes FROM old_rows
    ) THEN
        RETURN NULL;
    END IF;
    -- A value kept across the update is both cleared and set: the write sets it.
    PERFORM parley_bitmap_defer(array_agg(c.w), array_agg(c.k), array_agg(c.key),
                                array_agg(c.id), array_agg(c.p))
      FROM (SELECT o.workspace_id AS w, 2::smallint AS k, o.consent::text AS key, o.id,
                   false AS p
              FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.consent <> o.consent
            UNION ALL
            SELECT n.workspace_id, 2::smallint, n.consent::text, n.id, true
              FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.consent <> o.consent
            UNION ALL
            {_facts("old_rows o JOIN new_rows n2 ON n2.id = o.id AND n2.attributes <> o.attributes", "o", "false")}
            UNION ALL
            {_facts("new_rows n JOIN old_rows o2 ON o2.id = n.id AND o2.attributes <> n.attributes", "n", "true")}
           ) c;
    RETURN NULL;
END $$;

-- One attribute's bits rebuilt from the contacts: when its definition is
-- created, changed or deleted (rare, and then the contacts' values decide).
-- The rows are written here, not queued: the definition's transaction holds
-- them until it commits.
CREATE FUNCTION parley_attribute_bits_rebuild(ws bigint, attribute text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM segments_contactbitmap
     WHERE workspace_id = ws AND kind = 4 AND split_part(key, '=', 1) = attribute;
    INSERT INTO segments_contactbitmap (workspace_id, kind, key, chunk, bits)
    SELECT f.w, 4, f.key, f.id >> 10, bit_or(parley_bit(f.id))
      FROM ({_facts("crm_contact c", "c", "true")}) f
     WHERE f.w = ws AND split_part(f.key, '=', 1) = attribute
     GROUP BY f.w, f.key, f.id >> 10;
END $$;

CREATE FUNCTION parley_attributedefinition_bits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM parley_attribute_bits_rebuild(OLD.workspace_id, OLD.key);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM parley_attribute_bits_rebuild(NEW.workspace_id, NEW.key);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER attributedefinition_bits AFTER INSERT OR DELETE ON crm_attributedefinition
    FOR EACH ROW EXECUTE FUNCTION parley_attributedefinition_bits();
-- A save that rewrites the row with the same key and type (a label edited)
-- leaves the bits alone: a rebuild reads every contact of the workspace.
CREATE TRIGGER attributedefinition_bits_update AFTER UPDATE OF key, type
    ON crm_attributedefinition
    FOR EACH ROW WHEN (OLD.key IS DISTINCT FROM NEW.key OR OLD.type IS DISTINCT FROM NEW.type)
    EXECUTE FUNCTION parley_attributedefinition_bits();

-- The values that existed before this migration, in every workspace.
SELECT set_config('parley.cross_tenant', 'on', true);
INSERT INTO segments_contactbitmap (workspace_id, kind, key, chunk, bits)
SELECT f.w, 4, f.key, f.id >> 10, bit_or(parley_bit(f.id))
  FROM ({_facts("crm_contact c", "c", "true")}) f
 GROUP BY f.w, f.key, f.id >> 10;
"""

# Backwards: the contact triggers' functions as migration 0002 made them.
_0002 = importlib.import_module("parley.segments.migrations.0002_contact_bitmaps").FORWARD
_OLD_CONTACT_FUNCTIONS = _0002[
    _0002.index("CREATE FUNCTION parley_contact_bits_insert") : _0002.index(
        "-- A contact has a tag at most once"
    )
].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")

BACKWARD = (
    """
DROP TRIGGER attributedefinition_bits ON crm_attributedefinition;
DROP TRIGGER attributedefinition_bits_update ON crm_attributedefinition;
DROP FUNCTION parley_attributedefinition_bits();
DROP FUNCTION parley_attribute_bits_rebuild(bigint, text);
SELECT set_config('parley.cross_tenant', 'on', true);
DELETE FROM segments_contactbitmap WHERE kind = 4;
"""
    + _OLD_CONTACT_FUNCTIONS
)


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0002_contact_bitmaps"),
        ("crm", "0008_inbound_index_covers_attributes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contactbitmap",
            name="key",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="contactbitmap",
            name="kind",
            field=models.SmallIntegerField(
                choices=[
                    (0, "Any contact"),
                    (1, "Tag"),
                    (2, "Consent"),
                    (3, "Has a conversation with status"),
                    (4, "Attribute value"),
                ]
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
