export { type App, createApp } from './app';
export { type ApiConfig, loadApiConfig } from './config';
export type { AppDeps } from './deps';
export { createJobWatch, type JobWatch } from './live/job-watch';
export { type ApiMetrics, createApiMetrics } from './metrics/registry';
