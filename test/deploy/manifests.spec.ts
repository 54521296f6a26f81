// Checks docker-compose.yml and the Kubernetes manifests in deploy/k8s against the
// services' own settings (apps/<name>/src/config/env.schema.ts): ports, probes,
// every environment variable's name and value, where secrets come from, migrations,
// the NATS cluster. A failure lists each disagreement as "<service>: <what>".
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { ConfigSpec } from '@musubi/platform/config';
import { auditSettings } from '../../apps/audit/src/config/env.schema.js';
import { authnSettings } from '../../apps/authn/src/config/env.schema.js';
import { billingSettings } from '../../apps/billing/src/config/env.schema.js';
import { directorySettings } from '../../apps/directory/src/config/env.schema.js';
import { federationSettings } from '../../apps/federation/src/config/env.schema.js';
import { gatewaySettings } from '../../apps/gateway/src/config/env.schema.js';
import { keysSettings } from '../../apps/keys/src/config/env.schema.js';
import { mfaSettings } from '../../apps/mfa/src/config/env.schema.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const K8S_DIR = join(ROOT, 'deploy', 'k8s');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
/** Not applied by kustomize: placeholder Secrets, read here to check every secretKeyRef. */
const SECRETS_EXAMPLE = 'secrets.example.yaml';

const SETTINGS: Readonly<Record<string, ConfigSpec>> = {
  gateway: gatewaySettings,
  authn: authnSettings,
  directory: directorySettings,
  federation: federationSettings,
  mfa: mfaSettings,
  keys: keysSettings,
  audit: auditSettings,
  billing: billingSettings,
};
const SERVICES = Object.keys(SETTINGS);

/** Only the migrate command may hold the Postgres admin URL. */
const ADMIN_URL = 'DATABASE_ADMIN_URL';
/** runMain() exits on its own this long after SHUTDOWN_TIMEOUT_MS (libs/platform/runtime/src/main.ts). */
const SHUTDOWN_MARGIN_MS = 5000;

// ---------------------------------------------------------------- what each service declares

interface ServiceFacts {
  readonly name: string;
  readonly spec: ConfigSpec;
  readonly httpPort: number;
  /** The gateway's public PORT; null for the others. */
  readonly publicPort: number | null;
  readonly ownsDatabase: boolean;
  readonly required: readonly string[];
  readonly secrets: readonly string[];
}

function facts(name: string): ServiceFacts {
  const spec = SETTINGS[name]!;
  const portOf = (key: string) => (spec[key]?.default === undefined ? null : Number(spec[key].default));
  const httpPort = portOf('HTTP_PORT');
  if (httpPort === null) throw new Error(`${name}: its settings declare no HTTP_PORT default`);
  return {
    name,
    spec,
    httpPort,
    publicPort: portOf('PORT'),
    ownsDatabase: 'DATABASE_URL' in spec,
    required: Object.entries(spec)
      .filter(([, s]) => s.default === undefined && !s.optional)
      .map(([k]) => k),
    secrets: Object.entries(spec)
      .filter(([, s]) => s.secret)
      .map(([k]) => k),
  };
}

const FACTS = Object.fromEntries(SERVICES.map((s) => [s, facts(s)])) as Readonly<Record<string, ServiceFacts>>;

// ---------------------------------------------------------------- loading YAML

type Obj = Record<string, unknown>;

interface Doc {
  readonly file: string;
  readonly value: Obj;
}

const parseErrors: string[] = [];

