export * from './admin';
export * from './job';
export * from './problem';
