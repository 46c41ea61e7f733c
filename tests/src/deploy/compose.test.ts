import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadApiConfig } from '@conveyor/api';
import { queueNames, workerQueueNames } from '@conveyor/shared';
import { loadWorkerConfig } from '@conveyor/worker';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../helpers/env';

/**
 * There is no Docker engine here, so the deployment files are checked by reading them: docker-compose.yml,
 * the Dockerfiles it builds, and .env.example, which must agree with the config.ts files both ways.
 */

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

interface EnvEntry {
  name: string;
  value: string;
  section: string | undefined;
  documented: boolean;
}

/** KEY=value lines of .env.example, each with the `# [section]` it sits under and whether a comment precedes it. */
function parseEnvExample(text: string): EnvEntry[] {
  const entries: EnvEntry[] = [];
  let section: string | undefined;
  let comment = false;
  for (const line of text.split('\n')) {
    const tag = /^# \[([a-z-]+)\]/.exec(line);
    if (tag) [section, comment] = [tag[1], false];
    else if (line.startsWith('#')) comment = true;
    else if (line.trim() === '') comment = false;
    else {
      const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (!m) throw new Error(`.env.example: not a KEY=value line: ${line}`);
      entries.push({ name: m[1]!, value: m[2]!, section, documented: comment });
      comment = false;
    }
  }
  return entries;
}

