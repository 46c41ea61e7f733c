import { type ConveyorClient, ConveyorError, createClient, type Job } from '@conveyor/client';
import type { JobType } from '@conveyor/shared';
import { type Command, USAGE } from './args';
import type { CliConfig } from './config';
import { createHttp, type Http } from './http';
import { eventLine, jobSummary, statusLine, TERMINAL, table } from './render';

/** Where a command writes; main passes the process's streams, tests collect strings. */
export interface Io {
  /** A whole line on stdout. */
  out(line: string): void;
  /** Raw text on stdout (a TTY progress bar redrawn with `\r`). */
  write(text: string): void;
  /** Whether stdout is a terminal: progress bar and colours only then. */
  tty: boolean;
}

export interface Context {
  config: CliConfig;
  io: Io;
  /** Defaults to the global fetch; tests pass their own. */
  fetch?: typeof fetch;
}

/** A failure the CLI itself detects (missing credentials, a missing endpoint): printed, exit 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Exit codes of `get --wait` besides 0. */
export const EXIT_JOB_FAILED = 3;
export const EXIT_WAIT_TIMEOUT = 124;

function needKey(config: CliConfig): string {
  if (!config.apiKey)
    throw new CliError('CONVEYOR_API_KEY is not set (create one with "conveyor keys create").');
  return config.apiKey;
}

function needAdmin(config: CliConfig): string {
  if (!config.adminToken) throw new CliError("CONVEYOR_ADMIN_TOKEN is not set (the API's ADMIN_TOKEN).");
  return config.adminToken;
}

const clientOf = (ctx: Context): ConveyorClient =>
  createClient({ baseUrl: ctx.config.url, apiKey: needKey(ctx.config), fetch: ctx.fetch });

const httpOf = (ctx: Context): Http => createHttp(ctx.config.url, ctx.fetch);

const print = (ctx: Context, json: boolean, value: unknown, text: () => string) =>
  ctx.io.out(json ? JSON.stringify(value, null, 2) : text());

/**
 * Long-polls `GET /v1/jobs/{id}?wait=` until the job ends or `waitS` (0 = no limit) runs out. On a TTY
 * each poll holds at most 1 s so the bar moves with the job's progress (the API answers a wait early only
 * when the job ends); in a pipe it holds up to 30 s and prints a line only when something changed.
 */
async function waitForJob(ctx: Context, client: ConveyorClient, id: string, waitS: number): Promise<Job> {
  const { io } = ctx;
  const deadline = waitS > 0 ? Date.now() + waitS * 1000 : Number.POSITIVE_INFINITY;
  let job = await client.get(id);
  let last = '';
  const show = () => {
    const line = statusLine(job, io.tty);
    if (io.tty) io.write(`\r\x1b[2K${line}`);
    else if (line !== last) io.out(line);
    last = line;
  };
  show();
  while (!TERMINAL.has(job.status)) {
    const leftS = Math.floor((deadline - Date.now()) / 1000);
    if (leftS <= 0) break;
    job = await client.get(id, { wait: Math.min(io.tty ? 1 : 30, leftS) });
    show();
  }
  if (io.tty) io.write('\n');
  return job;
}

