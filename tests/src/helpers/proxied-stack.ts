import type { Harness } from './harness';
import { freePort } from './ports';
import { type AppProcess, startApp } from './processes';
import { startTcpProxy, type TcpProxy, viaProxy } from './tcp-proxy';
import { startWorkerProcess } from './worker-process';

/** An API process and worker processes on the harness's database, reached only through a cuttable proxy. */
export interface ProxiedStack {
  proxy: TcpProxy;
  /** The API's base URL. */
  base: string;
  procs: AppProcess[];
  /** Restores the proxy (so nothing is left cut), kills the processes, closes the proxy. */
  close(): Promise<void>;
}

/**
 * A Postgres outage for the processes only: the API and every worker reach the shared Postgres through one
 * proxy that the test cuts and restores (the shared server is never stopped; the harness keeps its own
 * direct connection for reading outcomes). Redis is the harness's.
 */
export async function startProxiedStack(
  h: Harness,
  options: { workers: string[]; workerEnv?: Record<string, string> },
): Promise<ProxiedStack> {
  const target = new URL(h.db.url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const databaseUrl = viaProxy(h.db.url, proxy);
  const port = await freePort();
  const procs: AppProcess[] = [];
  const close = async () => {
    await proxy.restore().catch(() => undefined);
    await Promise.all(procs.map((p) => p.kill()));
    await proxy.close();
  };
  try {
    const api = startApp('api', {
      DATABASE_URL: databaseUrl,
      REDIS_URL: h.redisUrl,
      QUEUE_PREFIX: h.prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      RATE_LIMIT_POINTS: '0',
    });
    procs.push(api);
    const workers = await Promise.all(
      options.workers.map((n) =>
        startWorkerProcess(h, n, { DATABASE_URL: databaseUrl, ...options.workerEnv }, 60_000),
      ),
    );
    procs.push(...workers);
    await api.waitForLine(/"api listening"/, 60_000);
  } catch (error) {
    await close();
    throw error;
  }
  return { proxy, base: `http://127.0.0.1:${port}`, procs, close };
}
