import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { type Operation, operationsOf } from '../helpers/openapi-routes';
import {
  ADMIN_TOKEN,
  comparable,
  makeResources,
  median,
  plausibleRequest,
  randomId,
  type TenantResources,
} from './fixtures';

/**
 * Invariant 5: tenant B calling every id-taking route with tenant A's ids gets exactly the answer a random id
 * gets (byte for byte, but for the request id), and A's resources are untouched by it.
 */

let h: Harness;
let a: TenantResources;
let b: { tenantId: string; key: string };
let withIds: Operation[];

beforeAll(async () => {
  h = await createHarness();
  a = await makeResources(h, await h.newTenant());
  b = await h.newTenant();
  withIds = (await operationsOf(h.app)).filter((o) => o.params.length > 0);
});

afterAll(async () => {
  await h?.close();
});

/** Every id of A: each route gets all of them, so a route that takes the wrong kind of id is covered too. */
const idsOfA = () => [a.jobId, a.uploadId, a.artifactId, a.scheduleId, a.tenantId];

describe("another tenant's ids", () => {
  it('covers every id-taking route of the document', () => {
    expect(withIds.map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining([
        'GET /v1/jobs/{id}',
        'GET /v1/jobs/{id}/events',
        'POST /v1/jobs/{id}/cancel',
        'POST /v1/jobs/{id}/retry',
        'GET /v1/jobs/{id}/artifacts',
        'GET /v1/jobs/{id}/deliveries',
        'GET /v1/artifacts/{id}',
        'GET /v1/schedules/{id}',
        'PUT /v1/schedules/{id}',
        'DELETE /v1/schedules/{id}',
      ]),
    );
  });

  it("answers each of A's ids to B exactly like a random id", async () => {
    for (const op of withIds) {
      for (const id of idsOfA()) {
        const theirs = await comparable(
          await h.app.request(await plausibleRequest(op, id, `Bearer ${b.key}`)),
        );
        const random = await comparable(
          await h.app.request(await plausibleRequest(op, randomId(), `Bearer ${b.key}`)),
        );
        const what = `${op.method} ${op.path} with A's ${id}`;
        // Admin routes refuse a tenant key outright (401); every tenant route says 404.
        expect(theirs.status, what).toBe(op.auth === 'admin' ? 401 : 404);
        expect(theirs, what).toEqual(random);
      }
    }
  });

  it("left A's resources as they were and A still sees them", async () => {
    const job = await h.getJob(a.jobId, a.key);
    expect(job.status).toBe('queued');
    const schedule = await h.request('GET', `/v1/schedules/${a.scheduleId}`, { key: a.key });
    expect(await schedule.json()).toMatchObject({ id: a.scheduleId, cron: '0 0 1 1 *', paused: false });
    const schedules = (await (await h.request('GET', '/v1/schedules', { key: b.key })).json()) as {
      data: unknown[];
    };
    expect(schedules.data).toEqual([]);
    const artifact = await h.request('GET', `/v1/artifacts/${a.artifactId}`, { key: a.key });
    expect(artifact.status).toBe(200);
    expect(await artifact.text()).toContain(a.tenantId);
    const list = (await (await h.request('GET', '/v1/jobs', { key: b.key })).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
    const filtered = await h.request('GET', `/v1/jobs?ids=${a.jobId}`, { key: b.key });
    expect(((await filtered.json()) as { data: unknown[] }).data).toEqual([]);
  });

  it('admin routes accept only the admin token', async () => {
    const admin = withIds.filter((o) => o.auth === 'admin');
    expect(admin.length).toBeGreaterThan(0);
    for (const op of admin) {
      const res = await h.app.request(await plausibleRequest(op, a.tenantId, `Bearer ${ADMIN_TOKEN}`));
      expect(res.status, `${op.method} ${op.path}`).not.toBe(401);
    }
  });

  /**
   * A coarse check: medians over 30 interleaved calls each must be within 3x of each other. It catches a
   * route that does visibly more work for a foreign id (reads the row, then checks the tenant in code), not a
   * careful timing attack, which in-process timings on a shared machine cannot measure.
   */
  it('takes about as long for a foreign id as for a random one', async () => {
    const reads = withIds.filter((o) => o.auth === 'api' && o.method === 'GET');
    for (const op of reads) {
      const foreignId = op.path.startsWith('/v1/artifacts') ? a.artifactId : a.jobId;
      const time = async (id: string) => {
        const req = await plausibleRequest(op, id, `Bearer ${b.key}`);
        const started = performance.now();
        const res = await h.app.request(req);
        await res.arrayBuffer();
        return performance.now() - started;
      };
      for (let i = 0; i < 5; i++) await time(randomId()); // warm-up
      const foreign: number[] = [];
      const random: number[] = [];
      for (let i = 0; i < 30; i++) {
        foreign.push(await time(foreignId));
        random.push(await time(randomId()));
      }
      const [f, r] = [median(foreign), median(random)];
      const what = `${op.path}: foreign ${f.toFixed(2)} ms, random ${r.toFixed(2)} ms`;
      expect(Math.max(f, r) / Math.max(0.05, Math.min(f, r)), what).toBeLessThan(3);
    }
  });
});
