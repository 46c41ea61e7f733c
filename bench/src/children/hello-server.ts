/**
 * The read baseline of `npm run bench`: a bare Hono route on @hono/node-server, nothing else (no auth, database or
 * Redis), so the API's figures read as a fraction of what the HTTP stack alone can serve on this machine.
 *   PORT=… tsx src/children/hello-server.ts
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/hello', (c) => c.json({ hello: 'world' }));
serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT) });
