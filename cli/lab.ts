import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AmbitError } from '../lib/errors.js';
import type { KubeObject } from '../lib/k8s/types.js';
import { describeOrigin, loadManifests, manifestOrigin } from '../lab/manifests/index.js';
import type { Release } from '../lab/chart/release.js';
import { LAB_RELEASE, renderRelease } from '../lab/chart/render.js';
import type { HookRun, ObjectResult } from '../lab/supervisor/release.js';
import { parseDuration } from '../lib/crds/duration.js';
import { addNetns } from '../lab/host/netns.js';
import { DEFAULT_LAB, isLabName, LABS_DIR, labPaths, type LabPaths } from '../lab/paths.js';
import { podCommand, type PodSandbox } from '../lab/runtime.js';
import { controlRequest } from '../lab/supervisor/control.js';
import type { LabStatus } from '../lab/supervisor/lab.js';
import { teardown } from '../lab/teardown.js';
import { garbageCollectorOn } from '../lab/garbage-collector.js';
import { table } from './format.js';
import { kubectlPath } from './kubectl.js';

const UP_TIMEOUT_MS = 180_000;

export async function labCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'up') return up(labPaths(), rest);
  const paths = await targetLab();
  switch (sub) {
    case 'apply':
    case 'delete':
      return change(paths, sub, rest);
    case 'exec':
      return exec(paths, rest);
    case 'status':
      return status(paths, rest);
    case 'logs':
      return logs(paths, rest);
    case 'kubectl':
      return kubectl(paths, rest);
    case 'restart':
      return restart(paths, rest);
    case 'upgrade':
      return upgrade(paths, rest);
    case 'uninstall':
      return uninstall(paths, rest);
    case 'down':
      requireRoot();
      await teardown(paths);
      process.stdout.write(`lab ${paths.lab} is down\n`);
      return 0;
    default:
      throw new AmbitError('AMBIT_ERR_CONFIG', `unknown lab command ${JSON.stringify(sub ?? '')}: try 'ambit help'`);
  }
}

/**
 * The lab a command addresses: the one AMBIT_LAB names; with AMBIT_LAB unset,
 * the default lab, or, when that one is not up and exactly one other lab is,
 * that one (so what `npm run demo` or a test booted is found from a fresh
 * shell). An explicit AMBIT_LAB is never second-guessed.
 */
export async function chooseLab(explicit: string | undefined, up: (lab: string) => Promise<boolean>, existing: () => string[]): Promise<string> {
  if (explicit !== undefined) return explicit;
  if (await up(DEFAULT_LAB)) return DEFAULT_LAB;
  const others: string[] = [];
  for (const lab of existing()) if (lab !== DEFAULT_LAB && isLabName(lab) && (await up(lab))) others.push(lab);
  return others.length === 1 ? others[0]! : DEFAULT_LAB;
}

function targetLab(): Promise<LabPaths> {
  const labs = () => (existsSync(LABS_DIR) ? readdirSync(LABS_DIR) : []);
  return chooseLab(process.env.AMBIT_LAB, (lab) => isUp(labPaths(lab)), labs).then((lab) => labPaths(lab));
}

/** The lab lab commands would address, if it is up (`ambit check` targets it when no kubeconfig is named). */
export async function upLab(): Promise<LabPaths | undefined> {
  const paths = await targetLab();
  return (await isUp(paths)) ? paths : undefined;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new AmbitError('AMBIT_ERR_PRIVILEGE', 'the lab creates network namespaces, cgroups and eBPF programs: run it as root');
  }
}

async function isUp(paths: LabPaths): Promise<boolean> {
  if (!existsSync(paths.controlSocket)) return false;
  return controlRequest(paths.controlSocket, 'GET', '/status', undefined, 5000).then(
    () => true,
    () => false,
  );
}

/** `--set a.b=c` values, as helm takes them. */
function parseSets(sets: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new AmbitError('AMBIT_ERR_CONFIG', `--set takes KEY=VALUE, got ${JSON.stringify(s)}`);
    out[s.slice(0, eq)] = s.slice(eq + 1);
  }
  return out;
}

/** The chart options `lab up` and `lab upgrade` share, as helm's (`-f` is taken by manifests, so values files are `--values`). */
const CHART_OPTIONS = {
  chart: { type: 'string' },
  values: { type: 'string', multiple: true },
  set: { type: 'string', multiple: true },
} as const;

