# Contact bitmaps (segments.models.ContactBitmap), kept by triggers on the
# tables they describe, applied when the writing transaction commits.
# Statement-level triggers with transition tables: an import chunk of 10,000
# contacts costs one queued row and one write per bitmap row it touches, not
# one per contact.
#
# Every write goes through parley_bitmap_write, which folds the contacts into
# masks per bitmap row, creates the rows that get a bit, locks them in key order
# (two writers never wait on each other in a cycle), then clears the bits of
# every contact it was given and sets those that are present. Where presence
# is not known from the change itself (a conversation's status; a tag row that
# moved), it is read after the lock, so a writer that committed meanwhile is
# seen.

import django.db.models.deletion
from django.db import migrations, models

import parley.segments.models

FORWARD = """
CREATE FUNCTION parley_bit(contact_id bigint) RETURNS bit(1024)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT set_bit(B'0'::bit(1024), (contact_id & 1023)::int, 1)::bit(1024)
$$;

-- Creates the rows named (each once) that will get a bit and do not exist yet,
-- then locks every one that exists, both in key order. A row is never created
-- only to clear bits in it: a deleted workspace's contacts clear theirs at
-- commit, after its bitmap rows (and the workspace) are gone.
CREATE FUNCTION parley_bitmap_lock(
    ws bigint[], kinds smallint[], keys text[], chunks bigint[], creating boolean[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO segments_contactbitmap (workspace_id, kind, key, chunk, bits)
    SELECT d.w, d.k, d.key, d.chunk, B'0'::bit(1024)
      FROM unnest(ws, kinds, keys, chunks, creating) AS d(w, k, key, chunk, c)
     WHERE d.c
     ORDER BY 1, 2, 3, 4
    ON CONFLICT (workspace_id, kind, key, chunk) DO NOTHING;
    PERFORM 1 FROM segments_contactbitmap b
      JOIN unnest(ws, kinds, keys, chunks) AS d(w, k, key, chunk)
        ON b.workspace_id = d.w AND b.kind = d.k AND b.key = d.key AND b.chunk = d.chunk
     ORDER BY b.workspace_id, b.kind, b.key, b.chunk
       FOR UPDATE OF b;
END $$;

CREATE FUNCTION parley_bitmap_write(
    ws bigint[], kinds smallint[], keys text[], ids bigint[], present boolean[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    g_ws bigint[];
    g_kinds smallint[];
    g_keys text[];
    g_chunks bigint[];
    g_touched bit(1024)[];
    g_present bit(1024)[];
BEGIN
    IF ids IS NULL THEN
        RETURN;
    END IF;
    -- One pass folds the contacts into a few rows of masks; the rest works on those.
    SELECT array_agg(d.w ORDER BY d.w, d.k, d.key, d.chunk),
           array_agg(d.k ORDER BY d.w, d.k, d.key, d.chunk),
           array_agg(d.key ORDER BY d.w, d.k, d.key, d.chunk),
           array_agg(d.chunk ORDER BY d.w, d.k, d.key, d.chunk),
           array_agg(d.touched ORDER BY d.w, d.k, d.key, d.chunk),
           array_agg(d.present ORDER BY d.w, d.k, d.key, d.chunk)
      INTO g_ws, g_kinds, g_keys, g_chunks, g_touched, g_present
      FROM (SELECT c.w, c.k, c.key, c.id >> 10 AS chunk,
                   bit_or(parley_bit(c.id)) AS touched,
                   coalesce(bit_or(parley_bit(c.id)) FILTER (WHERE c.p), B'0'::bit(1024))
                       AS present
              FROM unnest(ws, kinds, keys, ids, present) AS c(w, k, key, id, p)
             GROUP BY 1, 2, 3, 4) d;
    PERFORM parley_bitmap_lock(g_ws, g_kinds, g_keys, g_chunks,
                               (SELECT array_agg(bit_count(p) > 0) FROM unnest(g_present) AS p));
    UPDATE segments_contactbitmap b SET bits = (b.bits & ~d.touched) | d.present
      FROM unnest(g_ws, g_kinds, g_keys, g_chunks, g_touched, g_present)
           AS d(w, k, key, chunk, touched, present)
     WHERE b.workspace_id = d.w AND b.kind = d.k AND b.key = d.key AND b.chunk = d.chunk;
END $$;

-- Presence read from the rows themselves, after the lock.
CREATE FUNCTION parley_bitmap_recompute(
    ws bigint[], kinds smallint[], keys text[], ids bigint[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL THEN
        RETURN;
    END IF;
    PERFORM parley_bitmap_lock(array_agg(d.w), array_agg(d.k), array_agg(d.key),
                               array_agg(d.chunk), array_agg(false))
      FROM (SELECT DISTINCT c.w, c.k, c.key, c.id >> 10 AS chunk
              FROM unnest(ws, kinds, keys, ids) AS c(w, k, key, id)) d;
    PERFORM parley_bitmap_write(ws, kinds, keys, ids, (
        SELECT array_agg(CASE c.k
            WHEN 1 THEN EXISTS (
                SELECT 1 FROM crm_contacttag t
                 WHERE t.workspace_id = c.w AND t.contact_id = c.id AND t.tag_id = c.key::bigint)
            WHEN 3 THEN EXISTS (
                SELECT 1 FROM inbox_conversation v
                 WHERE v.workspace_id = c.w AND v.contact_id = c.id AND v.status = c.key)
            END ORDER BY c.n)
          FROM unnest(ws, kinds, keys, ids) WITH ORDINALITY AS c(w, k, key, id, n)));
END $$;

-- The triggers below do not write bitmaps: they queue what changed, one row
-- per statement, and a deferred constraint trigger applies the queue at commit.
-- So the bitmap rows, which many writers share (every new contact of a
-- workspace lands in its newest chunk), are locked only while the transaction
-- commits, not from its first write to its end: a broadcast's two feeders had
-- waited on each other for whole batches. A transaction sees its own queued
-- changes in counts once it flushes (SET CONSTRAINTS parley_bitmap_pending
-- IMMEDIATE; segments.bitmaps does so). Queue rows never outlive their
-- transaction, so no other transaction ever sees one.
CREATE TABLE segments_bitmappending (
    id bigserial PRIMARY KEY,
    xact bigint NOT NULL DEFAULT txid_current(),
    ws bigint[] NOT NULL,
    kinds smallint[] NOT NULL,
    keys text[] NOT NULL,
    ids bigint[] NOT NULL,
    present boolean[]  -- NULL: read presence from the rows, after the lock
);
-- A queued row lives for one transaction: compressing its arrays (an import
-- chunk's hold 50,000 entries) would cost more than the bytes it saves.
ALTER TABLE segments_bitmappending
    ALTER COLUMN ws SET STORAGE EXTERNAL, ALTER COLUMN kinds SET STORAGE EXTERNAL,
    ALTER COLUMN keys SET STORAGE EXTERNAL, ALTER COLUMN ids SET STORAGE EXTERNAL,
    ALTER COLUMN present SET STORAGE EXTERNAL;
-- Deleted rows stay until vacuum; the index keeps "this transaction's queue" quick.
CREATE INDEX segments_bitmappending_xact ON segments_bitmappending (xact);

CREATE FUNCTION parley_bitmap_defer(
    ws bigint[], kinds smallint[], keys text[], ids bigint[], present boolean[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO segments_bitmappending (ws, kinds, keys, ids, present)
    VALUES (ws, kinds, keys, ids, present);
END $$;

CREATE FUNCTION parley_bitmap_apply_pending() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    queued record;
    cross_tenant text := current_setting('parley.cross_tenant', true);
BEGIN
    -- The first firing in a transaction applies its whole queue; the others
    -- find their row gone.
    PERFORM 1 FROM segments_bitmappending WHERE id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- The queue may hold several workspaces' changes (a transaction that
    -- switched workspace, or worked across them), each made where row-level
    -- security let it write; every statement below names its workspace, so
    -- the policy is lifted for them alone and restored after.
    PERFORM set_config('parley.cross_tenant', 'on', true);
    -- With more than one queued statement, every row the queue touches is
    -- locked at once in key order, so two committing transactions never wait
    -- on each other in a cycle (one statement's write locks in that order).
    PERFORM 1 FROM segments_bitmappending WHERE xact = txid_current() OFFSET 1;
    IF FOUND THEN
        PERFORM parley_bitmap_lock(array_agg(d.w), array_agg(d.k), array_agg(d.key),
                                   array_agg(d.chunk), array_agg(false))
          FROM (SELECT DISTINCT c.w, c.k, c.key, c.id >> 10 AS chunk
                  FROM segments_bitmappending p,
                       unnest(p.ws, p.kinds, p.keys, p.ids) AS c(w, k, key, id)
                 WHERE p.xact = txid_current()) d;
    END IF;
    FOR queued IN
        SELECT * FROM segments_bitmappending WHERE xact = txid_current() ORDER BY id
    LOOP
        IF queued.present IS NULL THEN
            PERFORM parley_bitmap_recompute(queued.ws, queued.kinds, queued.keys, queued.ids);
        ELSE
            PERFORM parley_bitmap_write(queued.ws, queued.kinds, queued.keys, queued.ids,
                                        queued.present);
        END IF;
    END LOOP;
    DELETE FROM segments_bitmappending WHERE xact = txid_current();
    PERFORM set_config('parley.cross_tenant', coalesce(cross_tenant, ''), true);
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER parley_bitmap_pending AFTER INSERT ON segments_bitmappending
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION parley_bitmap_apply_pending();

CREATE FUNCTION parley_contact_bits_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_bitmap_defer(array_agg(c.w), array_agg(c.k), array_agg(c.key),
                                array_agg(c.id), array_agg(true))
      FROM (SELECT n.workspace_id AS w, 0::smallint AS k, ''::text AS key, n.id FROM new_rows n
            UNION ALL
            SELECT n.workspace_id, 2::smallint, n.consent::text, n.id FROM new_rows n) c;
    RETURN NULL;
END $$;

CREATE FUNCTION parley_contact_bits_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_bitmap_defer(array_agg(c.w), array_agg(c.k), array_agg(c.key),
                                array_agg(c.id), array_agg(false))
      FROM (SELECT o.workspace_id AS w, 0::smallint AS k, ''::text AS key, o.id FROM old_rows o
            UNION ALL
            SELECT o.workspace_id, 2::smallint, o.consent::text, o.id FROM old_rows o) c;
    RETURN NULL;
END $$;

CREATE FUNCTION parley_contact_bits_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Most contact updates (last_inbound_at on every message, last_outbound_at
    -- on every send) leave consent alone: one hashed EXCEPT says so.
    IF NOT EXISTS (SELECT id, consent FROM new_rows EXCEPT SELECT id, consent FROM old_rows) THEN
        RETURN NULL;
    END IF;
    PERFORM parley_bitmap_defer(array_agg(c.w), array_agg(2::smallint), array_agg(c.key),
                                array_agg(c.id), array_agg(c.p))
      FROM (SELECT o.workspace_id AS w, o.consent::text AS key, o.id, false AS p
              FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.consent <> o.consent
            UNION ALL
            SELECT n.workspace_id, n.consent::text, n.id, true
              FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.consent <> o.consent) c;
    RETURN NULL;
END $$;

-- A contact has a tag at most once (contacttag_unique), so an inserted row
-- sets its bit and a deleted one clears it; an updated row (a merge moving
-- tags) is read back.
CREATE FUNCTION parley_contacttag_bits_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_bitmap_defer(array_agg(n.workspace_id), array_agg(1::smallint),
                                array_agg(n.tag_id::text), array_agg(n.contact_id),
                                array_agg(true))
      FROM new_rows n;
    RETURN NULL;
END $$;

CREATE FUNCTION parley_contacttag_bits_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_bitmap_defer(array_agg(o.workspace_id), array_agg(1::smallint),
                                array_agg(o.tag_id::text), array_agg(o.contact_id),
                                array_agg(false))
      FROM old_rows o;
    RETURN NULL;
END $$;

CREATE FUNCTION parley_contacttag_bits_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_bitmap_defer(array_agg(c.workspace_id), array_agg(1::smallint),
                                array_agg(c.tag_id::text), array_agg(c.contact_id), NULL)
      FROM (SELECT workspace_id, tag_id, contact_id FROM old_rows
            UNION SELECT workspace_id, tag_id, contact_id FROM new_rows) c;
    RETURN NULL;
END $$;

-- A contact may have several conversations with one status, so a new row
-- sets its bit and every other change is read back.
CREATE FUNCTION parley_conversation_bits_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_bitmap_defer(array_agg(n.workspace_id), array_agg(3::smallint),
                                array_agg(n.status::text), array_agg(n.contact_id),
                                array_agg(true))
      FROM new_rows n;
    RETURN NULL;
END $$;

CREATE FUNCTION parley_conversation_bits_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_bitmap_defer(array_agg(c.workspace_id), array_agg(3::smallint),
                                array_agg(c.status::text), array_agg(c.contact_id), NULL)
      FROM (SELECT DISTINCT workspace_id, status, contact_id FROM old_rows) c;
    RETURN NULL;
END $$;

CREATE FUNCTION parley_conversation_bits_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Every message updates its conversation; few change status or contact.
    IF NOT EXISTS (
        SELECT id, status, contact_id FROM new_rows
        EXCEPT SELECT id, status, contact_id FROM old_rows
    ) THEN
        RETURN NULL;
    END IF;
    PERFORM parley_bitmap_defer(array_agg(c.workspace_id), array_agg(3::smallint),
                                array_agg(c.status::text), array_agg(c.contact_id), NULL)
      FROM (SELECT workspace_id, status, contact_id FROM (
                SELECT id, workspace_id, status, contact_id FROM old_rows
                EXCEPT SELECT id, workspace_id, status, contact_id FROM new_rows) gone
            UNION
            SELECT workspace_id, status, contact_id FROM (
                SELECT id, workspace_id, status, contact_id FROM new_rows
                EXCEPT SELECT id, workspace_id, status, contact_id FROM old_rows) came) c;
    RETURN NULL;
END $$;

CREATE TRIGGER contact_bits_insert AFTER INSERT ON crm_contact
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_contact_bits_insert();
CREATE TRIGGER contact_bits_update AFTER UPDATE ON crm_contact
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_contact_bits_update();
CREATE TRIGGER contact_bits_delete AFTER DELETE ON crm_contact
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_contact_bits_delete();
CREATE TRIGGER contacttag_bits_insert AFTER INSERT ON crm_contacttag
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_contacttag_bits_insert();
CREATE TRIGGER contacttag_bits_update AFTER UPDATE ON crm_contacttag
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_contacttag_bits_update();
CREATE TRIGGER contacttag_bits_delete AFTER DELETE ON crm_contacttag
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_contacttag_bits_delete();
CREATE TRIGGER conversation_bits_insert AFTER INSERT ON inbox_conversation
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_conversation_bits_insert();
CREATE TRIGGER conversation_bits_update AFTER UPDATE ON inbox_conversation
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_conversation_bits_update();
CREATE TRIGGER conversation_bits_delete AFTER DELETE ON inbox_conversation
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parley_conversation_bits_delete();

-- Rows that existed before this migration, in every workspace.
SELECT set_config('parley.cross_tenant', 'on', true);
INSERT INTO segments_contactbitmap (workspace_id, kind, key, chunk, bits)
SELECT workspace_id, 0, '', id >> 10, bit_or(parley_bit(id))
  FROM crm_contact GROUP BY workspace_id, id >> 10
UNION ALL
SELECT workspace_id, 2, consent, id >> 10, bit_or(parley_bit(id))
  FROM crm_contact GROUP BY workspace_id, consent, id >> 10
UNION ALL
SELECT workspace_id, 1, tag_id::text, contact_id >> 10, bit_or(parley_bit(contact_id))
  FROM crm_contacttag GROUP BY workspace_id, tag_id, contact_id >> 10
UNION ALL
SELECT workspace_id, 3, status, contact_id >> 10, bit_or(parley_bit(contact_id))
  FROM inbox_conversation GROUP BY workspace_id, status, contact_id >> 10;
"""

