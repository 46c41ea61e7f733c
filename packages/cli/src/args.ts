import { parseArgs } from 'node:util';

/** A command line the CLI understood. */
export type Command =
  | { name: 'help'; topic?: string | undefined }
  | { name: 'tenants.create'; tenantName: string; json: boolean }
  | {
      name: 'keys.create';
      tenant: string;
      scopes: string[] | undefined;
      keyName: string | undefined;
      json: boolean;
    }
  | { name: 'keys.revoke'; id: string; json: boolean }
  | { name: 'submit'; type: string; payload: unknown; idempotencyKey: string | undefined; json: boolean }
  /** `waitS`: undefined = answer at once; 0 = wait until the job ends; n = at most n seconds. */
  | { name: 'get'; id: string; waitS: number | undefined; json: boolean }
  | { name: 'events'; id: string; follow: boolean; json: boolean }
  | { name: 'queues'; json: boolean }
  | { name: 'schedules.list'; json: boolean }
  | {
      name: 'schedules.create';
      type: string;
      payload: unknown;
      cron: string;
      timezone: string | undefined;
      scheduleName: string | undefined;
      overlap: string | undefined;
      json: boolean;
    }
  | { name: 'schedules.delete'; id: string; json: boolean };

/** A command line the CLI did not understand; main prints it with the usage and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: conveyor <command> [options]

Commands:
  tenants create --name NAME              create a tenant (admin)
  keys create --tenant ID [--scopes S,S] [--name NAME]
                                          create an API key for a tenant; the key is shown once (admin)
  keys revoke ID                          revoke an API key (admin)
  submit TYPE [--payload JSON] [--idempotency-key K]
                                          submit a job, e.g. conveyor submit noop --payload '{"sleepMs":500}'
  get ID [--wait [SECONDS]]               show a job; --wait holds until it ends (at most SECONDS)
  events ID [--follow]                    a job's timeline; --follow streams it until the job ends
  queues                                  queue statistics (GET /v1/queues)
  schedules list                          the tenant's schedules, newest first
  schedules create TYPE --cron EXPR [--payload JSON] [--timezone TZ] [--name NAME] [--overlap skip|allow]
                                          submit a TYPE job at every cron tick, e.g. --cron '0 */15 * * * *'
  schedules delete ID                     delete a schedule (the jobs it made stay)

Options:
  --json                                  print the API's JSON instead of text
  -h, --help                              this help

Environment:
  CONVEYOR_URL          the API (default http://127.0.0.1:3000)
  CONVEYOR_API_KEY      tenant API key for submit, get, events, queues, schedules
  CONVEYOR_ADMIN_TOKEN  the deployment's ADMIN_TOKEN for tenants and keys

Exit codes: 0 done; 1 the API or the network refused; 2 usage; 3 get --wait ended in failed or canceled;
124 get --wait ran out of time before the job ended.`;

/**
 * `--wait` takes an optional value, which parseArgs cannot express: a `--wait` not followed by a number
 * becomes `--wait=0` (no limit), and `--wait 30` becomes `--wait=30`.
 */
function normalizeWait(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg !== '--wait') {
      out.push(arg);
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && /^\d+(\.\d+)?$/.test(next)) {
      out.push(`--wait=${next}`);
      i++;
    } else out.push('--wait=0');
  }
  return out;
}

const options = {
  name: { type: 'string' },
  tenant: { type: 'string' },
  scopes: { type: 'string', multiple: true },
  payload: { type: 'string' },
  cron: { type: 'string' },
  timezone: { type: 'string' },
  overlap: { type: 'string' },
  'idempotency-key': { type: 'string' },
  wait: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parsePayload(raw: string | undefined): unknown {
  if (raw === undefined) return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new UsageError('--payload is not valid JSON');
  }
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one ${what}`);
  return positionals[0]!;
}

/** Parses the arguments after `conveyor`. Throws UsageError. */
export function parseCommand(argv: readonly string[]): Command {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: normalizeWait(argv), options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values: v, positionals } = parsed;
  const [command, ...rest] = positionals;
  const json = v.json ?? false;
  if (v.help || command === undefined || command === 'help') return { name: 'help', topic: command };

  switch (command) {
    case 'tenants': {
      if (rest[0] !== 'create') throw new UsageError('expected "tenants create --name NAME"');
      if (!v.name) throw new UsageError('tenants create needs --name');
      return { name: 'tenants.create', tenantName: v.name, json };
    }
    case 'keys': {
      const [sub, ...args] = rest;
      if (sub === 'create') {
        if (!v.tenant) throw new UsageError('keys create needs --tenant ID');
        if (args.length) throw new UsageError(`unexpected argument "${args[0]}"`);
        const scopes = v.scopes
          ?.flatMap((s) => s.split(','))
          .map((s) => s.trim())
          .filter(Boolean);
        return { name: 'keys.create', tenant: v.tenant, scopes, keyName: v.name, json };
      }
      if (sub === 'revoke') return { name: 'keys.revoke', id: one(args, 'key id'), json };
      throw new UsageError('expected "keys create" or "keys revoke"');
    }
    case 'submit': {
      const type = one(rest, 'job type');
      const payload = parsePayload(v.payload);
      return { name: 'submit', type, payload, idempotencyKey: v['idempotency-key'], json };
    }
    case 'schedules': {
      const [sub, ...args] = rest;
      if (sub === 'list') {
        if (args.length) throw new UsageError(`unexpected argument "${args[0]}"`);
        return { name: 'schedules.list', json };
      }
      if (sub === 'create') {
        const type = one(args, 'job type');
        if (!v.cron) throw new UsageError('schedules create needs --cron EXPR');
        return {
          name: 'schedules.create',
          type,
          payload: parsePayload(v.payload),
          cron: v.cron,
          timezone: v.timezone,
          scheduleName: v.name,
          overlap: v.overlap,
          json,
        };
      }
      if (sub === 'delete') return { name: 'schedules.delete', id: one(args, 'schedule id'), json };
      throw new UsageError('expected "schedules list", "schedules create" or "schedules delete"');
    }
    case 'get': {
      const id = one(rest, 'job id');
      const waitS = v.wait === undefined ? undefined : Number(v.wait);
      if (waitS !== undefined && !(Number.isFinite(waitS) && waitS >= 0)) {
        throw new UsageError('--wait takes a number of seconds');
      }
      return { name: 'get', id, waitS, json };
    }
    case 'events':
      return { name: 'events', id: one(rest, 'job id'), follow: v.follow ?? false, json };
    case 'queues':
      if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
      return { name: 'queues', json };
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}