/** The release a chart renders to with the lab's values and the user's, hooks included (as an install, or as an upgrade). */
function renderFrom(paths: LabPaths, values: { chart?: string; values?: string[]; set?: string[] }, upgrade = false): Promise<Release> {
  return renderRelease({ chartDir: values.chart!, valuesFiles: values.values ?? [], set: parseSets(values.set ?? []), repoRoot: paths.repoRoot, upgrade });
}

/** helm's --timeout (default 5m), as a duration like `90s` or `5m`. */
function parseTimeout(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new AmbitError('AMBIT_ERR_CONFIG', `--timeout takes a duration like 90s or 5m, got ${JSON.stringify(text)}`);
  return ms;
}

async function up(paths: LabPaths, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      nodes: { type: 'string', default: '2' },
      // The mesh from a Helm chart, with its values files and --set values.
      ...CHART_OPTIONS,
    },
  });
  if (!values.chart && (values.values || values.set)) throw new AmbitError('AMBIT_ERR_CONFIG', '--values and --set go with --chart DIR');
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) {
    throw new AmbitError('AMBIT_ERR_CONFIG', `--nodes must be a whole number from 1 to 16, got ${JSON.stringify(values.nodes)}`);
  }
  requireRoot();
  if (await isUp(paths)) {
    throw new AmbitError('AMBIT_ERR_LAB_STATE', `lab ${paths.lab} is already up: 'ambit lab apply' changes it, 'ambit lab down' removes it`);
  }
  // Manifests are checked before anything is built, so a bad file leaves nothing behind.
  garbageCollectorOn();
  const objects = await loadManifests(values.file ?? []);
  checkNodeNames(objects, nodes);
  // So is the chart: helm's error, if any, comes before the lab is built.
  const release = values.chart ? await renderFrom(paths, values) : undefined;
  const started = Date.now();
  await teardown(paths); // whatever a crashed earlier lab of this name left
  mkdirSync(paths.stateDir, { recursive: true });
  writeFileSync(paths.manifestsFile, JSON.stringify(objects));
  if (release) writeFileSync(paths.releaseFile, JSON.stringify(release));
  try {
    await addNetns(paths.fabricNetns);
    const out = openSync(paths.supervisorLog, 'a');
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${paths.fabricNetns}`,
        process.execPath,
        '--enable-source-maps',
        join(paths.repoRoot, 'dist', 'lab', 'supervisor', 'main.js'),
        '--lab',
        paths.lab,
        '--nodes',
        String(nodes),
        '--manifests',
        paths.manifestsFile,
        ...(release ? ['--chart', paths.releaseFile] : []),
      ],
      { detached: true, stdio: ['ignore', out, out], env: process.env },
    );
    closeSync(out);
    let exited: number | null = null;
    child.on('exit', (code) => (exited = code ?? 1));
    child.unref();
    const st = await waitReady(paths, () => exited);
    process.stdout.write(renderStatus(st));
    process.stdout.write(`\nlab ${paths.lab} is up in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    return 0;
  } catch (err) {
    const tail = existsSync(paths.supervisorLog) ? readFileSync(paths.supervisorLog, 'utf8').split('\n').slice(-15).join('\n') : '';
    await teardown(paths);
    if (tail) process.stderr.write(`last lines of the lab supervisor's log:\n${tail}\n`);
    throw err;
  }
}

/** A pod pinned to a node the lab will not have could never run: say so before building. */
function checkNodeNames(objects: KubeObject[], nodes: number): void {
  const problems: string[] = [];
  for (const obj of objects) {
    const spec = obj['spec'] as { nodeName?: string; template?: { spec?: { nodeName?: string } } } | undefined;
    const [field, nodeName] = obj.kind === 'Pod' ? ['spec.nodeName', spec?.nodeName] : ['spec.template.spec.nodeName', spec?.template?.spec?.nodeName];
    if (!nodeName) continue;
    const n = /^node(\d+)$/.exec(nodeName);
    if (n && Number(n[1]) >= 1 && Number(n[1]) <= nodes) continue;
    const origin = manifestOrigin(obj);
    problems.push(
      `${origin ? describeOrigin(origin) : 'manifest'} (${obj.kind} ${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}): ${field}: ` +
        `no node ${JSON.stringify(nodeName)} in a lab of ${nodes} node(s) (node1..node${nodes}; see --nodes)`,
    );
  }
  if (problems.length) throw new AmbitError('AMBIT_ERR_MANIFEST', problems.join('\n'));
}