function loadYaml(path: string): Doc[] {
  const file = relative(ROOT, path).split(sep).join('/');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    parseErrors.push(`${file}: cannot be read: ${(err as Error).message}`);
    return [];
  }
  const out: Doc[] = [];
  // merge: compose files use YAML merge keys (<<: *anchor), as Docker Compose does
  for (const doc of parseAllDocuments(text, { merge: true })) {
    if (doc.errors.length > 0) {
      parseErrors.push(...doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`));
      continue;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      parseErrors.push(`${file}: a document is not a mapping`);
      continue;
    }
    out.push({ file, value: value as Obj });
  }
  return out;
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...yamlFiles(full));
    else if (/\.ya?ml$/.test(name)) out.push(full);
  }
  return out;
}

const k8sFiles = yamlFiles(K8S_DIR);
const k8sDocs = k8sFiles.flatMap(loadYaml);
const kustomization = k8sDocs.find((d) => d.file === 'deploy/k8s/kustomization.yaml')?.value;
/** What `kubectl apply -k` creates. */
const manifests = k8sDocs.filter((d) => !d.file.endsWith('/kustomization.yaml') && !d.file.endsWith(`/${SECRETS_EXAMPLE}`));
const exampleSecrets = k8sDocs.filter((d) => d.file.endsWith(`/${SECRETS_EXAMPLE}`));
const compose = loadYaml(COMPOSE_FILE)[0]?.value ?? {};

// ---------------------------------------------------------------- small accessors

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const kindOf = (d: Doc) => str(d.value['kind']);
const nameOf = (d: Doc) => str(obj(d.value['metadata'])['name']);
const find = (docs: readonly Doc[], kind: string, name: string) => docs.find((d) => kindOf(d) === kind && nameOf(d) === name);
const ofKind = (docs: readonly Doc[], kind: string) => docs.filter((d) => kindOf(d) === kind);
const labelsMatch = (selector: unknown, labels: unknown) => {
  const want = Object.entries(obj(selector));
  const have = obj(labels);
  return want.length > 0 && want.every(([k, v]) => have[k] === v);
};

/** The argv a container or compose service runs (command + args), as strings. */
function argvOf(c: Obj): string[] {
  const parts = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.trim().split(/\s+/) : []);
  return [...parts(c['command']), ...parts(c['args'])];
}

/** Which service (and whether its migrate command) an argv runs: `node apps/<name>/dist/main.js [migrate]`. */
function runs(argv: readonly string[]): { service: string; migrate: boolean } | null {
  const at = argv.findIndex((a) => /(^|\/)apps\/[^/]+\/dist\/main\.js$/.test(a));
  if (at < 0) return null;
  const service = /apps\/([^/]+)\/dist\/main\.js$/.exec(argv[at]!)![1]!;
  return { service, migrate: argv[at + 1] === 'migrate' };
}

interface PodWorkload {
  readonly doc: Doc;
  readonly kind: string;
  readonly name: string;
  readonly replicas: number | undefined;
  readonly podLabels: Obj;
  readonly podAnnotations: Obj;
  readonly pod: Obj;
  readonly containers: Obj[];
  readonly initContainers: Obj[];
}

function workloads(): PodWorkload[] {
  return manifests
    .filter((d) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(kindOf(d) ?? ''))
    .map((doc) => {
      const spec = obj(doc.value['spec']);
      const template = obj(spec['template']);
      const pod = obj(template['spec']);
      return {
        doc,
        kind: kindOf(doc)!,
        name: nameOf(doc) ?? '?',
        replicas: typeof spec['replicas'] === 'number' ? spec['replicas'] : undefined,
        podLabels: obj(obj(template['metadata'])['labels']),
        podAnnotations: obj(obj(template['metadata'])['annotations']),
        pod,
        containers: arr(pod['containers']),
        initContainers: arr(pod['initContainers']),
      };
    });
}
const WORKLOADS = workloads();

// ---------------------------------------------------------------- environment of a container

type Source = 'value' | 'secretKeyRef' | 'configMapKeyRef' | 'envFrom ConfigMap' | 'envFrom Secret' | 'fieldRef' | 'other';

interface EnvEntry {
  readonly name: string;
  readonly source: Source;
  /** The value, when known (literal, ConfigMap, or the example Secret's placeholder). */
  readonly value: string | undefined;
  readonly from: string;
}

/** Every variable a Kubernetes container gets, in the order Kubernetes applies them (later wins). */
function k8sEnv(c: Obj, where: string, problems: string[]): EnvEntry[] {
  const out: EnvEntry[] = [];
  for (const ef of arr(c['envFrom'])) {
    const prefix = str(ef['prefix']) ?? '';
    const cmName = str(obj(ef['configMapRef'])['name']);
    const secName = str(obj(ef['secretRef'])['name']);
    if (cmName !== undefined) {
      const cm = find(manifests, 'ConfigMap', cmName);
      if (!cm) problems.push(`${where}: envFrom ConfigMap "${cmName}" is not defined in deploy/k8s`);
      for (const [k, v] of Object.entries(obj(cm?.value['data'])))
        out.push({ name: prefix + k, source: 'envFrom ConfigMap', value: str(v), from: `ConfigMap ${cmName}` });
    } else if (secName !== undefined) {
      const sec = find(exampleSecrets, 'Secret', secName);
      if (!sec) problems.push(`${where}: envFrom Secret "${secName}" is not described in deploy/k8s/${SECRETS_EXAMPLE}`);
      for (const [k, v] of Object.entries({ ...obj(sec?.value['data']), ...obj(sec?.value['stringData']) }))
        out.push({ name: prefix + k, source: 'envFrom Secret', value: str(v), from: `Secret ${secName}` });
    }
  }
  const seen = new Set<string>();
  for (const e of arr(c['env'])) {
    const name = str(e['name']) ?? '?';
    if (seen.has(name)) problems.push(`${where}: sets ${name} twice`);
    seen.add(name);
    const vf = obj(e['valueFrom']);
    if ('value' in e || !('valueFrom' in e)) {
      out.push({ name, source: 'value', value: str(e['value']) ?? '', from: 'a literal value' });
    } else if (isObj(vf['secretKeyRef'])) {
      const ref = vf['secretKeyRef'];
      const secretName = str(ref['name']) ?? '?';
      const key = str(ref['key']) ?? '?';
      const sec = find(exampleSecrets, 'Secret', secretName);
      const data = { ...obj(sec?.value['data']), ...obj(sec?.value['stringData']) };
      if (!sec) problems.push(`${where}: ${name} refers to Secret "${secretName}", which deploy/k8s/${SECRETS_EXAMPLE} does not describe`);
      else if (!(key in data)) problems.push(`${where}: ${name} refers to key "${key}" of Secret "${secretName}", which deploy/k8s/${SECRETS_EXAMPLE} does not list`);
      out.push({ name, source: 'secretKeyRef', value: str(data[key]), from: `Secret ${secretName}` });
    } else if (isObj(vf['configMapKeyRef'])) {
      const ref = vf['configMapKeyRef'];
      const cmName = str(ref['name']) ?? '?';
      const key = str(ref['key']) ?? '?';
      const cm = find(manifests, 'ConfigMap', cmName);
      if (!cm) problems.push(`${where}: ${name} refers to ConfigMap "${cmName}", which is not defined in deploy/k8s`);
      out.push({ name, source: 'configMapKeyRef', value: str(obj(cm?.value['data'])[key]), from: `ConfigMap ${cmName}` });
    } else if (isObj(vf['fieldRef'])) {
      out.push({ name, source: 'fieldRef', value: undefined, from: 'a fieldRef' });
    } else {
      out.push({ name, source: 'other', value: undefined, from: 'valueFrom' });
    }
  }
  return out;
}

/** compose `environment:` as a map or a list of NAME=value. */
function composeEnv(service: Obj): EnvEntry[] {
  const env = service['environment'];
  const entries: Array<[string, string | undefined]> = Array.isArray(env)
    ? env.map(String).map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, undefined] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(obj(env)).map(([k, v]) => [k, v === null ? undefined : str(v)]);
  return entries.map(([name, value]) => ({ name, source: 'value', value, from: 'compose environment' }));
}

const effective = (entries: readonly EnvEntry[]) => new Map(entries.map((e) => [e.name, e]));

/**
 * Checks one container's environment against the settings of the service it runs:
 * the service itself ("main") or its migrate command ("migrate"), on Kubernetes
 * (secrets only through secretKeyRef) or in compose (local literals allowed).
 */
function checkEnv(
  f: ServiceFacts,
  where: string,
  entries: readonly EnvEntry[],
  opts: { readonly platform: 'k8s' | 'compose'; readonly role: 'main' | 'migrate' },
  problems: string[],
): void {
  const eff = effective(entries);
  for (const e of entries) {
    const setting = f.spec[e.name];
    if (!setting) {
      problems.push(`${f.name}: ${where} sets ${e.name} (from ${e.from}), which is not a setting of ${f.name} (apps/${f.name}/src/config/env.schema.ts)`);
      continue;
    }
    if (opts.platform === 'k8s' && setting.secret && e.source !== 'secretKeyRef')
      problems.push(`${f.name}: ${where} takes secret setting ${e.name} from ${e.from}; secrets must come from a Secret through secretKeyRef`);
  }
  for (const [name, e] of eff) {
    const setting = f.spec[name];
    if (!setting || e.value === undefined) continue;
    if (e.value === '' && setting.default !== undefined) continue; // empty means "use the default"
    try {
      setting.parse(e.value);
    } catch (err) {
      const shown = setting.secret ? '' : ` "${e.value}"`;
      problems.push(`${f.name}: ${where} sets ${name}${shown} (from ${e.from}), which ${f.name} rejects: ${(err as Error).message}`);
    }
  }
  for (const name of f.required)
    if (!eff.has(name)) problems.push(`${f.name}: ${where} does not provide ${name}, a required setting of ${f.name} (no default)`);
  if (opts.role === 'migrate') {
    if (f.spec[ADMIN_URL] && !eff.has(ADMIN_URL)) problems.push(`${f.name}: ${where} runs migrate without ${ADMIN_URL}, so it cannot create the role and schema`);
    return;
  }
  if (eff.has(ADMIN_URL)) problems.push(`${f.name}: ${where} gets ${ADMIN_URL}; only the migrate step may have it`);
  // A secret with a code default is a development default (localhost): a deployment must say.
  for (const name of f.secrets) {
    if (name === ADMIN_URL || f.spec[name]!.optional) continue;
    if (!eff.has(name)) problems.push(`${f.name}: ${where} does not provide secret setting ${name} (its code default only suits local development)`);
  }
}

// ---------------------------------------------------------------- ports and probes

function portNumber(c: Obj, port: unknown): number | undefined {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  const named = arr(c['ports']).find((p) => p['name'] === port);
  return typeof named?.['containerPort'] === 'number' ? named['containerPort'] : undefined;
}

function effectivePort(f: ServiceFacts, key: 'HTTP_PORT' | 'PORT', entries: readonly EnvEntry[]): number {
  const given = effective(entries).get(key)?.value;
  return given ? Number(given) : key === 'HTTP_PORT' ? f.httpPort : f.publicPort!;
}

function preStopSleepMs(c: Obj): number {
  const preStop = obj(obj(c['lifecycle'])['preStop']);
  const native = obj(preStop['sleep'])['seconds'];
  if (typeof native === 'number') return native * 1000;
  const argv = argvOf(obj(preStop['exec']));
  const at = argv.findIndex((a) => a === 'sleep' || a.endsWith('/sleep'));
  return at >= 0 && /^\d+$/.test(argv[at + 1] ?? '') ? Number(argv[at + 1]) * 1000 : 0;
}

function checkHardening(where: string, pod: Obj, c: Obj, problems: string[]): void {
  const podSec = obj(pod['securityContext']);
  const sec = obj(c['securityContext']);
  const runAsNonRoot = sec['runAsNonRoot'] ?? podSec['runAsNonRoot'];
  if (runAsNonRoot !== true) problems.push(`${where}: must run as non-root (securityContext.runAsNonRoot: true)`);
  if (sec['readOnlyRootFilesystem'] !== true) problems.push(`${where}: needs securityContext.readOnlyRootFilesystem: true`);
  if (sec['allowPrivilegeEscalation'] !== false) problems.push(`${where}: needs securityContext.allowPrivilegeEscalation: false`);
  const drop = obj(sec['capabilities'])['drop'];
  if (!Array.isArray(drop) || !drop.includes('ALL')) problems.push(`${where}: must drop ALL capabilities`);
  if (isObj(sec['capabilities']) && Array.isArray(sec['capabilities']['add']) && sec['capabilities']['add'].length > 0)
    problems.push(`${where}: adds capabilities`);
  const res = obj(c['resources']);
  for (const kind of ['requests', 'limits'])
    for (const r of ['cpu', 'memory'])
      if (obj(res[kind])[r] === undefined) problems.push(`${where}: has no resources.${kind}.${r}`);
}

// ---------------------------------------------------------------- the NATS cluster

const natsSets = WORKLOADS.filter((w) => w.kind === 'StatefulSet' && w.containers.some((c) => /(^|\/)nats(:|@|$)/.test(str(c['image']) ?? '')));
const nats = natsSets[0];
const natsReplicas = nats?.replicas ?? 0;

/** The nats.conf a NATS container reads: from `--config <path>` and the ConfigMap mounted there. */
function natsConfig(w: PodWorkload): { text: string; where: string } | null {
  const c = w.containers[0]!;
  const argv = argvOf(c);
  const at = argv.findIndex((a) => a === '--config' || a === '-c');
  const path = at >= 0 ? argv[at + 1] : undefined;
  if (!path) return null;
  for (const m of arr(c['volumeMounts'])) {
    const mountPath = str(m['mountPath']) ?? '';
    if (!path.startsWith(`${mountPath}/`)) continue;
    const vol = arr(w.pod['volumes']).find((v) => v['name'] === m['name']);
    const cmName = str(obj(vol?.['configMap'])['name']);
    const cm = cmName ? find(manifests, 'ConfigMap', cmName) : undefined;
    const text = str(obj(cm?.value['data'])[path.slice(mountPath.length + 1)]);
    if (text !== undefined) return { text, where: `ConfigMap ${cmName}` };
  }
  return null;
}

/** The text between the braces of a top-level `name { ... }` block of a NATS config (comments removed). */
function confBlock(conf: string, name: string): string | null {
  const text = conf.replace(/(^|\s)(#|\/\/).*$/gm, '$1');
  const start = new RegExp(`(^|\\n)\\s*${name}\\s*[:=]?\\s*\\{`).exec(text);
  if (!start) return null;
  let depth = 0;
  const from = start.index + start[0].length;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && depth-- === 0) return text.slice(from, i);
  }
  return null;
}

// ================================================================= the tests

describe('deployment files', () => {
  it('every manifest and docker-compose.yml parse', () => {
    expect(k8sFiles.length).toBeGreaterThan(0);
    expect(parseErrors).toEqual([]);
    expect(Object.keys(obj(compose['services'])).length).toBeGreaterThan(0);
  });

  it('cover exactly the apps under apps/', () => {
    const apps = readdirSync(join(ROOT, 'apps')).filter((d) => statSync(join(ROOT, 'apps', d)).isDirectory());
    expect(apps.sort()).toEqual([...SERVICES].sort());
    const problems: string[] = [];
    for (const w of WORKLOADS)
      for (const c of [...w.initContainers, ...w.containers]) {
        const r = runs(argvOf(c));
        if (r && !SERVICES.includes(r.service)) problems.push(`${w.kind} ${w.name}, container ${String(c['name'])} runs apps/${r.service}, which is not an app`);
      }
    for (const [name, s] of Object.entries(obj(compose['services']))) {
      const r = runs(argvOf(obj(s)));
      if (r && !SERVICES.includes(r.service)) problems.push(`compose service ${name} runs apps/${r.service}, which is not an app`);
    }
    expect(problems).toEqual([]);
  });
});

describe('deploy/k8s kustomization', () => {
  it('applies every manifest (but not the example Secrets) into namespace musubi', () => {
    const problems: string[] = [];
    if (!kustomization) throw new Error('deploy/k8s/kustomization.yaml is missing');
    if (kustomization['namespace'] !== 'musubi') problems.push(`kustomization.yaml: namespace is ${String(kustomization['namespace'])}, not musubi`);
    const listed = (Array.isArray(kustomization['resources']) ? kustomization['resources'] : []).map(String);
    const files = k8sFiles.map((f) => relative(K8S_DIR, f).split(sep).join('/'));
    for (const r of listed) if (!files.includes(r)) problems.push(`kustomization.yaml lists ${r}, which does not exist`);
    for (const f of files)
      if (f !== 'kustomization.yaml' && f !== SECRETS_EXAMPLE && !listed.includes(f)) problems.push(`deploy/k8s/${f} is not listed in kustomization.yaml resources`);
    if (listed.includes(SECRETS_EXAMPLE)) problems.push(`kustomization.yaml must not apply ${SECRETS_EXAMPLE} (placeholders would overwrite real Secrets)`);
    if (!find(manifests, 'Namespace', 'musubi')) problems.push('no Namespace musubi');
    for (const d of manifests) {
      const ns = obj(d.value['metadata'])['namespace'];
      if (ns !== undefined && ns !== 'musubi') problems.push(`${d.file}: ${kindOf(d)} ${nameOf(d)} is in namespace ${JSON.stringify(ns)}`);
      if (kindOf(d) === 'Secret') problems.push(`${d.file}: Secret ${nameOf(d)} is applied by kustomize; secrets come from a secret manager`);
    }
    const imageNames = new Set(arr(kustomization['images']).map((i) => str(i['name'])));
    for (const w of WORKLOADS)
      for (const c of [...w.initContainers, ...w.containers])
        if (runs(argvOf(c)) && !imageNames.has(str(c['image']))) problems.push(`${w.kind} ${w.name}: image ${String(c['image'])} is not set by kustomization.yaml images`);
    expect(problems).toEqual([]);
  });

  it('keeps secret settings out of ConfigMaps and literal values everywhere', () => {
    const problems: string[] = [];
    const secretNames = new Set(SERVICES.flatMap((s) => FACTS[s]!.secrets));
    for (const cm of ofKind(manifests, 'ConfigMap'))
      for (const k of Object.keys(obj(cm.value['data'])))
        if (secretNames.has(k)) problems.push(`${cm.file}: ConfigMap ${nameOf(cm)} holds ${k}, a secret setting`);
    for (const w of WORKLOADS)
      for (const c of [...w.initContainers, ...w.containers])
        for (const e of arr(c['env']))
          if (secretNames.has(str(e['name']) ?? '') && 'value' in e)
            problems.push(`${runs(argvOf(c))?.service ?? w.name}: ${w.kind} ${w.name}, container ${String(c['name'])} sets secret ${String(e['name'])} as a literal value`);
    expect(problems).toEqual([]);
  });
});

describe.each(SERVICES)('%s on Kubernetes', (svc) => {
  const f = FACTS[svc]!;
  const mains = WORKLOADS.filter((w) => w.containers.some((c) => runs(argvOf(c))?.service === svc && !runs(argvOf(c))!.migrate));
  const w = mains[0];
  const container = w?.containers.find((c) => runs(argvOf(c))?.service === svc) ?? {};
  const where = w ? `Deployment ${w.name}, container ${String(container['name'])}` : '';
  /** Prefix of messages about references (Secrets, ConfigMaps) of this service's containers. */
  const at = (w: string) => `${svc}: ${w}`;
  /** The tests after the first need the Deployment; without one they fail saying so. */
  const requireDeployment = () => {
    if (!w || !container) throw new Error(`${svc}: no Deployment in deploy/k8s runs "node apps/${svc}/dist/main.js"`);
  };

  it('has one Deployment with at least 2 replicas running the service', () => {
    requireDeployment();
    const problems: string[] = [];
    if (mains.length > 1) problems.push(`${svc}: ${mains.length} workloads run it (${mains.map((m) => `${m.kind} ${m.name}`).join(', ')}); it needs exactly one`);
    if (w!.kind !== 'Deployment') problems.push(`${svc}: runs in a ${w!.kind}, not a Deployment`);
    if ((w!.replicas ?? 1) < 2) problems.push(`${svc}: Deployment ${w!.name} has ${w!.replicas ?? 1} replica(s); at least 2 are needed`);
    const argv = argvOf(container);
    if (argv.join(' ') !== `node apps/${svc}/dist/main.js`) problems.push(`${svc}: ${where} runs "${argv.join(' ')}", not "node apps/${svc}/dist/main.js"`);
    expect(problems).toEqual([]);
  });

  it('exposes HTTP_PORT (and the gateway PORT) and probes /health/live and /health/ready on HTTP_PORT', () => {
    requireDeployment();
    const problems: string[] = [];
    const entries = k8sEnv(container, where, []);
    const httpPort = effectivePort(f, 'HTTP_PORT', entries);
    const ports = arr(container['ports']).map((p) => p['containerPort']);
    if (!ports.includes(httpPort)) problems.push(`${svc}: ${where} does not expose containerPort ${httpPort} (HTTP_PORT of ${svc}); it exposes ${ports.join(', ') || 'nothing'}`);
    if (f.publicPort !== null) {
      const publicPort = effectivePort(f, 'PORT', entries);
      if (!ports.includes(publicPort)) problems.push(`${svc}: ${where} does not expose containerPort ${publicPort} (PORT of ${svc})`);
    }
    for (const [probe, path] of [
      ['livenessProbe', '/health/live'],
      ['readinessProbe', '/health/ready'],
    ] as const) {
      const get = obj(obj(container[probe])['httpGet']);
      if (!isObj(container[probe])) {
        problems.push(`${svc}: ${where} has no ${probe}`);
        continue;
      }
      if (get['path'] !== path) problems.push(`${svc}: ${where} ${probe} checks path ${String(get['path'])}, not ${path}`);
      const port = portNumber(container, get['port']);
      if (port !== httpPort) problems.push(`${svc}: ${where} ${probe} uses port ${String(get['port'])}, but HTTP_PORT of ${svc} is ${httpPort}`);
    }
    const scrape = w!.podAnnotations['prometheus.io/port'];
    if (scrape !== undefined && Number(scrape) !== httpPort) problems.push(`${svc}: prometheus.io/port is ${JSON.stringify(scrape)}, but /metrics is on HTTP_PORT ${httpPort}`);
    expect(problems).toEqual([]);
  });

  it('sets only declared settings, provides the required ones, and takes secrets from secretKeyRef', () => {
    requireDeployment();
    const problems: string[] = [];
    checkEnv(f, where, k8sEnv(container, at(where), problems), { platform: 'k8s', role: 'main' }, problems);
    if (w!.pod['enableServiceLinks'] !== false) problems.push(`${svc}: Deployment ${w!.name} must set enableServiceLinks: false (service links inject variables ${svc} does not declare)`);
    expect(problems).toEqual([]);
  });

  it(f.ownsDatabase ? 'runs its migrate command in an init container that alone gets DATABASE_ADMIN_URL' : 'runs no migrate init container (it owns no schema)', () => {
    requireDeployment();
    const problems: string[] = [];
    const migrators = w!.initContainers.filter((c) => runs(argvOf(c))?.migrate);
    if (f.ownsDatabase) {
      if (migrators.length !== 1) problems.push(`${svc}: Deployment ${w!.name} has ${migrators.length} migrate init containers; it needs exactly one`);
      for (const c of migrators) {
        const whereInit = `Deployment ${w!.name}, init container ${String(c['name'])}`;
        const argv = argvOf(c).join(' ');
        if (argv !== `node apps/${svc}/dist/main.js migrate`) problems.push(`${svc}: ${whereInit} runs "${argv}", not "node apps/${svc}/dist/main.js migrate"`);
        checkEnv(f, whereInit, k8sEnv(c, at(whereInit), problems), { platform: 'k8s', role: 'migrate' }, problems);
        const admin = effective(k8sEnv(c, whereInit, [])).get(ADMIN_URL);
        if (admin && admin.source !== 'secretKeyRef') problems.push(`${svc}: ${whereInit} takes ${ADMIN_URL} from ${admin.from}, not a secretKeyRef`);
      }
    } else if (migrators.length > 0) {
      problems.push(`${svc}: owns no database but Deployment ${w!.name} runs ${migrators.map((c) => argvOf(c).join(' ')).join('; ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('is hardened, sized, and given time to shut down', () => {
    requireDeployment();
    const problems: string[] = [];
    for (const c of [...w!.initContainers, ...w!.containers]) checkHardening(`${svc}: Deployment ${w!.name}, container ${String(c['name'])}`, w!.pod, c, problems);
    const shutdown = effective(k8sEnv(container, where, [])).get('SHUTDOWN_TIMEOUT_MS')?.value ?? f.spec['SHUTDOWN_TIMEOUT_MS']?.default ?? '15000';
    const graceS = typeof w!.pod['terminationGracePeriodSeconds'] === 'number' ? w!.pod['terminationGracePeriodSeconds'] : 30;
    const neededMs = Number(shutdown) + SHUTDOWN_MARGIN_MS + preStopSleepMs(container);
    if (graceS * 1000 <= neededMs)
      problems.push(`${svc}: terminationGracePeriodSeconds is ${graceS}; it must exceed SHUTDOWN_TIMEOUT_MS (${shutdown} ms) + ${SHUTDOWN_MARGIN_MS} ms + the preStop pause = ${neededMs} ms`);
    expect(problems).toEqual([]);
  });

  it('has a Service for its ports and a PodDisruptionBudget', () => {
    requireDeployment();
    const problems: string[] = [];
    const entries = k8sEnv(container, where, []);
    const svcObjs = ofKind(manifests, 'Service').filter((s) => labelsMatch(obj(s.value['spec'])['selector'], w!.podLabels));
    const targets = svcObjs.flatMap((s) => arr(obj(s.value['spec'])['ports']).map((p) => portNumber(container, p['targetPort'] ?? p['port'])));
    const wanted = [effectivePort(f, 'HTTP_PORT', entries), ...(f.publicPort !== null ? [effectivePort(f, 'PORT', entries)] : [])];
    for (const port of wanted) if (!targets.includes(port)) problems.push(`${svc}: no Service selects its pods with a port targeting ${port}`);
    const pdbs = ofKind(manifests, 'PodDisruptionBudget').filter((p) => labelsMatch(obj(obj(p.value['spec'])['selector'])['matchLabels'], w!.podLabels));
    if (pdbs.length !== 1) problems.push(`${svc}: ${pdbs.length} PodDisruptionBudgets select its pods; it needs exactly one`);
    for (const p of pdbs) {
      const min = obj(p.value['spec'])['minAvailable'];
      if (typeof min === 'number' && min >= (w!.replicas ?? 1)) problems.push(`${svc}: PodDisruptionBudget ${nameOf(p)} minAvailable ${min} blocks every eviction (replicas ${w!.replicas})`);
    }
    expect(problems).toEqual([]);
  });

  it('uses all three NATS servers for its streams and connects to the NATS Service', () => {
    requireDeployment();
    const problems: string[] = [];
    const eff = effective(k8sEnv(container, where, []));
    const replicas = Number(eff.get('JETSTREAM_REPLICAS')?.value ?? f.spec['JETSTREAM_REPLICAS']?.default);
    if (replicas !== natsReplicas) problems.push(`${svc}: JETSTREAM_REPLICAS is ${replicas}, but the NATS cluster has ${natsReplicas} servers`);
    const urls = (eff.get('NATS_URL')?.value ?? f.spec['NATS_URL']?.default ?? '').split(',').filter(Boolean);
    for (const u of urls) {
      const url = new URL(u.trim());
      const host = url.hostname.split('.')[0]!;
      const target = find(manifests, 'Service', host);
      const hasPort = arr(obj(target?.value['spec'])['ports']).some((p) => p['port'] === Number(url.port || 4222));
      if (!target || !hasPort || !nats || !labelsMatch(obj(target.value['spec'])['selector'], nats.podLabels))
        problems.push(`${svc}: NATS_URL ${u} does not name a Service of the NATS StatefulSet on port ${url.port || 4222}`);
    }
    expect(problems).toEqual([]);
  });
});

describe('gateway exposure', () => {
  it('routes public traffic to the gateway PORT through an Ingress (or a LoadBalancer Service)', () => {
    const f = FACTS['gateway']!;
    const gw = WORKLOADS.find((w) => w.containers.some((c) => runs(argvOf(c))?.service === 'gateway'));
    expect(gw).toBeDefined();
    const gwServices = ofKind(manifests, 'Service').filter((s) => labelsMatch(obj(s.value['spec'])['selector'], gw!.podLabels));
    const publicPortOf = (s: Doc, ref: unknown) =>
      arr(obj(s.value['spec'])['ports']).find((p) => (typeof ref === 'number' ? p['port'] === ref : p['name'] === ref) && Number(p['targetPort'] ?? p['port']) === f.publicPort);
    const viaIngress = ofKind(manifests, 'Ingress').some((ing) =>
      arr(obj(ing.value['spec'])['rules']).some((r) =>
        arr(obj(r['http'])['paths']).some((p) => {
          const backend = obj(obj(p['backend'])['service']);
          const target = gwServices.find((s) => nameOf(s) === backend['name']);
          const port = obj(backend['port']);
          return target !== undefined && publicPortOf(target, port['number'] ?? port['name']) !== undefined;
        }),
      ),
    );
    const viaLoadBalancer = gwServices.some(
      (s) => obj(s.value['spec'])['type'] === 'LoadBalancer' && arr(obj(s.value['spec'])['ports']).some((p) => Number(p['targetPort'] ?? p['port']) === f.publicPort),
    );
    if (!viaIngress && !viaLoadBalancer) throw new Error(`gateway: neither an Ingress nor a LoadBalancer Service reaches PORT ${f.publicPort}`);
  });
});

describe('NATS cluster on Kubernetes', () => {
  it('is one StatefulSet of 3 servers with JetStream on persistent volumes and routes between the pods', () => {
    expect(natsSets.map((s) => s.name)).toHaveLength(1);
    const problems: string[] = [];
    const w = nats!;
    if (w.replicas !== 3) problems.push(`nats: StatefulSet ${w.name} has ${w.replicas ?? 1} replicas, not 3`);
    const headlessName = str(obj(w.doc.value['spec'])['serviceName']);
    const headless = headlessName ? find(manifests, 'Service', headlessName) : undefined;
    if (!headless || obj(headless.value['spec'])['clusterIP'] !== 'None') problems.push(`nats: serviceName ${headlessName} is not a headless Service (clusterIP: None)`);
    const claims = arr(obj(w.doc.value['spec'])['volumeClaimTemplates']);
    const claim = claims.find((t) => obj(obj(obj(t['spec'])['resources'])['requests'])['storage'] !== undefined);
    if (!claim) problems.push('nats: no volumeClaimTemplate with a storage request');
    const c = w.containers[0]!;
    const dataMount = arr(c['volumeMounts']).find((m) => m['name'] === obj(claim?.['metadata'])['name']);
    if (!dataMount) problems.push('nats: the container does not mount the PersistentVolumeClaim');
    const conf = natsConfig(w);
    if (!conf) {
      problems.push('nats: no nats.conf from a ConfigMap passed with --config');
    } else {
      const js = confBlock(conf.text, 'jetstream');
      if (js === null) problems.push(`nats: ${conf.where} has no jetstream { } block`);
      const storeDir = js === null ? undefined : /store_dir\s*[:=]?\s*"?([^\s"]+)"?/.exec(js)?.[1];
      const mountPath = str(dataMount?.['mountPath']);
      if (js !== null && (!storeDir || !mountPath || !(storeDir === mountPath || storeDir.startsWith(`${mountPath}/`))))
        problems.push(`nats: JetStream store_dir ${storeDir} is not on the PersistentVolumeClaim (mounted at ${mountPath})`);
      const cluster = confBlock(conf.text, 'cluster');
      if (cluster === null) problems.push(`nats: ${conf.where} has no cluster { } block`);
      for (let i = 0; i < (w.replicas ?? 0); i++)
        if (cluster !== null && !new RegExp(`nats://${w.name}-${i}\\.${headlessName}[.:]`).test(cluster))
          problems.push(`nats: cluster routes do not include ${w.name}-${i}.${headlessName}`);
    }
    checkHardening(`nats: StatefulSet ${w.name}`, w.pod, c, problems);
    const pdb = ofKind(manifests, 'PodDisruptionBudget').find((p) => labelsMatch(obj(obj(p.value['spec'])['selector'])['matchLabels'], w.podLabels));
    if (!pdb) problems.push('nats: no PodDisruptionBudget');
    expect(problems).toEqual([]);
  });
});

