export * from './api-keys';
export * from './job-events';
export * from './jobs';
export * from './tenants';