/** The `NAME:` keys of a config source's zod object (environment variable names are upper snake case). */
const configKeys = (path: string) =>
  new Set([...read(path).matchAll(/^\s*([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!));

const env = parseEnvExample(read('.env.example'));
const names = (...sections: string[]) =>
  env.filter((e) => sections.includes(e.section ?? '')).map((e) => e.name);
const apiKeys = configKeys('apps/api/src/config.ts');
const workerKeys = configKeys('apps/worker/src/config.ts');
const cliKeys = configKeys('packages/db/src/cli/config.ts');
const perQueueKeys = workerQueueNames.map(
  (q) => `WORKER_CONCURRENCY_${q.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`,
);

// Compose honours YAML merge keys (`<<: *worker`); the yaml package needs them switched on.
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Record<string, unknown> & { environment?: Record<string, unknown> | string[] }>;
};
const service = (name: string) => compose.services[name]!;
const environmentOf = (name: string): Record<string, string> => {
  const e = service(name).environment ?? {};
  const pairs = Array.isArray(e) ? e.map((kv) => kv.split(/=(.*)/s)) : Object.entries(e);
  return Object.fromEntries(pairs.map(([k, v]) => [k, String(v ?? '')]));
};
/** `${NAME:-default}` as compose resolves it with nothing set in the environment or `.env`. */
const interpolated = (vars: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(vars).map(([k, v]) => [k, v.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1')]),
  );
const workerServices = () => Object.keys(compose.services).filter((n) => n.startsWith('worker-'));
const appServices = () => ['api', ...workerServices()];
const commandText = (cmd: unknown) => (Array.isArray(cmd) ? cmd.join(' ') : String(cmd ?? ''));

interface Stage {
  name: string;
  from: string;
  instructions: { op: string; args: string }[];
}

/** Dockerfile stages with their instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text.replace(/\\\n/g, ' ').split('\n');
  for (const line of logical) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m || line.trim().startsWith('#')) continue;
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === 'FROM') {
      const [from, , as] = args.split(/\s+/);
      stages.push({ name: as ?? String(stages.length), from: from!, instructions: [] });
    } else stages.at(-1)?.instructions.push({ op, args });
  }
  return stages;
}

/** A stage and the stages it is built FROM, nearest first. */
function lineage(stages: Stage[], name: string): Stage[] {
  const chain: Stage[] = [];
  for (let s = stages.find((x) => x.name === name); s; s = stages.find((x) => x.name === s!.from))
    chain.push(s);
  return chain;
}

/** The value of the last `op` instruction in effect for a stage (inherited from its parents). */
const lastOf = (chain: Stage[], op: string) =>
  chain.flatMap((s) => s.instructions.filter((i) => i.op === op).reverse()).at(0)?.args;

/** The image a compose service (or, for `worker`, every worker-* service) builds. */
const built = (name: string) => {
  const build = service(name === 'worker' ? 'worker-default' : name).build as {
    context: string;
    dockerfile: string;
    target?: string;
  };
  const path = join(build.context, build.dockerfile);
  const stages = parseDockerfile(read(path));
  return { path, stages, chain: lineage(stages, build.target ?? stages.at(-1)!.name), target: build.target };
};

describe('.env.example', () => {
  it('documents every variable once, under a known section, with a comment line', () => {
    expect(env.map((e) => e.name)).toEqual([...new Set(env.map((e) => e.name))]);
    for (const e of env) {
      expect(['shared', 'api', 'worker', 'tests'], e.name).toContain(e.section);
      expect(e.documented, `${e.name} has no comment line`).toBe(true);
    }
  });

  it('lists every variable the API, the worker and the db CLIs read', () => {
    expect([...apiKeys].filter((k) => !names('shared', 'api').includes(k))).toEqual([]);
    expect([...workerKeys, ...perQueueKeys].filter((k) => !names('shared', 'worker').includes(k))).toEqual(
      [],
    );
    expect([...cliKeys].filter((k) => !names('shared').includes(k))).toEqual([]);
  });

  it('lists no variable that the config files do not read', () => {
    expect(names('shared').filter((k) => !apiKeys.has(k) || !workerKeys.has(k))).toEqual([]);
    expect(names('api').filter((k) => !apiKeys.has(k))).toEqual([]);
    expect(names('worker').filter((k) => !workerKeys.has(k) && !perQueueKeys.includes(k))).toEqual([]);
    // The per-queue pattern still exists in the worker config.
    expect(read('apps/worker/src/config.ts')).toContain('WORKER_CONCURRENCY_${');
    const helpers = ['packages/db/src/testing.ts', 'tests/src/helpers/harness.ts'].map(read).join('\n');
    for (const name of names('tests')) expect(helpers).toContain(`process.env.${name}`);
  });

  it('gives each variable its default as the value', () => {
    const values = Object.fromEntries(env.map((e) => [e.name, e.value]));
    expect(loadApiConfig(values)).toEqual(loadApiConfig({}));
    expect(loadWorkerConfig(values)).toEqual(loadWorkerConfig({}));
    expect(read('packages/db/src/cli/config.ts')).toContain(`'${values.DATABASE_URL}'`);
    expect(read('packages/db/src/testing.ts')).toMatch(
      new RegExp(`\\?\\?\\s*'${values.TEST_DATABASE_URL!.replace(/[.]/g, '\\.')}'`),
    );
    expect(read('tests/src/helpers/harness.ts')).toContain(`TEST_LOG_LEVEL ?? '${values.TEST_LOG_LEVEL}'`);
  });
});

describe('docker-compose.yml', () => {
  it('defines postgres, redis, migrate, api, nginx and one worker service per queue', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'migrate', 'api', 'nginx']),
    );
    expect(compose.services.worker, 'the all-queues worker is split per queue').toBeUndefined();
    expect(String(service('postgres').image)).toMatch(/^postgres:16/);
    expect(commandText((service('postgres').healthcheck as { test: unknown }).test)).toContain('pg_isready');
    expect(String(service('redis').image)).toMatch(/^redis:7/);
    expect((service('redis').healthcheck as { test: unknown }).test).toBeDefined();
    for (const name of ['postgres', 'redis']) expect(service(name).volumes, name).toHaveLength(1);
  });

  it('runs redis with noeviction and an append-only file', () => {
    const command = commandText(service('redis').command);
    expect(command).toMatch(/--maxmemory-policy\s+noeviction/);
    expect(command).toMatch(/--appendonly\s+yes/);
  });

  it('migrates once before the api and the workers start, once redis is healthy', () => {
    expect(commandText(service('migrate').command)).toContain('npm run db:migrate');
    expect(service('migrate').depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    for (const name of appServices()) {
      expect(service(name).depends_on, name).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
    }
    // Uploads written by the API are read by the workers: one storage volume for all of them.
    for (const name of appServices()) {
      expect(environmentOf(name).STORAGE_DIR, name).toBe(environmentOf('api').STORAGE_DIR);
      expect(service(name).volumes, name).toContain(`storage:${environmentOf(name).STORAGE_DIR}`);
    }
  });

  it('gives every catalog queue a worker service of its own and serves every worker queue exactly once', () => {
    const served = workerServices().flatMap((name) => {
      const queues = environmentOf(name).WORKER_QUEUES!.split(',');
      // Each service must start: its environment passes the worker's own config check.
      expect(loadWorkerConfig(interpolated(environmentOf(name))).WORKER_QUEUES, name).toEqual(queues);
      return queues.map((queue) => ({ name, queue }));
    });
    expect(served.map((s) => s.queue).sort()).toEqual([...workerQueueNames].sort());
    for (const queue of queueNames) {
      expect(served.find((s) => s.queue === queue)?.name, queue).toBe(`worker-${queue}`);
    }
    // A queue without a service of its own (an internal one) rides along with worker-default.
    for (const { name, queue } of served)
      expect([`worker-${queue}`, 'worker-default'], queue).toContain(name);
  });

  it('lets `--scale` multiply the api and every worker: no fixed names, no published ports', () => {
    for (const name of appServices()) {
      expect(service(name).container_name, name).toBeUndefined();
      expect(service(name).ports, name).toBeUndefined();
      expect(service(name).build, name).toBeDefined();
    }
    expect((service('api').deploy as { replicas: number }).replicas).toBeGreaterThanOrEqual(2);
    // Each worker's own per-queue knob is passed through; the metrics port stays inside the container.
    for (const name of workerServices()) {
      const vars = environmentOf(name);
      for (const queue of vars.WORKER_QUEUES!.split(','))
        expect(Object.keys(vars), name).toContain(`WORKER_CONCURRENCY_${queue.toUpperCase()}`);
      expect(service(name).stop_grace_period, name).toBe('45s');
    }
  });

  it('puts nginx with the committed config in front of the api replicas', () => {
    const nginx = service('nginx');
    expect(String(nginx.image)).toMatch(/^nginx:1\.\d+/);
    expect(nginx.volumes).toContain('./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(existsSync(join(REPO_ROOT, 'deploy/nginx/nginx.conf'))).toBe(true);
    const conf = read('deploy/nginx/nginx.conf');
    const listen = /^\s*listen (\d+);$/m.exec(conf)![1];
    expect(nginx.ports).toEqual([`3000:${listen}`]);
    expect(nginx.depends_on).toMatchObject({ api: { condition: 'service_healthy' } });
    expect(conf).toMatch(new RegExp(`^\\s*server api:${environmentOf('api').PORT}[ ;]`, 'm'));
    // One proxy in front of the API: it must trust exactly the X-Forwarded-For entry nginx appends.
    expect(environmentOf('api').TRUST_PROXY).toBe('1');
    expect(conf).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
  });

  it('points the apps at the compose services and names only documented variables', () => {
    for (const [name, sections] of [
      ['api', ['shared', 'api']],
      ...workerServices().map((w) => [w, ['shared', 'worker']] as const),
      ['migrate', ['shared']],
    ] as const) {
      const vars = environmentOf(name);
      expect(
        Object.keys(vars).filter((k) => !names(...sections).includes(k)),
        name,
      ).toEqual([]);
      expect(new URL(vars.DATABASE_URL!).hostname, name).toBe('postgres');
      if (name !== 'migrate') expect(new URL(vars.REDIS_URL!).hostname, name).toBe('redis');
    }
  });
});

describe('Dockerfiles', () => {
  it.each(['api', 'worker'])('%s: builds the app and runs its dist/main.js as a non-root user', (app) => {
    const { path, stages, chain } = built(app);
    expect(existsSync(join(REPO_ROOT, path)), path).toBe(true);
    expect(chain.at(-1)!.from).toMatch(/^node:22/);
    expect(lastOf(chain, 'CMD') ?? lastOf(chain, 'ENTRYPOINT')).toMatch(
      new RegExp(`node.*apps/${app}/dist/main\\.js`),
    );
    expect(lastOf(chain, 'USER')).toMatch(/^(?!root$|0$)\S+$/);
    const runs = stages.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args));
    expect(runs.some((r) => r.includes('npm ci'))).toBe(true);
    expect(runs).toContain(`npm run build --workspace @conveyor/${app}`);
  });

  it('copies every workspace manifest before npm ci', () => {
    const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
    const dirs = workspaces.flatMap((w) =>
      w.endsWith('/*')
        ? readdirSync(join(REPO_ROOT, w.slice(0, -2))).map((d) => `${w.slice(0, -2)}/${d}`)
        : [w],
    );
    const manifests = dirs.filter((d) => existsSync(join(REPO_ROOT, d, 'package.json')));
    for (const app of ['api', 'worker']) {
      const text = read(built(app).path);
      for (const dir of manifests) expect(text, `${app}: ${dir}`).toContain(`COPY ${dir}/package.json`);
    }
  });

  it('gives migrate an image with dev dependencies (tsx) and the db sources', () => {
    const { chain, target } = built('migrate');
    expect(target).toBeDefined();
    const runs = chain.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args));
    expect(runs.some((r) => r.includes('npm ci') && !r.includes('--omit=dev'))).toBe(true);
    expect(chain.some((s) => s.instructions.some((i) => i.op === 'COPY' && /^\.\s+\.$/.test(i.args)))).toBe(
      true,
    );
  });

  it('keeps node_modules, build output and .env out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['**/node_modules', '**/dist', '.env']) expect(ignored).toContain(entry);
  });
});
