from django.db import migrations

# One pending drain job per workspace instead of one job per webhook: under
# load the job queue, not the work, was the bottleneck. A conflict on the
# queueing lock means a drain is already waiting to run; it will see this
# event (see inbox.ingest for the rare race and the sweeper that covers it).
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
    IF NOT EXISTS (
        SELECT 1 FROM procrastinate_jobs
         WHERE queueing_lock = 'drain-' || p_workspace_id AND status = 'todo'
    ) THEN
        BEGIN
            PERFORM procrastinate_defer_jobs_v1(ARRAY[ROW(
                'ingest', 'inbox.process_webhook', 0, NULL, 'drain-' || p_workspace_id,
                jsonb_build_object('workspace_id', p_workspace_id, 'event_id', v_event_id), NULL
            )::procrastinate_job_to_defer_v1]);
        EXCEPTION WHEN unique_violation THEN
            NULL;  -- deferred concurrently by another webhook: one is enough
        END;
    END IF;
    RETURN v_event_id;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("whatsapp", "0002_ingest_function")]

    operations = [migrations.RunSQL(CREATE, migrations.RunSQL.noop)]
