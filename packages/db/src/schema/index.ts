export * from './api-keys';
export * from './files';
export * from './job-events';
export * from './jobs';
export * from './schedules';
export * from './tenants';
export * from './webhooks';
