/**
 * Peer: pg-boss on the same Postgres. Submits `jobs` no-op jobs with `send` (submitConcurrency in flight),
 * then drains them with `workerConcurrency` workers (pg-boss 10 has no per-worker concurrency: each `work`
 * call is one polling worker). A pg-boss 10 worker waits its polling interval (0.5 s at least) after every
 * fetch, so one job per fetch would cap the drain at 10 jobs/s; each fetch takes BATCH_SIZE jobs instead and
 * runs them one after another, which keeps `workerConcurrency` jobs in flight like the others.
 * Prints one JSON line (PeerResult).
 */
import PgBoss from 'pg-boss';
import { DrainClock, type PeerResult, type PeerSpec, timeSubmits } from './peer-common';

const spec = JSON.parse(process.argv[2]!) as PeerSpec;
const boss = new PgBoss({
  connectionString: spec.connectionString,
  max: 10,
  application_name: 'bench-pgboss',
});
boss.on('error', (error) => console.error('pg-boss error', error));
await boss.start();
await boss.createQueue('noop');

console.log('phase submit');
const submit = await timeSubmits(spec.jobs, spec.submitConcurrency, () => boss.send('noop', {}));

console.log('phase drain');
const BATCH_SIZE = 50;
const clock = new DrainClock();
for (let i = 0; i < spec.workerConcurrency; i++) {
  await boss.work('noop', { batchSize: BATCH_SIZE, pollingIntervalSeconds: 0.5 }, async (jobs) => {
    for (const _job of jobs) clock.tick();
  });
}
const drain = await clock.until(spec.jobs, () => boss.getQueueSize('noop', { before: 'completed' }));
await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
const result: PeerResult = { submit, drain };
console.log(JSON.stringify(result));
