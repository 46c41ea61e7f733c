ALTER TABLE "tenants" ADD COLUMN "rate_limit" integer;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "max_active_jobs" integer;--> statement-breakpoint
ALTER TABLE "tenants" ADD CONSTRAINT "tenants_rate_limit_check" CHECK (rate_limit >= 0);--> statement-breakpoint
ALTER TABLE "tenants" ADD CONSTRAINT "tenants_max_active_jobs_check" CHECK (max_active_jobs >= 0);