import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './env';
import { waitFor } from './wait';

/**
 * A real `api` or `worker` process, started from source with tsx's loader in the same node process
 * (so a signal reaches the app itself, not a wrapper). Its JSON log lines are kept for assertions.
 */
export interface AppProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  lines: string[];
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  signal(sig: NodeJS.Signals): void;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** SIGKILL if still running; for afterAll. */
  kill(): Promise<void>;
}

export function startApp(app: 'api' | 'worker', env: Record<string, string>, name: string = app): AppProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', `apps/${app}/src/main.ts`], {
    cwd: REPO_ROOT,
    // Files go to a throwaway directory unless the test shares one between processes.
    env: { ...process.env, LOG_LEVEL: 'info', STORAGE_DIR: join(tmpdir(), 'cvt-storage-processes'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    name,
    child,
    pid: child.pid!,
    lines,
    exited,
    waitForLine: (pattern, timeoutMs = 20_000) =>
      waitFor(`${name} to log ${pattern}`, () => lines.find((l) => pattern.test(l)), timeoutMs, 50),
    signal: (sig) => void child.kill(sig),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
