/**
 * The submit baseline: a bare Hono route on @hono/node-server that parses the JSON body and calls BullMQ's
 * `queue.add` — no auth, validation, idempotency or database — so the API's submit figures read as a
 * fraction of what the HTTP stack plus an enqueue alone can do on this machine.
 *   PORT=… REDIS_URL=… QUEUE_PREFIX=… tsx src/children/queue-server.ts
 */
import { serve } from '@hono/node-server';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import { connectionOf, NOOP_JOB_OPTIONS } from './raw-common';

const queue = new Queue('default', {
  connection: connectionOf(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
  prefix: process.env.QUEUE_PREFIX ?? '{bench-hono}',
});
queue.on('error', (error) => console.error('queue error', error));

const app = new Hono();
app.get('/ready', (c) => c.text('ok'));
app.post('/jobs', async (c) => {
  const body = await c.req.json<{ type: string; payload: unknown }>();
  const job = await queue.add(body.type, body.payload, NOOP_JOB_OPTIONS);
  return c.json({ id: job.id, status: 'queued' }, 202);
});
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT) });
process.once('SIGTERM', () => {
  server.close();
  void queue.close().then(() => process.exit(0));
});
