export { createDb, type Db, type DbHandle, type DbOptions, isDbUnavailable } from './client';
export { toJobView } from './job-view';
export { ensureDatabase, MIGRATIONS_DIR, migrateDatabase } from './migrate';
export { buildJobRow, type NewJobContext } from './new-job';
export * from './queries/active-jobs';
export * from './queries/api-keys';
export * from './queries/files';
export * from './queries/health';
export * from './queries/job-events';
export * from './queries/job-runs';
export * from './queries/job-runs-batched';
export * from './queries/jobs';
export * from './queries/reconcile';
export * from './queries/reports';
export * from './queries/schedules';
export * from './queries/tenants';
export * from './queries/webhooks';
export type {
  ApiKeyRow,
  ArtifactRow,
  JobEventRow,
  JobRow,
  NewJobRow,
  ScheduleRow,
  TenantRow,
  UploadRow,
  WebhookDeliveryRow,
} from './schema/index';
