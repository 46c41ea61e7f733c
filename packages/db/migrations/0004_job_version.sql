-- Custom migration (drizzle-kit generate --custom): a per-row version that every UPDATE bumps, whoever
-- writes. The API's Redis read cache orders cached copies of a job by it (updated_at comes from the
-- writer's clock, which differs between processes and may repeat within a millisecond).
ALTER TABLE "jobs" ADD COLUMN "version" bigint DEFAULT 0 NOT NULL;
--> statement-breakpoint
CREATE FUNCTION conveyor_job_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER jobs_bump_version BEFORE UPDATE ON jobs
  FOR EACH ROW EXECUTE FUNCTION conveyor_job_version();
