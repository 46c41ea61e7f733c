export * from './api-keys';
export * from './files';
export * from './job-events';
export * from './jobs';
export * from './tenants';