describe('example Secrets', () => {
  it('give every service its own database role', () => {
    const problems: string[] = [];
    const roles = new Map<string, string>();
    for (const svc of SERVICES.filter((s) => FACTS[s]!.ownsDatabase)) {
      const w = WORKLOADS.find((x) => x.containers.some((c) => runs(argvOf(c))?.service === svc));
      const c = w?.containers.find((x) => runs(argvOf(x))?.service === svc);
      const url = c ? effective(k8sEnv(c, svc, [])).get('DATABASE_URL')?.value : undefined;
      if (!url) continue; // reported by the service's own checks
      const role = decodeURIComponent(new URL(url).username);
      if (roles.has(role)) problems.push(`${svc}: DATABASE_URL uses role ${role}, which ${roles.get(role)} uses too`);
      roles.set(role, svc);
    }
    expect(problems).toEqual([]);
  });
});

// ---------------------------------------------------------------- docker-compose.yml

const composeServices = obj(compose['services']);
const composeOf = (pred: (r: { service: string; migrate: boolean }) => boolean) =>
  Object.entries(composeServices).filter(([, s]) => {
    const r = runs(argvOf(obj(s)));
    return r !== null && pred(r);
  });
const dependsOn = (s: Obj): Map<string, string> => {
  const d = s['depends_on'];
  if (Array.isArray(d)) return new Map(d.map((n) => [String(n), 'service_started']));
  return new Map(Object.entries(obj(d)).map(([k, v]) => [k, str(obj(v)['condition']) ?? 'service_started']));
};

