export * from './admin';
export * from './job';
export * from './problem';
export * from './schedule';
export * from './webhook';
