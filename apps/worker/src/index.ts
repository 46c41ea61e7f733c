export { loadWorkerConfig, type WorkerConfig } from './config';
export { type Handler, type HandlerContext, type HandlerMap, handlers } from './handlers/index';
export { startWorkerRuntime, type WorkerRuntime, type WorkerRuntimeOptions } from './runtime';
