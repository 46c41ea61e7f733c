/**
 * Peer: graphile-worker on the same Postgres. Submits `jobs` no-op jobs with `addJob` (submitConcurrency in
 * flight), then drains them with one runner of `workerConcurrency`. Prints one JSON line (PeerResult).
 */
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { DrainClock, type PeerResult, type PeerSpec, timeSubmits } from './peer-common';

const spec = JSON.parse(process.argv[2]!) as PeerSpec;
// graphile-worker logs every job at info; keep warnings and errors only.
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`graphile-worker ${level}: ${message}`);
});
const utils = await makeWorkerUtils({ connectionString: spec.connectionString, logger });
await utils.migrate();

console.log('phase submit');
const submit = await timeSubmits(spec.jobs, spec.submitConcurrency, () => utils.addJob('noop', {}));

console.log('phase drain');
const clock = new DrainClock();
const runner = await run({
  connectionString: spec.connectionString,
  concurrency: spec.workerConcurrency,
  noHandleSignals: true,
  logger,
  taskList: {
    noop: async () => {
      clock.tick();
    },
  },
});
// Finished jobs are deleted from graphile-worker's table: none left means all are done.
const drain = await clock.until(spec.jobs, () =>
  utils.withPgClient(async (client) => {
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from graphile_worker.jobs');
    return rows[0]!.n;
  }),
);
await runner.stop();
await utils.release();
const result: PeerResult = { submit, drain };
console.log(JSON.stringify(result));
