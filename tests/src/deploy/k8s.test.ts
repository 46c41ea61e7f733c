import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadApiConfig } from '@conveyor/api';
import { queueNames, workerQueueNames } from '@conveyor/shared';
import { loadWorkerConfig } from '@conveyor/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../helpers/env';
import { createHarness, type Harness } from '../helpers/harness';

/**
 * deploy/k8s has no cluster to run in here, so it is checked by reading it: every manifest parses and is
 * namespace-agnostic, every variable it sets is one the apps read, each queue has its worker Deployment
 * (and catalog queues a queue-depth autoscaler on a metric the API really exports), probes hit real
 * routes, ports and grace periods follow the apps' own defaults, and images run what the Dockerfiles build.
 */

const DIR = 'deploy/k8s';
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked field by field below.
type Yaml = any;
type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: Yaml };
  spec?: Yaml;
  [k: string]: Yaml;
};
interface Loaded {
  file: string;
  doc: Manifest;
}

const files = readdirSync(join(REPO_ROOT, DIR)).filter((f) => f.endsWith('.yaml'));
const loaded: Loaded[] = files.flatMap((file) =>
  parseAllDocuments(read(join(DIR, file))).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return { file, doc: d.toJS() as Manifest };
  }),
);
const manifests = loaded.filter((l) => l.doc.kind !== 'Kustomization');
const ofKind = (kind: string) => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
const named = (kind: string, name: string) => {
  const found = ofKind(kind).find((d) => d.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const deployments = ofKind('Deployment');
const workers = deployments.filter((d) => d.metadata.name.startsWith('conveyor-worker-'));
const api = named('Deployment', 'conveyor-api');
const container = (d: Manifest) => d.spec.template.spec.containers[0];

/** `.env.example`'s KEY=value lines by `# [section]`. */
const envSections = (() => {
  const sections = new Map<string, string>();
  let section = '';
  for (const line of read('.env.example').split('\n')) {
    const tag = /^# \[([a-z-]+)\]/.exec(line);
    if (tag) section = tag[1]!;
    const kv = /^([A-Z][A-Z0-9_]*)=/.exec(line);
    if (kv) sections.set(kv[1]!, section);
  }
  return sections;
})();

const configMap = (name: string): Record<string, string> => named('ConfigMap', name).data ?? {};
const secret = (name: string): Record<string, string> => named('Secret', name).stringData ?? {};

/** The variables a container starts with: its envFrom sources, then its own `env` literals. */
function environmentOf(d: Manifest): Record<string, string> {
  const c = container(d);
  const vars: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(vars, configMap(from.configMapRef.name));
    if (from.secretRef) Object.assign(vars, secret(from.secretRef.name));
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) vars[e.name] = String(e.value);
    else if (e.valueFrom?.secretKeyRef)
      vars[e.name] = secret(e.valueFrom.secretKeyRef.name)[e.valueFrom.secretKeyRef.key]!;
  }
  return vars;
}

const kustomization = loaded.find((l) => l.file === 'kustomization.yaml')!.doc as unknown as {
  resources: string[];
  images: { name: string }[];
};