describe('docker-compose.yml', () => {
  it('runs postgres 15, redis 7, NATS 2.10 with JetStream on a volume, and the mailpit sink', () => {
    const problems: string[] = [];
    const images = Object.entries(composeServices).map(([name, s]) => [name, str(obj(s)['image']) ?? ''] as const);
    const expectImage = (what: string, re: RegExp) => {
      const hit = images.find(([, img]) => re.test(img));
      if (!hit) problems.push(`compose: no ${what} service (image matching ${re})`);
      return hit?.[0];
    };
    expectImage('Postgres 15', /^(docker\.io\/)?(library\/)?postgres:15([.-]|$)/);
    expectImage('Redis 7', /^(docker\.io\/)?(library\/)?redis:7([.-]|$)/);
    expectImage('mail sink', /^(docker\.io\/)?axllent\/mailpit(:|@|$)/);
    const natsName = expectImage('NATS 2.10', /^(docker\.io\/)?(library\/)?nats:2\.10([.-]|$)/);
    if (natsName) {
      const n = obj(composeServices[natsName]);
      const argv = argvOf(n);
      if (!argv.includes('-js') && !argv.includes('--jetstream')) problems.push('compose: nats runs without -js (JetStream)');
      const sdAt = argv.findIndex((a) => a === '-sd' || a === '--store_dir');
      const storeDir = sdAt >= 0 ? argv[sdAt + 1] : undefined;
      const volumes = (Array.isArray(n['volumes']) ? n['volumes'] : []).map((v) => (typeof v === 'string' ? v.split(':')[1] : str(obj(v)['target'])));
      if (!storeDir || !volumes.some((t) => t !== undefined && (storeDir === t || storeDir.startsWith(`${t}/`))))
        problems.push(`compose: the JetStream store (-sd ${storeDir}) is not on a volume`);
    }
    expect(problems).toEqual([]);
  });

  it.each(SERVICES)('runs %s with declared settings, a /health/ready healthcheck and its migration first', (svc) => {
    const f = FACTS[svc]!;
    const problems: string[] = [];
    const mains = composeOf((r) => r.service === svc && !r.migrate);
    const migrators = composeOf((r) => r.service === svc && r.migrate);
    if (mains.length !== 1) problems.push(`${svc}: compose has ${mains.length} services running node apps/${svc}/dist/main.js; it needs exactly one`);
    if (migrators.length !== (f.ownsDatabase ? 1 : 0))
      problems.push(`${svc}: compose has ${migrators.length} services running its migrate command; it needs ${f.ownsDatabase ? 'exactly one' : 'none (it owns no schema)'}`);
    for (const [name, raw] of mains) {
      const s = obj(raw);
      const entries = composeEnv(s);
      checkEnv(f, `compose service ${name}`, entries, { platform: 'compose', role: 'main' }, problems);
      const httpPort = effectivePort(f, 'HTTP_PORT', entries);
      const test = argvOf({ command: obj(s['healthcheck'])['test'] }).join(' ');
      if (!test.includes(`:${httpPort}/health/ready`)) problems.push(`${svc}: compose service ${name} healthcheck does not query :${httpPort}/health/ready (HTTP_PORT of ${svc}): ${test || 'none'}`);
      const deps = dependsOn(s);
      for (const [m] of migrators)
        if (deps.get(m) !== 'service_completed_successfully') problems.push(`${svc}: compose service ${name} does not wait for ${m} (condition: service_completed_successfully)`);
      if (f.publicPort !== null) {
        const publicPort = effectivePort(f, 'PORT', entries);
        const published = (Array.isArray(s['ports']) ? s['ports'] : []).some((p) =>
          typeof p === 'string' || typeof p === 'number' ? String(p).split(':').pop() === String(publicPort) && String(p).split(':').slice(-2)[0] === '8080' : obj(p)['target'] === publicPort && String(obj(p)['published']) === '8080',
        );
        if (!published) problems.push(`${svc}: compose does not publish PORT ${publicPort} on host port 8080`);
      }
    }
    for (const [name, raw] of migrators) {
      const s = obj(raw);
      checkEnv(f, `compose service ${name}`, composeEnv(s), { platform: 'compose', role: 'migrate' }, problems);
      if (!dependsOn(s).has('postgres')) problems.push(`${svc}: compose service ${name} does not depend on postgres`);
    }
    expect(problems).toEqual([]);
  });
});
