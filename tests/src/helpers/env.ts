/** Where the shared services are; CI and the README use the defaults. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REPO_ROOT = new URL('../../../', import.meta.url).pathname;
