import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LabHarness, repoRoot, requireRoot, type Run } from './harness.js';

/**
 * The first thing a new user runs, and what it tells them to do next. The
 * demo runs as `npm run demo` does (setup is skipped: this suite's setup has
 * installed and built everything), in a uniquely named lab; then every
 * command it prints under "Where to look next" is run exactly as printed, in
 * a fresh shell with nothing of ours in its environment. The README's lab
 * commands must be among them.
 */
describe('the demo and the commands it prints', { timeout: 600_000 }, () => {
  const lab = new LabHarness();
  let output = '';
  let next: string[] = [];

  /** A fresh login-like shell: no AMBIT_* and nothing else of the test's environment. */
  const freshShell = (command: string): Promise<Run> =>
    new Promise((done) => {
      const child = execFile('bash', ['-c', command], { cwd: repoRoot, env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' }, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });

  before(async () => {
    requireRoot();
    const r = await new Promise<Run>((done) =>
      execFile(resolve(repoRoot, 'scripts', 'demo.sh'), [], { cwd: repoRoot, env: { ...process.env, AMBIT_LAB: lab.name, AMBIT_SKIP_SETUP: '1' }, timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      ),
    );
    output = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    assert.equal(r.code, 0, `the demo failed:\n${r.stderr}\n${output}`);
    next = output
      .slice(output.indexOf('== Where to look next'))
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .filter(Boolean);
  });

  after(async () => {
    await lab.ambit(['lab', 'down']);
  });

  it('shows what it says it shows', () => {
    assert.match(output, /packets to the HBONE port 15008: [1-9]\d*\s+packets to the pod port 8080: 0/);
    assert.match(output, /response body visible in the capture: no/);
    const seenAs = /client_seen_as is demo\/client's own address \(([\d.]+)\)/.exec(output)?.[1];
    assert.ok(seenAs, 'the demo names the client address');
    assert.ok(output.split('\n').filter((l) => l.includes(`"client_seen_as":"${seenAs}"`)).length >= 4, 'and the server saw exactly that address on each call');
    assert.match(output, /demo\/client:\n\{"served_by"/);
    assert.match(output, /demo\/other \(identity cluster.local\/ns\/demo\/sa\/default\):\nrefused: /);
    assert.match(output, /legacy\/client \(no identity\):\nrefused: /);
  });

  it('prints commands that work as printed, in a fresh shell', async () => {
    assert.ok(next.length >= 6, `the demo printed its next steps:\n${next.join('\n')}`);
    const down = next.filter((c) => / lab down\b/.test(c));
    assert.equal(down.length, 1);
    for (const command of next.filter((c) => !down.includes(c))) {
      const r = await freshShell(command);
      assert.equal(r.code, 0, `${command}\nexited ${r.code}: ${r.stderr}`);
      if (!/ -- sh\b/.test(command)) assert.ok(r.stdout.trim().length > 0, `${command} printed nothing`);
    }
    assert.match((await freshShell(next.find((c) => c.includes('lab status'))!)).stdout, /demo\s+client\s+node1/);
    assert.match((await freshShell(next.find((c) => c.includes('/metrics'))!)).stdout, /ambit_tcp_connections_opened_total/);
    assert.match((await freshShell(next.find((c) => c.includes('authorizationpolicies'))!)).stdout, /web-allow-client/);
    const r = await freshShell(down[0]!);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual((await lab.ambit(['lab', 'status'])).code, 0, 'the lab is down');
  });

  it('lists every lab command the README gives', () => {
    const readme = readFileSync(resolve(repoRoot, 'README.md'), 'utf8');
    const commands = [...readme.matchAll(/`(bin\/ambit lab [^`|]+)`/g)].map((m) => m[1]!.trim());
    assert.ok(commands.length >= 3, `found ${commands.join(', ')}`);
    const printed = next.map((l) => l.replace(/^AMBIT_LAB=\S+ /, '').replace(/\s+#.*$/, ''));
    for (const c of commands) assert.ok(printed.includes(c), `the README's \`${c}\` is not among the demo's commands:\n${printed.join('\n')}`);
  });
});
