-- Custom migration (drizzle-kit generate --custom): the job timeline and the forward-only state machine,
-- enforced where every writer must pass. Application queries guard their transitions too; this trigger is
-- the last line: an illegal move raises, and every legal one leaves a job_events row in the same statement.
CREATE FUNCTION conveyor_job_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO job_events (job_id, tenant_id, type, data)
    VALUES (NEW.id, NEW.tenant_id, NEW.status, jsonb_build_object('runAt', NEW.run_at, 'maxAttempts', NEW.max_attempts));
    RETURN NULL;
  END IF;

  IF NEW.status IS DISTINCT FROM OLD.status OR NEW.fence <> OLD.fence THEN
    -- Allowed: queued|retrying -> running; running -> running (a restart after a stall), retrying;
    -- any non-terminal -> a terminal state; failed|canceled -> queued (a manual retry, a new generation).
    IF NOT (
      (OLD.status IN ('queued', 'retrying') AND NEW.status = 'running')
      OR (OLD.status = 'running' AND NEW.status IN ('running', 'retrying'))
      OR (OLD.status IN ('queued', 'running', 'retrying') AND NEW.status IN ('succeeded', 'failed', 'canceled'))
      OR (OLD.status IN ('failed', 'canceled') AND NEW.status = 'queued' AND NEW.generation > OLD.generation)
    ) THEN
      RAISE EXCEPTION 'illegal job transition % -> % for job %', OLD.status, NEW.status, OLD.id
        USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO job_events (job_id, tenant_id, type, data)
    VALUES (NEW.id, NEW.tenant_id, NEW.status, jsonb_strip_nulls(jsonb_build_object(
      'from', OLD.status,
      'attempt', CASE WHEN NEW.status = 'queued' THEN NULL ELSE NEW.attempts END,
      'error', CASE WHEN NEW.status IN ('retrying', 'failed') THEN NEW.error END,
      'runAt', CASE WHEN NEW.status IN ('queued', 'retrying') THEN NEW.run_at END
    )));
  ELSIF NEW.cancel_requested_at IS NOT NULL AND OLD.cancel_requested_at IS NULL THEN
    INSERT INTO job_events (job_id, tenant_id, type, data)
    VALUES (NEW.id, NEW.tenant_id, 'cancel_requested', jsonb_build_object('attempt', NEW.attempts));
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER jobs_record_event AFTER INSERT OR UPDATE ON jobs
  FOR EACH ROW EXECUTE FUNCTION conveyor_job_transition();
