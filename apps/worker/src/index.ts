export { loadWorkerConfig, type WorkerConfig } from './config';
export {
  createHandlers,
  type Handler,
  type HandlerContext,
  type HandlerMap,
  type HandlerSet,
} from './handlers/index';
export { createWorkerMetrics, type WorkerMetrics } from './metrics';
export { startWorkerRuntime, type WorkerRuntime, type WorkerRuntimeOptions } from './runtime';