BACKWARD = """
DROP TRIGGER contact_bits_insert ON crm_contact;
DROP TRIGGER contact_bits_update ON crm_contact;
DROP TRIGGER contact_bits_delete ON crm_contact;
DROP TRIGGER contacttag_bits_insert ON crm_contacttag;
DROP TRIGGER contacttag_bits_update ON crm_contacttag;
DROP TRIGGER contacttag_bits_delete ON crm_contacttag;
DROP TRIGGER conversation_bits_insert ON inbox_conversation;
DROP TRIGGER conversation_bits_update ON inbox_conversation;
DROP TRIGGER conversation_bits_delete ON inbox_conversation;
DROP FUNCTION parley_contact_bits_insert();
DROP FUNCTION parley_contact_bits_update();
DROP FUNCTION parley_contact_bits_delete();
DROP FUNCTION parley_contacttag_bits_insert();
DROP FUNCTION parley_contacttag_bits_update();
DROP FUNCTION parley_contacttag_bits_delete();
DROP FUNCTION parley_conversation_bits_insert();
DROP FUNCTION parley_conversation_bits_update();
DROP FUNCTION parley_conversation_bits_delete();
DROP TRIGGER parley_bitmap_pending ON segments_bitmappending;
DROP TABLE segments_bitmappending;
DROP FUNCTION parley_bitmap_apply_pending();
DROP FUNCTION parley_bitmap_defer(bigint[], smallint[], text[], bigint[], boolean[]);
DROP FUNCTION parley_bitmap_recompute(bigint[], smallint[], text[], bigint[]);
DROP FUNCTION parley_bitmap_write(bigint[], smallint[], text[], bigint[], boolean[]);
DROP FUNCTION parley_bitmap_lock(bigint[], smallint[], text[], bigint[], boolean[]);
DROP FUNCTION parley_bit(bigint);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0001_initial"),
        ("tenancy", "0002_mark_read_on_open"),
        ("crm", "0006_contact_ws_id_idx"),
        ("inbox", "0006_message_lean_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ContactBitmap",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.SmallIntegerField(
                        choices=[
                            (0, "Any contact"),
                            (1, "Tag"),
                            (2, "Consent"),
                            (3, "Has a conversation with status"),
                        ]
                    ),
                ),
                ("key", models.CharField(blank=True, max_length=40)),
                ("chunk", models.BigIntegerField()),
                ("bits", parley.segments.models.BitsField()),
                (
                    "workspace",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenancy.workspace",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("workspace", "kind", "key", "chunk"), name="contactbitmap_unique"
                    )
                ],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
