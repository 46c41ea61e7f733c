import { describe, expect, it } from 'vitest';
import { parseCommand } from './args';
import { CliError, EXIT_JOB_FAILED, run } from './commands';

/** A fake API at the network edge: answers by `METHOD path`, records what was asked. */
function fakeApi(answers: Record<string, (url: URL) => Response>) {
  const calls: string[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const key = `${init?.method ?? 'GET'} ${url.pathname}`;
    calls.push(`${key}${url.search}`);
    const answer = answers[key];
    if (!answer)
      return Response.json({ code: 'not_found', detail: 'No such resource.', status: 404 }, { status: 404 });
    return answer(url);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

function io(tty = false) {
  const lines: string[] = [];
  let raw = '';
  return {
    lines,
    raw: () => raw,
    io: {
      out: (l: string) => lines.push(l),
      write: (t: string) => {
        raw += t;
      },
      tty,
    },
  };
}

const config = { url: 'http://api', apiKey: 'cvr_key', adminToken: undefined };

describe('commands', () => {
  it('get --wait long-polls until the job ends and exits 3 when it failed', async () => {
    let n = 0;
    const api = fakeApi({
      'GET /v1/jobs/j1': () => {
        n++;
        const status = n < 3 ? 'running' : 'failed';
        return Response.json({
          id: 'j1',
          type: 'noop',
          status,
          progress: n * 30,
          attempts: 1,
          maxAttempts: 1,
        });
      },
    });
    const out = io(false);
    const code = await run(parseCommand(['get', 'j1', '--wait']), { config, io: out.io, fetch: api.fetch });
    expect(code).toBe(EXIT_JOB_FAILED);
    expect(api.calls).toEqual(['GET /v1/jobs/j1', 'GET /v1/jobs/j1?wait=30', 'GET /v1/jobs/j1?wait=30']);
    expect(out.lines.slice(0, 3)).toEqual([
      'j1 running progress=30 attempt 1/1',
      'j1 running progress=60 attempt 1/1',
      'j1 failed progress=90 attempt 1/1',
    ]);
  });

  it('redraws a progress bar in place on a TTY', async () => {
    let n = 0;
    const api = fakeApi({
      'GET /v1/jobs/j1': () =>
        Response.json({
          id: 'j1',
          type: 'noop',
          status: ++n < 2 ? 'running' : 'succeeded',
          progress: 50,
          attempts: 1,
          maxAttempts: 1,
        }),
    });
    const out = io(true);
    expect(await run(parseCommand(['get', 'j1', '--wait']), { config, io: out.io, fetch: api.fetch })).toBe(
      0,
    );
    expect(api.calls[1]).toBe('GET /v1/jobs/j1?wait=1');
    const frames = out.raw().split('\r\x1b[2K');
    expect(frames[0]).toBe('');
    expect(frames[1]).toMatch(/^\[#+-+\]\s+50% {2}running/);
    expect(frames.at(-1)).toMatch(/^\[#+\] 100% {2}succeeded.*\n$/);
  });

  it('explains a missing GET /v1/queues instead of a bare 404', async () => {
    const out = io();
    const promise = run(parseCommand(['queues']), { config, io: out.io, fetch: fakeApi({}).fetch });
    await expect(promise).rejects.toThrow(CliError);
    await expect(promise).rejects.toThrow(/no queue statistics/);
  });

  it('refuses admin commands without CONVEYOR_ADMIN_TOKEN before calling the API', async () => {
    const api = fakeApi({});
    await expect(
      run(parseCommand(['tenants', 'create', '--name', 'x']), { config, io: io().io, fetch: api.fetch }),
    ).rejects.toThrow(/CONVEYOR_ADMIN_TOKEN/);
    expect(api.calls).toEqual([]);
  });
});

describe('schedules commands', () => {
  it('creates a schedule from a type, a cron and a payload, lists it and deletes it', async () => {
    let created: unknown;
    const schedule = {
      id: 's1',
      name: 'tick',
      cron: '*/5 * * * * *',
      timezone: 'Europe/Berlin',
      template: { type: 'noop', payload: { sleepMs: 1 } },
      overlap: 'skip',
      paused: false,
      nextRunAt: '2026-01-01T00:00:05.000Z',
    };
    const api = fakeApi({
      'POST /v1/schedules': () => Response.json(schedule, { status: 201 }),
      'GET /v1/schedules': () => Response.json({ data: [schedule], nextCursor: null }),
      'DELETE /v1/schedules/s1': () => new Response(null, { status: 204 }),
    });
    const wrapped = (async (input: string | URL | Request, init?: RequestInit) => {
      if (init?.method === 'POST') created = JSON.parse(String(init.body));
      return api.fetch(input, init);
    }) as typeof globalThis.fetch;
    const out = io();
    const ctx = { config, io: out.io, fetch: wrapped };
    const argv = [
      'schedules',
      'create',
      'noop',
      '--cron',
      '*/5 * * * * *',
      '--timezone',
      'Europe/Berlin',
      '--name',
      'tick',
      '--payload',
      '{"sleepMs":1}',
    ];
    expect(await run(parseCommand(argv), ctx)).toBe(0);
    expect(created).toEqual({
      cron: '*/5 * * * * *',
      timezone: 'Europe/Berlin',
      name: 'tick',
      template: { type: 'noop', payload: { sleepMs: 1 } },
    });
    expect(out.lines[0]).toContain('created schedule s1');
    expect(await run(parseCommand(['schedules', 'list']), ctx)).toBe(0);
    expect(out.lines[1]).toMatch(/s1\s+tick\s+\*\/5 \* \* \* \* \*\s+Europe\/Berlin\s+noop/);
    expect(await run(parseCommand(['schedules', 'delete', 's1']), ctx)).toBe(0);
    expect(api.calls).toEqual([
      'POST /v1/schedules',
      'GET /v1/schedules?limit=100',
      'DELETE /v1/schedules/s1',
    ]);
  });

  it('refuses a create without --cron and an unknown subcommand as usage errors', () => {
    expect(() => parseCommand(['schedules', 'create', 'noop'])).toThrow(/--cron/);
    expect(() => parseCommand(['schedules', 'pause', 'x'])).toThrow(/schedules list/);
  });
});
