import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseCheckArgs, UsageError } from './args.js';
import { EXIT, exitCodeOf, render } from './output.js';
import { runChecks, summarize } from './runner.js';
import type { Check, CheckContext, CheckResult, Report } from './types.js';

const target = { kind: 'kubeconfig' as const, name: 'prod', server: 'https://k8s.example:6443' };
const results: CheckResult[] = [
  { id: 'kernel-version', group: 'node', scope: 'node', status: 'pass', message: 'Linux 6.1' },
  { id: 'api-server', group: 'kubernetes', scope: 'cluster', status: 'warn', message: 'Kubernetes v1.27.3 works', hint: 'upgrade to 1.30' },
  { id: 'install-permissions', group: 'permissions', scope: 'cluster', status: 'fail', message: 'you may not create clusterroles', hint: 'ask an admin' },
  { id: 'agent-daemonset', group: 'agents', scope: 'cluster', status: 'skip', message: 'not from the chart' },
];

describe('ambit check output', () => {
  const report = summarize('pre', target, 'ambit-system', results);

  it('human: names the target, one line per check with its mark, a hint under each non-pass line, a summary', () => {
    const text = render(report, 'human', 'host-1');
    assert.match(text, /^ambit check --pre: context prod \(https:\/\/k8s\.example:6443\), namespace ambit-system\n/);
    assert.match(text, /node \(this machine: host-1; node-local/);
    assert.match(text, /  √ kernel-version: Linux 6\.1\n/);
    assert.match(text, /  ‼ api-server: Kubernetes v1\.27\.3 works\n      hint: upgrade to 1\.30\n/);
    assert.match(text, /  × install-permissions: you may not create clusterroles\n      hint: ask an admin\n/);
    assert.match(text, /  - agent-daemonset: not from the chart\n/);
    assert.match(text, /Status: 1 passed, 1 warning, 1 failed, 1 not applicable \(exit code 1\)\n$/);
  });

  it('json and yaml carry the same structured report', () => {
    const json = JSON.parse(render(report, 'json', 'h')) as Report;
    assert.deepEqual(json, JSON.parse(JSON.stringify(report)));
    assert.deepEqual(parse(render(report, 'yaml', 'h')), json);
    assert.deepEqual(json.summary, { pass: 1, warn: 1, fail: 1, skip: 1 });
    assert.equal(json.ok, false);
  });

  it('exit code: 1 when anything failed, 0 with warnings only', () => {
    assert.equal(exitCodeOf(report), EXIT.failed);
    assert.equal(exitCodeOf(summarize('post', target, 'x', results.filter((r) => r.status !== 'fail'))), EXIT.ok);
  });
});

describe('ambit check arguments', () => {
  it('takes the documented flags', () => {
    assert.deepEqual(parseCheckArgs(['--pre', '-o', 'json', '--kubeconfig', '/k', '--context', 'c', '-n', 'mesh']), { pre: true, output: 'json', kubeconfig: '/k', context: 'c', namespace: 'mesh' });
    assert.deepEqual(parseCheckArgs([]), { pre: false, output: 'human', kubeconfig: undefined, context: undefined, namespace: 'ambit-system' });
    assert.equal(parseCheckArgs(['--help']), 'help');
  });

  it('refuses what it does not know', () => {
    for (const bad of [['--bogus'], ['-o', 'xml'], ['-n', 'Not_A_Namespace'], ['extra'], ['--kubeconfig', ''], ['-o']]) {
      assert.throws(() => parseCheckArgs(bad), UsageError, bad.join(' '));
    }
  });

  const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [main, 'check', ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });

  it('exits 2 on bad usage, with the usage on stderr and nothing on stdout', async () => {
    for (const bad of [['--bogus'], ['-o', 'xml'], ['--kubeconfig', '/nonexistent/kubeconfig']]) {
      const r = await cli(bad);
      assert.equal(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /usage: ambit check/);
    }
  });

  it('exits 1 when the API server named by the kubeconfig does not answer, and says what to check', async () => {
    // A kubeconfig for a port nothing listens on: the api-server check fails, the rest are not checked.
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ambit-check-'));
    try {
      const file = join(dir, 'kubeconfig');
      writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }], users: [{ name: 'u', user: {} }], contexts: [{ name: 'gone', context: { cluster: 'c', user: 'u' } }], 'current-context': 'gone' }));
      const r = await cli(['--kubeconfig', file, '-o', 'json']);
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      assert.equal(report.target.name, 'gone');
      const api = report.checks.find((c) => c.id === 'api-server')!;
      assert.equal(api.status, 'fail');
      assert.match(api.message, /not reachable/);
      assert.ok(report.checks.filter((c) => c.scope === 'cluster' && c.id !== 'api-server').every((c) => c.status === 'skip'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ambit check runner', () => {
  const check = (id: string, run: Check['run'], needs?: string[]): Check => ({ id, group: 'g', scope: 'cluster', run, ...(needs ? { needs } : {}) });
  const ctx = {} as CheckContext;

  it('a check that throws fails with the error; what needs it is not checked; others still run', async () => {
    const rs = await runChecks(
      [check('a', () => { throw new Error('boom'); }), check('b', () => ({ status: 'pass', message: 'ok' }), ['a']), check('c', () => ({ status: 'pass', message: 'ok' }))],
      ctx,
    );
    assert.deepEqual(rs.map((r) => r.status), ['fail', 'skip', 'pass']);
    assert.match(rs[0]!.message, /boom/);
    assert.match(rs[1]!.message, /not checked: a failed/);
  });

  it('a check that does not answer in time fails', async () => {
    const rs = await runChecks([check('slow', () => new Promise(() => undefined))], ctx, 50);
    assert.equal(rs[0]!.status, 'fail');
    assert.match(rs[0]!.message, /no answer within/);
  });
});
