import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedis } from '@conveyor/queue';
import { freePort } from './ports';

type Redis = ReturnType<typeof createRedis>;

import { waitFor } from './wait';

/**
 * A private redis-server on a free loopback port, for tests that stop, restart or flush Redis without
 * touching the shared one. No persistence, like the machine's own: a restart loses everything.
 */
export interface PrivateRedis {
  url: string;
  port: number;
  /**
   * Stops the server with SIGKILL: nothing is saved, unless `keepData` (an RDB snapshot is taken first and
   * loaded by the next `start`, as a Redis with persistence would come back).
   */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Starts it again on the same port: empty, or with what `stop({ keepData: true })` kept. */
  start(): Promise<void>;
  flushAll(): Promise<void>;
  client(): Redis;
  close(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cvt-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];

  const ping = async () => {
    const probe = createRedis(url, 'producer', 'cvt-probe');
    probe.on('error', () => {});
    try {
      await new Promise((resolve, reject) => {
        probe.once('ready', resolve);
        probe.once('error', reject);
      });
      return (await probe.ping()) === 'PONG';
    } finally {
      probe.disconnect();
    }
  };

  async function start() {
    // Already up: a second server could not bind the port, and would orphan the first one.
    if (child && child.exitCode === null && child.signalCode === null) return;
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    await waitFor(`redis-server on port ${port}`, ping, 10_000, 50);
  }

  async function stop(options: { keepData?: boolean } = {}) {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const dump = join(dir, 'dump.rdb');
    if (options.keepData) {
      const c = createRedis(url, 'worker', 'cvt-save');
      try {
        await c.save();
      } finally {
        c.disconnect();
      }
    } else rmSync(dump, { force: true });
    child = undefined;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    url,
    port,
    start,
    stop,
    async flushAll() {
      const c = createRedis(url, 'worker', 'cvt-flush');
      try {
        await c.flushall();
      } finally {
        c.disconnect();
      }
    },
    client() {
      const c = createRedis(url, 'worker', 'cvt-client');
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.disconnect();
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
