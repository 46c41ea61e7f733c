export * from './api-key';
export * from './backoff';
export * from './catalog/index';
export * from './config';
export * from './contracts/index';
export * from './errors';
export * from './ids';
export * from './logger';
