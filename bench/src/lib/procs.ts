/**
 * Every process the bench starts goes through here, so none outlives it: each is stopped by its PID in the
 * scenario's `finally`, and whatever is still running when the bench ends (normally, on an error or on
 * SIGINT/SIGTERM) is killed by PID before this process exits. Cleanups (dropping databases, deleting Redis
 * keys) registered with `onCleanup` run once, newest first, on the same paths.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchConfig } from '../config';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const BENCH_DIR = new URL('../../', import.meta.url).pathname;
export const PROFILE_DIR = `${BENCH_DIR}results/profiles`;

export interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout (children print one JSON line of results last). */
  stdout(): string;
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Proc>();
const cleanups: (() => Promise<void>)[] = [];

export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

interface StartOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Extra `node` flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Keep stdout for results instead of passing it through. */
  captureStdout?: boolean;
}

function start(name: string, args: string[], options: StartOptions): Proc {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', options.captureStdout ? 'pipe' : 'inherit', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const proc: Proc = {
    name,
    pid: child.pid!,
    child,
    stdout: () => out,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(proc);
    },
  };
  if (proc.pid === undefined) throw new Error(`could not start ${name}`);
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** A production bundle (`apps/<app>/dist/main.js`), under --cpu-prof when BENCH_PROFILE=1. */
export function startApp(app: 'api' | 'worker', name: string, env: Record<string, string>): Proc {
  // The API runs with the heap cap its image sets (apps/api/Dockerfile), so its RSS is the production one.
  const nodeArgs: string[] = app === 'api' ? ['--max-old-space-size=128'] : [];
  if (benchConfig.profile) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    nodeArgs.push(
      '--cpu-prof',
      '--cpu-prof-dir',
      PROFILE_DIR,
      '--cpu-prof-name',
      `${name}-${Date.now()}.cpuprofile`,
    );
  }
  return start(name, [`apps/${app}/dist/main.js`], { env, nodeArgs });
}

/** A bench script (TypeScript, through tsx) in a process of its own. */
export function startScript(name: string, script: string, args: string[], env: Record<string, string> = {}) {
  return start(name, ['--import', 'tsx', script, ...args], { cwd: BENCH_DIR, env, captureStdout: true });
}

/** Runs a bench script to its end and parses the last line it printed as JSON. */
export async function runScript<T>(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ result: T; proc: Proc }> {
  const proc = startScript(name, script, args, env);
  const code = await proc.exited;
  const last = proc.stdout().trim().split('\n').at(-1) ?? '';
  if (code !== 0) throw new Error(`${name} exited with ${code}: ${last}`);
  return { result: JSON.parse(last) as T, proc };
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(5_000)));
}

let cleaning: Promise<void> | undefined;
/** Stops every child, then runs the cleanups; safe to call more than once. */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAll();
    for (const fn of cleanups.reverse()) {
      await fn().catch((error: unknown) => console.error('cleanup failed:', error));
    }
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the bench's processes`);
    void cleanup().finally(() => process.exit(130));
  });
}
// Last resort (an uncaught error, process.exit): nothing asynchronous can run here, so just kill by PID.
process.on('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

/** Polls `check` every `everyMs` until it returns true; throws after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
  everyMs = 100,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const httpOk = (url: string) => async () => (await fetch(url)).ok;