/** Runs one command; resolves with the exit code. API errors reject with ConveyorError. */
export async function run(command: Command, ctx: Context): Promise<number> {
  const { io, config } = ctx;
  switch (command.name) {
    case 'help':
      io.out(USAGE);
      return command.topic === undefined || command.topic === 'help' ? 0 : 2;

    case 'tenants.create': {
      const tenant = await httpOf(ctx).json<{ id: string; name: string }>(
        'POST',
        '/v1/admin/tenants',
        needAdmin(config),
        {
          name: command.tenantName,
        },
      );
      print(ctx, command.json, tenant, () => `created tenant ${tenant?.name} ${tenant?.id}`);
      return 0;
    }

    case 'keys.create': {
      const body: Record<string, unknown> = {};
      if (command.scopes) body.scopes = command.scopes;
      if (command.keyName) body.name = command.keyName;
      const created = await httpOf(ctx).json<{ id: string; key: string; scopes: string[] }>(
        'POST',
        `/v1/admin/tenants/${encodeURIComponent(command.tenant)}/api-keys`,
        needAdmin(config),
        body,
      );
      print(ctx, command.json, created, () =>
        [
          `created API key ${created?.id} (scopes: ${created?.scopes.join(', ')})`,
          `key: ${created?.key}`,
          'The key is shown only once. Use it as CONVEYOR_API_KEY.',
        ].join('\n'),
      );
      return 0;
    }

    case 'keys.revoke': {
      await httpOf(ctx).json(
        'DELETE',
        `/v1/admin/api-keys/${encodeURIComponent(command.id)}`,
        needAdmin(config),
      );
      print(ctx, command.json, { id: command.id, revoked: true }, () => `revoked API key ${command.id}`);
      return 0;
    }

    case 'submit': {
      // The API validates the type and payload against the catalog; the CLI passes them through as given.
      const job = await clientOf(ctx).submit(
        { type: command.type as JobType, payload: command.payload } as Parameters<
          ConveyorClient['submit']
        >[0],
        { idempotencyKey: command.idempotencyKey },
      );
      print(ctx, command.json, job, () => `submitted ${job.type} job ${job.id} (${job.status})`);
      return 0;
    }

    case 'get': {
      const client = clientOf(ctx);
      if (command.waitS === undefined) {
        const job = await client.get(command.id);
        print(ctx, command.json, job, () => jobSummary(job));
        return 0;
      }
      const job = await waitForJob(
        command.json ? { ...ctx, io: { ...io, tty: false, out: () => {} } } : ctx,
        client,
        command.id,
        command.waitS,
      );
      print(ctx, command.json, job, () => jobSummary(job));
      if (job.status === 'succeeded') return 0;
      return TERMINAL.has(job.status) ? EXIT_JOB_FAILED : EXIT_WAIT_TIMEOUT;
    }

    case 'events': {
      const client = clientOf(ctx);
      if (!command.follow) {
        const events = await client.events(command.id);
        print(ctx, command.json, events, () =>
          events.length ? events.map(eventLine).join('\n') : '(no events)',
        );
        return 0;
      }
      for await (const event of client.streamEvents(command.id)) {
        io.out(command.json ? JSON.stringify(event) : eventLine(event));
      }
      return 0;
    }

    case 'schedules.list': {
      const page = await clientOf(ctx).schedules.list({ limit: 100 });
      print(ctx, command.json, page, () =>
        page.data.length
          ? table(
              page.data.map((s) => ({
                id: s.id,
                name: s.name ?? '',
                cron: s.cron,
                timezone: s.timezone,
                type: String(s.template.type),
                paused: s.paused,
                nextRunAt: s.nextRunAt ?? '',
              })),
            )
          : '(no schedules)',
      );
      return 0;
    }

    case 'schedules.create': {
      // The API validates the cron, the zone and the template; the CLI passes them through as given.
      const schedule = await clientOf(ctx).schedules.create({
        cron: command.cron,
        template: { type: command.type, payload: command.payload },
        ...(command.timezone ? { timezone: command.timezone } : {}),
        ...(command.scheduleName ? { name: command.scheduleName } : {}),
        ...(command.overlap ? { overlap: command.overlap } : {}),
      } as Parameters<ConveyorClient['schedules']['create']>[0]);
      print(
        ctx,
        command.json,
        schedule,
        () =>
          `created schedule ${schedule.id} (${schedule.cron} ${schedule.timezone}; next ${schedule.nextRunAt})`,
      );
      return 0;
    }

    case 'schedules.delete': {
      await clientOf(ctx).schedules.delete(command.id);
      print(ctx, command.json, { id: command.id, deleted: true }, () => `deleted schedule ${command.id}`);
      return 0;
    }

    case 'queues': {
      let stats: unknown;
      try {
        stats = await httpOf(ctx).json('GET', '/v1/queues', needKey(config));
      } catch (error) {
        if (error instanceof ConveyorError && error.status === 404) {
          throw new CliError(
            `This API has no queue statistics (GET /v1/queues answered 404 at ${config.url}).`,
          );
        }
        throw error;
      }
      const rows = (stats as { data?: unknown })?.data;
      print(ctx, command.json, stats, () =>
        Array.isArray(rows) ? table(rows as Record<string, unknown>[]) : JSON.stringify(stats, null, 2),
      );
      return 0;
    }
  }
}
