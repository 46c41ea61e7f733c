import { setTimeout as sleep } from 'node:timers/promises';
import { JobError, PermanentError } from '@conveyor/shared';
import type { Handler } from './types';

/** Sleeps (reporting 50 % half-way), fails or crashes its process when asked, and echoes its payload. */
export const noop: Handler<'noop'> = async (payload, ctx) => {
  if (payload.crash) process.kill(process.pid, 'SIGKILL');
  if (payload.sleepMs) {
    const half = Math.floor(payload.sleepMs / 2);
    await sleep(half, undefined, { signal: ctx.signal });
    await ctx.progress(50);
    await sleep(payload.sleepMs - half, undefined, { signal: ctx.signal });
  }
  if (payload.fail === 'unrecoverable')
    throw new PermanentError('noop_unrecoverable', 'noop asked to fail for good');
  if (payload.fail === 'always' || (payload.fail === 'once' && ctx.attempt === 1)) {
    throw new JobError('noop_failed', `noop asked to fail (attempt ${ctx.attempt})`);
  }
  return payload;
};
