import type { Db } from '@conveyor/db';
import type { Producer } from '@conveyor/queue';
import { createLogger } from '@conveyor/shared';
import type { BlobStore } from '@conveyor/storage';
import { createApp } from './app';

/**
 * The app with dummy dependencies, for tests of what touches none of them: the static pages (/docs,
 * /dashboard) and the route table.
 */
export const appWithoutDependencies = () =>
  createApp({
    db: {} as Db,
    producer: {} as Producer,
    store: {} as BlobStore,
    log: createLogger({ name: 'test', level: 'silent' }),
  });

/** Every URL an HTML page names in src/href attributes. */
export const urlsIn = (html: string) => [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);

/** The Content-Security-Policy header as {directive: sources}. */
export const cspOf = (res: Response) =>
  Object.fromEntries(
    (res.headers.get('content-security-policy') ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name, values.join(' ')]),
  );