async function waitReady(paths: LabPaths, exited: () => number | null): Promise<LabStatus> {
  const deadline = Date.now() + UP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const code = exited();
    if (code !== null) throw new AmbitError('AMBIT_ERR_LAB_SETUP', `the lab supervisor exited with code ${code} while booting`);
    if (existsSync(paths.controlSocket)) {
      const st = await controlRequest<LabStatus>(paths.controlSocket, 'GET', '/status', undefined, 5000).catch(() => undefined);
      if (st?.phase === 'ready') return st;
      if (st?.phase === 'failed') throw new AmbitError('AMBIT_ERR_LAB_SETUP', `the lab failed to boot: ${st.error ?? 'see its log'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new AmbitError('AMBIT_ERR_LAB_SETUP', `the lab did not come up within ${UP_TIMEOUT_MS / 1000}s`);
}

async function change(paths: LabPaths, sub: 'apply' | 'delete', args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { file: { type: 'string', short: 'f', multiple: true } } });
  if (!values.file?.length) throw new AmbitError('AMBIT_ERR_CONFIG', `lab ${sub} needs -f FILE_OR_DIR`);
  const objects: KubeObject[] = await loadManifests(values.file);
  const results = await controlRequest<{ kind: string; namespace?: string; name: string; result: string }[]>(
    paths.controlSocket,
    'POST',
    `/${sub}`,
    { objects },
  );
  for (const r of results) {
    process.stdout.write(`${r.kind.toLowerCase()}/${r.name}${r.namespace ? ` (${r.namespace})` : ''} ${r.result}\n`);
  }
  return 0;
}

function splitPodRef(ref: string | undefined): [string, string] {
  const m = /^([a-z0-9.-]+)\/([a-z0-9.-]+)$/.exec(ref ?? '');
  if (!m) throw new AmbitError('AMBIT_ERR_CONFIG', `expected NAMESPACE/POD, got ${JSON.stringify(ref ?? '')}`);
  return [m[1]!, m[2]!];
}

async function exec(paths: LabPaths, args: string[]): Promise<number> {
  requireRoot();
  const sep = args.indexOf('--');
  const [ns, name] = splitPodRef(args[0]);
  const argv = sep >= 0 ? args.slice(sep + 1) : args.slice(1);
  if (argv.length === 0) throw new AmbitError('AMBIT_ERR_CONFIG', 'lab exec NAMESPACE/POD -- CMD [ARGS...]: no command given');
  const sandbox = await controlRequest<PodSandbox>(paths.controlSocket, 'GET', `/pods/${ns}/${name}`);
  const full = podCommand(sandbox, argv);
  return new Promise((resolve) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function restart(paths: LabPaths, args: string[]): Promise<number> {
  const [kind, which] = args;
  const usage = 'lab restart node-agent NODE | controller | waypoint NAMESPACE/NAME';
  const named = kind === 'node-agent' || kind === 'waypoint';
  if (named ? !which || args.length !== 2 : kind !== 'controller' || args.length !== 1) {
    throw new AmbitError('AMBIT_ERR_CONFIG', `usage: ${usage} (got ${JSON.stringify(args.join(' '))})`);
  }
  const target = kind === 'node-agent' ? { kind, node: which } : kind === 'waypoint' ? { kind, name: which } : { kind };
  const r = await controlRequest<{ component: string; oldPid?: number; newPid?: number }>(paths.controlSocket, 'POST', '/restart', target, 180_000);
  process.stdout.write(`${r.component} restarted: pid ${r.oldPid ?? '-'} -> ${r.newPid ?? '-'}\n`);
  return 0;
}

/**
 * `lab upgrade --chart DIR`: `helm upgrade ambit DIR -n ambit-system --wait` against the lab.
 * The chart is rendered here with real helm (the lab's values first, as `lab up --chart`); the
 * supervisor patches the release's objects, deletes those it dropped, leaves the CRDs alone,
 * and returns once the lab's controllers have rolled the workloads.
 */
async function upgrade(paths: LabPaths, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...CHART_OPTIONS, timeout: { type: 'string', default: '5m' } } });
  if (!values.chart) throw new AmbitError('AMBIT_ERR_CONFIG', 'lab upgrade needs --chart DIR (as helm upgrade ambit DIR)');
  const timeoutMs = parseTimeout(values.timeout);
  const release = await renderFrom(paths, values, true);
  const r = await controlRequest<{ objects: ObjectResult[]; hooks: HookRun[]; seconds: number }>(paths.controlSocket, 'POST', '/upgrade', { release, timeoutMs }, 3 * timeoutMs + 60_000);
  writeHooks(r.hooks);
  writeObjects(r.objects);
  process.stdout.write(`release ${LAB_RELEASE.name} upgraded and rolled out in ${r.seconds.toFixed(1)}s\n`);
  return 0;
}

/**
 * `lab uninstall`: `helm uninstall ambit -n ambit-system --wait`. The release's pre-delete
 * hooks run first (the chart's Job, through the lab's kubelet and RBAC; `--no-hooks` skips
 * them), then its objects go and their pods stop. CRDs and custom resources stay.
 */
async function uninstall(paths: LabPaths, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'no-hooks': { type: 'boolean', default: false }, timeout: { type: 'string', default: '5m' } } });
  const timeoutMs = parseTimeout(values.timeout);
  const r = await controlRequest<{ objects: ObjectResult[]; hooks: HookRun[]; podsStopped: number; seconds: number }>(paths.controlSocket, 'POST', '/uninstall', { hooks: !values['no-hooks'], timeoutMs }, 3 * timeoutMs + 60_000);
  writeHooks(r.hooks);
  writeObjects(r.objects);
  process.stdout.write(`release ${LAB_RELEASE.name} uninstalled in ${r.seconds.toFixed(1)}s (${r.podsStopped} pods stopped); the namespace, the CRDs and their custom resources stay, as helm leaves them\n`);
  return 0;
}

function writeObjects(objects: readonly ObjectResult[]): void {
  for (const o of objects) process.stdout.write(`${o.kind.toLowerCase()}/${o.name}${o.namespace ? ` (${o.namespace})` : ''} ${o.result}\n`);
}

function writeHooks(hooks: readonly HookRun[]): void {
  for (const h of hooks) process.stdout.write(`${h.event} hook ${h.hook}: ${h.result}${h.deleted ? ` (deleted: ${h.deleted})` : ''}\n`);
}

async function status(paths: LabPaths, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const st = await controlRequest<LabStatus>(paths.controlSocket, 'GET', '/status');
  process.stdout.write(values.json ? `${JSON.stringify(st, null, 2)}\n` : renderStatus(st));
  return 0;
}

async function logs(paths: LabPaths, args: string[]): Promise<number> {
  const [ns, name] = splitPodRef(args[0]);
  const file = paths.podLog(ns, name);
  if (!existsSync(file)) throw new AmbitError('AMBIT_ERR_LAB_STATE', `no pod ${ns}/${name} in lab ${paths.lab}; see 'ambit lab status'`);
  process.stdout.write(readFileSync(file));
  return 0;
}

async function kubectl(paths: LabPaths, args: string[]): Promise<number> {
  requireRoot();
  const kubeconfig = join(paths.stateDir, 'kubeconfig');
  if (!existsSync(kubeconfig)) throw new AmbitError('AMBIT_ERR_LAB_STATE', `lab ${paths.lab} is not up`);
  const bin = await kubectlPath(paths.repoRoot);
  return new Promise((resolve) => {
    const child = spawn('nsenter', [`--net=/run/netns/${paths.fabricNetns}`, bin, '--kubeconfig', kubeconfig, ...args], { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

export function renderStatus(st: LabStatus): string {
  const parts = [
    `lab ${st.lab}: ${st.phase}${st.error ? ` (${st.error})` : ''}   api ${st.api.url}`,
    '',
    table([['NODE', 'IP', 'POD CIDR', 'NETNS'], ...st.nodes.map((n) => [n.name, n.ip, n.podCIDR, n.netns])]),
    table([
      ['NAMESPACE', 'POD', 'NODE', 'IP', 'PHASE', 'MESHED', 'RESTARTS'],
      ...st.pods.map((p) => [p.namespace, p.name, p.node ?? '-', p.ip ?? '-', p.phase, p.meshed ? 'yes' : 'no', String(p.restarts)]),
    ]),
    table([
      ['NAMESPACE', 'SERVICE', 'CLUSTER-IP', 'PORTS'],
      ...st.services.map((s) => [
        s.namespace,
        s.name,
        s.clusterIP ?? '-',
        (s.ports as { port: number; protocol?: string }[]).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(','),
      ]),
    ]),
    table([
      ['COMPONENT', 'NODE', 'PID', 'ADMIN', 'RESTARTS'],
      ...st.components.map((c) => [c.name, c.node ?? '-', String(c.pid ?? '-'), c.admin, String(c.restarts)]),
    ]),
  ];
  return parts.join('\n');
}
