import { noop } from './noop';
import type { HandlerDeps, HandlerSet } from './types';

export type {
  ArtifactInput,
  Handler,
  HandlerContext,
  HandlerDeps,
  HandlerMap,
  HandlerSet,
  HandlerSettings,
  SavedArtifact,
  UploadContent,
} from './types';

/** Builds every kind's handler from the worker's dependencies. */
export function createHandlers(_deps: HandlerDeps): HandlerSet {
  return {
    handlers: { noop },
    async close() {},
  };
}
