import { createEmailSender } from './email-send';
import { createImageResize } from './image-resize';
import { noop } from './noop';
import { createReportGenerate } from './report-generate';
import type { HandlerDeps, HandlerSet } from './types';

export type {
  ArtifactInput,
  EmailSettings,
  Handler,
  HandlerContext,
  HandlerDeps,
  HandlerMap,
  HandlerSet,
  HandlerSettings,
  ImageSettings,
  SavedArtifact,
  UploadContent,
} from './types';

/** Builds every kind's handler from the worker's dependencies. */
export function createHandlers(deps: HandlerDeps): HandlerSet {
  const email = createEmailSender(deps.settings.email);
  const imageResize = createImageResize(deps.settings.image);
  return {
    handlers: {
      noop,
      'email.send': email.send,
      'image.resize': imageResize,
      'report.generate': createReportGenerate(deps),
    },
    async close() {
      email.close();
    },
  };
}
