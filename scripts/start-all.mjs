// `npm start`: runs the built API and one worker side by side, as a new user's one command.
// Output lines are prefixed with the process name; SIGINT/SIGTERM are passed on so both shut down
// gracefully; if either exits on its own, the other is stopped and the exit code is passed on.
import { spawn } from 'node:child_process';

const apps = ['api', 'worker'];
// The API's heap cap, as its image sets it (apps/api/Dockerfile; docs/performance.md).
const nodeArgs = { api: ['--max-old-space-size=128'], worker: [] };
const children = apps.map((name) => {
  const child = spawn(process.execPath, [...nodeArgs[name], `apps/${name}/dist/main.js`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  return { name, child };
});

let stopping = false;
const stopAll = (signal) => {
  if (stopping) return;
  stopping = true;
  for (const { child } of children) if (child.exitCode === null) child.kill(signal);
};
process.on('SIGINT', () => stopAll('SIGTERM'));
process.on('SIGTERM', () => stopAll('SIGTERM'));

const codes = await Promise.all(
  children.map(
    ({ name, child }) =>
      new Promise((resolve) =>
        child.on('exit', (code, signal) => {
          if (!stopping) {
            console.error(`[${name}] exited (${code ?? signal}); stopping the rest`);
            stopAll('SIGTERM');
          }
          resolve(code ?? 1);
        }),
      ),
  ),
);
process.exit(Math.max(...codes));
