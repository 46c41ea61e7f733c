import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { masters, type RedisClient, type RedisClusterTarget } from '@conveyor/queue';
import { freePort } from './ports';
import { waitFor } from './wait';

const run = promisify(execFile);

/**
 * A private Redis Cluster: three masters, no replicas, each a `redis-server --cluster-enabled yes` on free
 * loopback ports (client port and cluster bus port both picked, via `cluster-port`), joined with
 * `redis-cli --cluster create`. No persistence. Stopped by PID.
 */
export interface PrivateRedisCluster {
  /** What `createProducer`/the harness take as `redisUrl`: the seed nodes. */
  target: RedisClusterTarget;
  ports: number[];
  /** `redis-cli` against one node, e.g. `cli(port, 'cluster', 'keyslot', key)`; resolves with the trimmed reply. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** FLUSHALL on every master (over the given cluster client's node connections). */
  flushAll(client: RedisClient): Promise<void>;
  close(): Promise<void>;
}

export async function startPrivateRedisCluster(size = 3): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'cvt-redis-cluster-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const cli = async (port: number, ...args: string[]) =>
    (
      await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 })
    ).stdout.trim();

  const close = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < size; i++) {
      // Two ports per node; a port picked earlier is skipped (freePort only knows what is bound right now).
      let port = await freePort();
      while (ports.includes(port)) port = await freePort();
      let bus = await freePort();
      while (bus === port || ports.includes(bus)) bus = await freePort();
      ports.push(port);
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(bus),
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '5000',
          '--save',
          '',
          '--appendonly',
          'no',
          '--maxmemory-policy',
          'noeviction',
          '--dir',
          dir,
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
    }
    for (const port of ports) {
      await waitFor(
        `redis-server on port ${port}`,
        () =>
          cli(port, 'ping').then(
            (r) => r === 'PONG',
            () => false,
          ),
        10_000,
        50,
      );
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 60_000 },
    );
    // Every node must agree before clients connect, or a client may read a half-known slot map.
    for (const port of ports) {
      await waitFor(
        `cluster_state:ok on port ${port}`,
        () =>
          cli(port, 'cluster', 'info').then(
            (info) => info.includes('cluster_state:ok'),
            () => false,
          ),
        30_000,
        100,
      );
    }
  } catch (error) {
    await close();
    throw error;
  }

  return {
    target: { clusterNodes: ports.map((p) => `127.0.0.1:${p}`) },
    ports,
    cli,
    async flushAll(client) {
      await Promise.all(masters(client).map((node) => node.flushall()));
    },
    close,
  };
}