describe('deploy/k8s manifests', () => {
  it('parse, name their kind with the right apiVersion, and leave the namespace to the caller', () => {
    const apiVersions: Record<string, string> = {
      Deployment: 'apps/v1',
      Service: 'v1',
      ConfigMap: 'v1',
      Secret: 'v1',
      PersistentVolumeClaim: 'v1',
      PodDisruptionBudget: 'policy/v1',
      ScaledObject: 'keda.sh/v1alpha1',
      Job: 'batch/v1',
    };
    expect(manifests.length).toBeGreaterThan(10);
    for (const { file, doc } of manifests) {
      expect(apiVersions[doc.kind], `${file}: ${doc.kind}`).toBe(doc.apiVersion);
      expect(doc.metadata.name, file).toMatch(/^conveyor(-[a-z0-9]+)*$/);
      expect(doc.metadata.namespace, `${file}: ${doc.metadata.name}`).toBeUndefined();
      expect(doc.metadata.labels?.['app.kubernetes.io/name'], `${file}: ${doc.metadata.name}`).toBe(
        'conveyor',
      );
    }
    const names = manifests.map((m) => `${m.doc.kind}/${m.doc.metadata.name}`);
    expect(names).toEqual([...new Set(names)]);
  });

  it('lists every manifest in kustomization.yaml except the one-shot migration Job', () => {
    const expected = files.filter((f) => f !== 'kustomization.yaml' && f !== 'migrate-job.yaml');
    expect([...kustomization.resources].sort()).toEqual(expected.sort());
    const images = new Set(deployments.map((d) => container(d).image as string));
    expect(kustomization.images.map((i) => i.name).sort()).toEqual([...images].sort());
  });

  it('sets only variables .env.example documents, each in a section of an app that reads it', () => {
    const check = (vars: Record<string, string>, allowed: string[], where: string) => {
      for (const name of Object.keys(vars))
        expect(allowed, `${where}: ${name}`).toContain(envSections.get(name));
    };
    check(configMap('conveyor-shared'), ['shared'], 'ConfigMap conveyor-shared');
    check(configMap('conveyor-api'), ['api'], 'ConfigMap conveyor-api');
    check(configMap('conveyor-worker'), ['worker'], 'ConfigMap conveyor-worker');
    check(secret('conveyor-secrets'), ['shared', 'api'], 'Secret conveyor-secrets');
    for (const d of workers) {
      const own = Object.fromEntries((container(d).env ?? []).map((e: { name: string }) => [e.name, '']));
      check(own, ['worker'], d.metadata.name);
    }
    // And the apps start with them: each container's environment passes its app's own config check.
    expect(() => loadApiConfig(environmentOf(api))).not.toThrow();
    for (const d of workers) expect(() => loadWorkerConfig(environmentOf(d)), d.metadata.name).not.toThrow();
  });

  it('runs one worker Deployment per queue, and scales each catalog queue on its queue depth', () => {
    const served = workers.flatMap((d) =>
      loadWorkerConfig(environmentOf(d)).WORKER_QUEUES.map((queue) => ({ queue, name: d.metadata.name })),
    );
    expect(served.map((s) => s.queue).sort()).toEqual([...workerQueueNames].sort());
    // The metric and its labels, as the API registers them.
    const registry = read('apps/api/src/metrics/registry.ts');
    expect(registry).toMatch(/name: 'conveyor_queue_jobs',[\s\S]{0,200}labelNames: \['queue', 'state'\]/);
    expect(registry).toContain("for (const state of ['waiting'");
    for (const queue of queueNames) {
      const deployment = named('Deployment', `conveyor-worker-${queue}`);
      expect(served.find((s) => s.queue === queue)?.name).toBe(deployment.metadata.name);
      const scaler = ofKind('ScaledObject').find(
        (s) => s.spec.scaleTargetRef.name === deployment.metadata.name,
      );
      expect(scaler, `autoscaler of ${queue}`).toBeDefined();
      const trigger = scaler!.spec.triggers[0];
      expect(trigger.type).toBe('prometheus');
      expect(trigger.metadata.query).toBe(
        `max by (queue) (conveyor_queue_jobs{queue="${queue}",state="waiting"})`,
      );
      expect(Number(trigger.metadata.threshold)).toBeGreaterThan(0);
      expect(scaler!.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(scaler!.spec.maxReplicaCount).toBeGreaterThan(scaler!.spec.minReplicaCount);
      // The autoscaler owns the replica count: a fixed one would be reset on every apply.
      expect(deployment.spec.replicas, deployment.metadata.name).toBeUndefined();
    }
    for (const scaler of ofKind('ScaledObject')) named('Deployment', scaler.spec.scaleTargetRef.name);
  });

  it('opens the ports the apps listen on by default', () => {
    const apiPort = loadApiConfig({}).PORT;
    const metricsPort = loadWorkerConfig({}).WORKER_METRICS_PORT;
    expect(container(api).ports).toEqual([{ name: 'http', containerPort: apiPort }]);
    expect(Number(environmentOf(api).PORT)).toBe(apiPort);
    expect(api.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(apiPort));
    for (const d of workers) {
      expect(container(d).ports, d.metadata.name).toEqual([{ name: 'metrics', containerPort: metricsPort }]);
      expect(Number(environmentOf(d).WORKER_METRICS_PORT)).toBe(metricsPort);
      expect(d.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(metricsPort));
    }
    const service = named('Service', 'conveyor-api');
    expect(service.spec.selector).toEqual(api.spec.template.metadata.labels);
    expect(service.spec.ports[0].targetPort).toBe('http');
  });

  it('gives every pod longer to stop than its app takes to drain', () => {
    const apiMargin = Number(
      /API_SHUTDOWN_GRACE_MS \+ ([\d_]+)/.exec(read('apps/api/src/main.ts'))![1]!.replace(/_/g, ''),
    );
    const workerMargin = Number(
      /WORKER_SHUTDOWN_GRACE_MS \+ ([\d_]+)/.exec(read('apps/worker/src/main.ts'))![1]!.replace(/_/g, ''),
    );
    const preStop = container(api).lifecycle.preStop.exec.command as string[];
    expect(preStop[0]).toBe('sleep');
    const apiGrace = loadApiConfig(environmentOf(api)).API_SHUTDOWN_GRACE_MS;
    expect(api.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(
      Number(preStop[1]) * 1000 + apiGrace + apiMargin,
    );
    for (const d of workers) {
      const grace = loadWorkerConfig(environmentOf(d)).WORKER_SHUTDOWN_GRACE_MS;
      expect(
        d.spec.template.spec.terminationGracePeriodSeconds * 1000,
        d.metadata.name,
      ).toBeGreaterThanOrEqual(grace + workerMargin);
    }
  });

  it('runs the images the Dockerfiles build, with their own CMD, sharing one ReadWriteMany storage volume', () => {
    const built = (dockerfile: string, image: string, target?: string) =>
      expect(read(dockerfile)).toMatch(
        new RegExp(`docker build -f ${dockerfile}${target ? ` --target ${target}` : ''} -t ${image} \\.`),
      );
    built('apps/api/Dockerfile', container(api).image);
    for (const d of workers) built('apps/worker/Dockerfile', container(d).image);
    const migrate = named('Job', 'conveyor-migrate').spec.template.spec.containers[0];
    built('apps/api/Dockerfile', migrate.image, 'migrate');
    expect(read('apps/api/Dockerfile')).toContain(
      `CMD ${JSON.stringify(migrate.command).replace(/,/g, ', ')}`,
    );
    for (const d of deployments) {
      expect(container(d).command, d.metadata.name).toBeUndefined();
      expect(container(d).args, d.metadata.name).toBeUndefined();
      const dir = environmentOf(d).STORAGE_DIR;
      const mount = container(d).volumeMounts.find((m: { mountPath: string }) => m.mountPath === dir);
      expect(mount, `${d.metadata.name} mounts STORAGE_DIR`).toBeDefined();
      const volume = d.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name);
      expect(volume.persistentVolumeClaim.claimName).toBe('conveyor-storage');
    }
    expect(named('PersistentVolumeClaim', 'conveyor-storage').spec.accessModes).toEqual(['ReadWriteMany']);
  });

  it('protects every Deployment with a PodDisruptionBudget and keeps two API replicas', () => {
    expect(api.spec.replicas).toBeGreaterThanOrEqual(2);
    for (const d of deployments) {
      const pdb = ofKind('PodDisruptionBudget').find(
        (p) => JSON.stringify(p.spec.selector.matchLabels) === JSON.stringify(d.spec.selector.matchLabels),
      );
      expect(pdb, `PodDisruptionBudget of ${d.metadata.name}`).toBeDefined();
      expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
    }
  });

  describe('probes', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('point at routes the API answers 200 on', async () => {
      const c = container(api);
      expect(c.readinessProbe.httpGet.port).toBe('http');
      expect(c.livenessProbe.httpGet.port).toBe('http');
      for (const probe of [c.readinessProbe, c.livenessProbe]) {
        const res = await h.app.request(probe.httpGet.path);
        expect(res.status, probe.httpGet.path).toBe(200);
      }
      expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(c.livenessProbe.httpGet.path).toBe('/health/live');
      // Workers serve only GET /metrics on their metrics port (apps/worker/src/metrics-server.ts).
      expect(read('apps/worker/src/metrics-server.ts')).toContain("path !== '/metrics'");
      for (const d of workers)
        expect(container(d).livenessProbe.httpGet).toEqual({ path: '/metrics', port: 'metrics' });
    });
  });
});
