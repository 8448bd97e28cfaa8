import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { awaitCondition, eventually, fixture, LabHarness, repoRoot, requireRoot, sleep } from './harness.js';

/** Debian's chromium (scripts/apt-packages). */
const CHROMIUM = '/usr/bin/chromium';
/** Screenshots go to docs/images when asked to (AMBIT_UPDATE_SCREENSHOTS=1), else to a scratch folder: a test run does not rewrite the docs. */
const SHOTS = process.env.AMBIT_UPDATE_SCREENSHOTS === '1' ? join(repoRoot, 'docs', 'images') : mkdtempSync(join(tmpdir(), 'ambit-shots-'));

interface EdgeSeen {
  id: string;
  source: string;
  target: string;
  rps: number;
  security: string;
}

/**
 * The controller's dashboard in a real headless browser against a lab with
 * traffic: the graph shows the client -> Service -> backends edges with
 * non-zero rates and mTLS, the pages render, the canary slider is read-only
 * without a token, a token the lab's API server refuses changes nothing, and
 * with the lab's admin token it rewrites the HTTPRoute's weights and the
 * observed split follows.
 */
describe('dashboard in a browser', { timeout: 600_000 }, () => {
  const lab = new LabHarness();
  const scratch = mkdtempSync(join(tmpdir(), 'ambit-dash-'));
  let stream: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base = '';

  const edges = () => page.$$eval('#graph g.edge', (gs) => gs.map((g) => ({ id: g.getAttribute('data-id')!, source: g.getAttribute('data-source')!, target: g.getAttribute('data-target')!, rps: Number(g.getAttribute('data-rps')), security: g.getAttribute('data-security')! })));
  const weights = async () => {
    const r = await lab.must(['lab', 'kubectl', 'get', 'httproute', 'echo-canary', '-n', 'dash', '-o', 'json']);
    return (JSON.parse(r) as { spec: { rules: { backendRefs: { weight: number }[] }[] } }).spec.rules[0]!.backendRefs.map((b) => b.weight);
  };
  /** The dashboard's own graph API, as the page fetches it: requests/s from the echo Service to each backend over the last 10 s. */
  const split = () =>
    page.evaluate(async () => {
      const g = (await (await fetch('/ui/api/graph?window=10')).json()) as { edges: { source: string; target: string; requestsPerSecond: number }[] };
      const out: Record<string, number> = {};
      for (const e of g.edges) if (e.source === 'service:dash/echo') out[e.target] = e.requestsPerSecond;
      return out;
    });
  const open = async (hash: string) => {
    await page.goto(`${base}/ui/${hash}`, { waitUntil: 'domcontentloaded' });
    // The page marks what it finished drawing (the test's tsconfig has no DOM types, hence the cast).
    await page.waitForFunction((h: string) => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset['ready'] === h, { timeout: 15_000 }, hash);
  };
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) as `${string}.png`, fullPage: true });

  before(async () => {
    requireRoot();
    mkdirSync(SHOTS, { recursive: true });
    const manifest = join(scratch, 'dashboard.yaml');
    writeFileSync(manifest, readFileSync(fixture('dashboard.yaml'), 'utf8').replaceAll('__FIXTURES__', dirname(fixture('echo.mjs'))));
    await lab.must(['lab', 'up', '-f', manifest, '--nodes', '2']);
    await awaitCondition(lab, 'waypoints.ambit.dev', 'dash', 'wp', 'Programmed', (c) => c.status === 'True');
    // A steady 20 requests/s from the client through the waypoint, for the whole test.
    stream = spawn(join(repoRoot, 'bin', 'ambit'), ['lab', 'exec', 'dash/client', '--', 'node', fixture('http-stream.mjs'), 'http://echo.dash/', '20', '400'], { env: { ...process.env, AMBIT_LAB: lab.name }, stdio: 'ignore' });
    const controller = (await lab.status()).components.find((c) => c.kind === 'controller');
    assert.ok(controller, 'lab status lists the controller');
    base = `http://${controller.admin}`;
    // The controller's admin address is inside the lab's fabric namespace: the browser runs
    // there too. Puppeteer talks to it over pipes (no DevTools port), which cross namespaces.
    const wrapper = join(scratch, 'chromium-in-fabric');
    writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=/run/netns/ambit-${lab.name}-fabric ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await puppeteer.launch({ executablePath: wrapper, pipe: true, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    stream?.kill('SIGTERM');
    await lab.ambit(['lab', 'down']);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('draws client -> Service -> both backends with non-zero rates and mTLS', async () => {
    await open('#/graph?window=10');
    let seen: EdgeSeen[] = [];
    const want = ['workload:dash/client->service:dash/echo', 'service:dash/echo->workload:dash/echo-v1', 'service:dash/echo->workload:dash/echo-v2'];
    const ok = await eventually(
      async () => {
        seen = await edges();
        // Once the window holds only the steady stream (its first scrapes also cover the idle time before it), the client's edge reads ~20/s.
        const front = seen.find((e) => e.id === want[0])?.rps ?? 0;
        return want.every((id) => (seen.find((e) => e.id === id)?.rps ?? 0) > 0) && front > 12 && front < 28;
      },
      60,
      1000,
    );
    assert.ok(ok, `client -> echo -> echo-v1 and echo-v2 with rates, the client's ~20 requests/s; edges seen: ${JSON.stringify(seen)}`);
    for (const id of want) assert.equal(seen.find((e) => e.id === id)!.security, 'mutual_tls', id);
    // The edge labels carry the numbers too.
    const label = await page.$eval(`#graph g.edge[data-id="${want[0]}"] .edge-label`, (t) => t.textContent ?? '');
    assert.match(label, /rps · 0\.0% err · p99 \d/);
    await shot('dashboard-graph');
  });

  it('renders the Services, policies, certificates and proxies pages', async () => {
    await open('#/services');
    assert.ok(await page.$('a[href="#/services/dash/echo"]'), 'the echo Service is listed');
    await shot('dashboard-services');
    await open('#/policies');
    await shot('dashboard-policies');
    await open('#/certificates');
    const certRows = await page.$$eval('table.certs tbody tr', (rows) => rows.map((r) => r.textContent ?? ''));
    assert.ok(certRows.some((r) => r.includes('/ns/dash/sa/client')), `the client's certificate is listed: ${certRows.join(' | ')}`);
    await shot('dashboard-certificates');
    await open('#/proxies');
    const proxies = await page.$$eval('tr[data-proxy]', (rows) => rows.map((r) => r.getAttribute('data-proxy')));
    assert.ok(proxies.includes('node/node1') && proxies.includes('node/node2') && proxies.some((p) => p?.startsWith('waypoint/dash/wp/')), `proxies: ${proxies.join(', ')}`);
    await shot('dashboard-proxies');
  });

  it('is read-only without a token: the slider cannot apply', async () => {
    await open('#/services/dash/echo');
    assert.equal(await page.$eval('#mode', (m) => m.textContent), 'read-only');
    assert.equal(await page.$eval('button.apply-weights', (b) => (b as unknown as { disabled: boolean }).disabled), true);
  });

  it('sends the change as the token holder: a token the API server refuses changes nothing', async () => {
    await page.type('#token', 'not-the-lab-token');
    await page.click('#token-form button[type=submit]');
    await open('#/services/dash/echo');
    await setSlider(page, 80);
    await page.click('button.apply-weights');
    await page.waitForSelector('.write-result.bad', { timeout: 45_000 });
    assert.match(await page.$eval('.write-result', (r) => r.textContent ?? ''), /401/);
    assert.deepEqual(await weights(), [90, 10]);
    await page.click('#forget-token');
  });

  it("with the lab's admin token, the slider rewrites the HTTPRoute and the observed split follows", async () => {
    // The lab's API server accepts one bearer token, its admin's, kept root-only in the lab's state folder.
    const token = readFileSync(`/run/ambit/labs/${lab.name}/admin-token`, 'utf8').trim();
    await page.type('#token', token);
    await page.click('#token-form button[type=submit]');
    await open('#/services/dash/echo');
    assert.equal(await page.$eval('#mode', (m) => m.textContent), 'writes as token holder');
    await setSlider(page, 80);
    await page.click('button.apply-weights');
    await page.waitForSelector('.write-result.good', { timeout: 45_000 });
    assert.deepEqual(await weights(), [20, 80]);
    // The waypoint gets the route within a push; the 10 s window then holds only the new split.
    await sleep(13_000);
    let last: Record<string, number> = {};
    const ok = await eventually(
      async () => {
        last = await split();
        const v1 = last['workload:dash/echo-v1'] ?? 0;
        const v2 = last['workload:dash/echo-v2'] ?? 0;
        return v1 + v2 > 10 && v2 / (v1 + v2) > 0.65 && v2 / (v1 + v2) < 0.92;
      },
      30,
      1000,
    );
    assert.ok(ok, `the observed split follows 20/80; requests/s by backend: ${JSON.stringify(last)}`);
    await open('#/services/dash/echo?window=10');
    await page.waitForSelector('tr.split');
    await shot('dashboard-service');
  });
});

/** Moves a range input as a user would: its value, then the input event the page listens to. */
async function setSlider(page: Page, value: number): Promise<void> {
  await page.$eval(
    'input.canary',
    (el, v) => {
      (el as unknown as { value: string }).value = String(v);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    },
    value,
  );
}
