from django.db import migrations

# One round trip per webhook: store the raw body and defer its processing job
# in the same transaction. SECURITY INVOKER (the default): row-level security
# applies to the insert, for the workspace the function sets.
CREATE = """
CREATE OR REPLACE FUNCTION parley_ingest_webhook(
    p_workspace_id bigint, p_channel_id bigint, p_key varchar, p_body bytea
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_event_id bigint;
BEGIN
    PERFORM set_config('parley.workspace_id', p_workspace_id::text, true);
    INSERT INTO whatsapp_webhookevent
        (workspace_id, channel_id, channel_key, body, received_at, state, problem)
    VALUES (p_workspace_id, p_channel_id, p_key, p_body, now(), 'received', '')
    RETURNING id INTO v_event_id;
    PERFORM procrastinate_defer_jobs_v1(ARRAY[ROW(
        'ingest', 'inbox.process_webhook', 0, NULL, NULL,
        jsonb_build_object('workspace_id', p_workspace_id, 'event_id', v_event_id), NULL
    )::procrastinate_job_to_defer_v1]);
    RETURN v_event_id;
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS parley_ingest_webhook(bigint, bigint, varchar, bytea);"


class Migration(migrations.Migration):
    dependencies = [
        ("whatsapp", "0001_initial"),
        ("procrastinate", "0041_post_retry_failed_job"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
