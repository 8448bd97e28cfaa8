// The dashboard's pages. Plain ES module: no build step, nothing loaded from
// outside the controller. Every value from the cluster is put in the page as
// text (never as HTML), since object names and status messages are user input.
import { edgeLabel, fmt, renderGraph } from './graph.js';

const page = document.getElementById('page');
const TOKEN_KEY = 'ambit.operatorToken';
let refreshTimer;

/** Creates an element: h('td', {class: 'x'}, 'text', child...). */
function h(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) n.append(c instanceof Node ? c : String(c));
  return n;
}

async function api(path, init) {
  const res = await fetch(`api/${path}`, init);
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw Object.assign(new Error(body.error ?? `HTTP ${res.status}`), { status: res.status });
  return body;
}

const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

function showMode() {
  const mode = document.getElementById('mode');
  const t = token();
  mode.textContent = t ? 'writes as token holder' : 'read-only';
  mode.className = `mode ${t ? 'read-write' : 'read-only'}`;
  mode.title = t ? 'Changes are sent to the Kubernetes API server with this token; the API server decides whether you may make them.' : 'No token: the dashboard only reads. Paste a Kubernetes bearer token to shift traffic.';
}

function table(headers, rows, attrs = {}) {
  return h('table', attrs, h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))), h('tbody', {}, rows));
}

function conditions(list) {
  if (!list?.length) return h('span', { class: 'muted' }, 'no status yet');
  return h(
    'ul',
    { class: 'conditions' },
    list.map((c) => h('li', { class: `cond ${c.status === 'True' ? (c.type === 'Conflicted' ? 'bad' : 'good') : c.type === 'Conflicted' ? 'good' : 'bad'}` }, h('b', {}, `${c.type}=${c.status}`), ` ${c.reason}: `, h('span', {}, c.message))),
  );
}

// ---- pages ----

async function graphPage() {
  const overview = await api('overview');
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const windowS = Number(params.get('window') ?? overview.defaultWindow);
  const select = h(
    'select',
    { id: 'window', onchange: (ev) => (location.hash = `#/graph?window=${ev.target.value}`) },
    overview.windows.map((w) => h('option', { value: w, selected: w === windowS }, w < 60 ? `${w} s` : `${w / 60} min`)),
  );
  const holder = h('div', { id: 'graph' });
  const edgesTable = h('div', { id: 'edges' });
  page.replaceChildren(
    h('h1', {}, 'Service graph'),
    h('p', { class: 'toolbar' }, 'Rates over the last ', select, ` · ${overview.proxies} proxies reporting · refreshed every 5 s · `, h('span', { class: 'legend mtls' }, '— mTLS'), ' ', h('span', { class: 'legend plain' }, '- - plaintext'), ' · click a Service for its page'),
    holder,
    edgesTable,
  );
  const draw = async () => {
    const g = await api(`graph?window=${windowS}`);
    if (g.edges.length === 0) holder.replaceChildren(h('p', { class: 'empty' }, `No traffic seen in the last ${windowS} s. Rates appear after two scrapes of a proxy that carried some.`));
    else holder.replaceChildren(renderGraph(g, (n) => (location.hash = `#/services/${n.namespace}/${n.name}`)));
    edgesTable.replaceChildren(
      table(
        ['from', 'to', 'protocol', 'requests/s', 'errors', 'p99', 'connections/s', 'bytes/s', 'security'],
        g.edges.map((e) =>
          h('tr', { 'data-id': e.id }, h('td', {}, e.source), h('td', {}, e.target), h('td', {}, e.protocol), h('td', { class: 'num' }, fmt.rate(e.requestsPerSecond)), h('td', { class: 'num' }, fmt.pct(e.errorRate)), h('td', { class: 'num' }, fmt.ms(e.p99Ms)), h('td', { class: 'num' }, fmt.rate(e.connectionsPerSecond)), h('td', { class: 'num' }, fmt.bytes(e.bytesPerSecond)), h('td', { class: e.security === 'mutual_tls' ? 'good' : 'bad' }, e.security)),
        ),
        { class: 'edges' },
      ),
    );
  };
  await draw();
  refreshTimer = setInterval(() => draw().catch(showError), 5000);
}

async function servicesPage() {
  const list = await api('services');
  page.replaceChildren(
    h('h1', {}, 'Services'),
    table(
      ['namespace', 'name', 'cluster IP', 'ports', 'waypoint', 'endpoints (ready)', 'routes', 'TrafficPolicy'],
      list.map((s) =>
        h('tr', {}, h('td', {}, s.namespace), h('td', {}, h('a', { href: `#/services/${s.namespace}/${s.name}` }, s.name)), h('td', {}, s.clusterIP || 'headless'), h('td', {}, s.ports.join(', ')), h('td', {}, s.waypoint ?? '–'), h('td', { class: 'num' }, `${s.endpoints} (${s.readyEndpoints})`), h('td', { class: 'num' }, s.routes), h('td', {}, s.trafficPolicy ?? '–')),
      ),
    ),
  );
}

/** The canary control of one route rule: a slider for two backends, a number per backend for more. */
function canary(route, rule, onDone) {
  const total = rule.backends.reduce((a, b) => a + b.weight, 0) || 1;
  const result = h('span', { class: 'write-result' });
  const two = rule.backends.length === 2;
  const inputs = rule.backends.map((b) => h('input', { type: 'number', min: 0, max: 1000000, value: b.weight, class: 'weight', 'data-backend': b.name, 'aria-label': `weight of ${b.name}` }));
  const slider = two ? h('input', { type: 'range', min: 0, max: 100, step: 5, value: Math.round((rule.backends[1].weight / total) * 100), class: 'canary', 'data-route': `${route.namespace}/${route.name}`, 'data-rule': rule.index, 'aria-label': `share of ${rule.backends[1].name}` }) : null;
  const shareText = h('span', { class: 'share' });
  const syncText = () => {
    if (!two) return;
    shareText.textContent = `${rule.backends[0].name} ${100 - Number(slider.value)}% · ${rule.backends[1].name} ${slider.value}%`;
  };
  if (slider) {
    slider.addEventListener('input', () => {
      inputs[0].value = 100 - Number(slider.value);
      inputs[1].value = Number(slider.value);
      syncText();
    });
    syncText();
  }
  const apply = h('button', { class: 'apply-weights', disabled: !token(), title: token() ? 'Send the new weights to the API server as the token holder' : 'Read-only: paste a token above to shift traffic' }, 'Apply weights');
  apply.addEventListener('click', async () => {
    apply.disabled = true;
    result.textContent = 'sending…';
    try {
      const weights = rule.backends.map((b, i) => ({ name: b.name, weight: Number(inputs[i].value) }));
      await api(`routes/HTTPRoute/${encodeURIComponent(route.namespace)}/${encodeURIComponent(route.name)}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
        body: JSON.stringify({ rule: rule.index, weights }),
      });
      result.textContent = 'applied: the waypoints follow within a second; the observed split follows over the rate window';
      result.className = 'write-result good';
      onDone();
    } catch (err) {
      result.textContent = err.message;
      result.className = 'write-result bad';
    } finally {
      apply.disabled = !token();
    }
  });
  return h('div', { class: 'canary-box' }, h('div', {}, slider, ' ', shareText), h('div', {}, rule.backends.map((b, i) => h('label', {}, `${b.name} `, inputs[i])), ' ', apply, ' ', result), token() ? null : h('p', { class: 'muted' }, 'Read-only: paste an operator token in the header to change weights.'));
}

async function servicePage(namespace, name) {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const windowS = Number(params.get('window') ?? 30);
  const s = await api(`services/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}?window=${windowS}`);
  const id = `service:${namespace}/${name}`;
  const out = s.traffic.filter((e) => e.source === id);
  const outTotal = out.reduce((a, e) => a + e.requestsPerSecond, 0);
  const routeBlocks = s.routes.map((r) =>
    h(
      'section',
      { class: 'route', 'data-route': `${r.namespace}/${r.name}` },
      h('h3', {}, `${r.kind} ${r.namespace}/${r.name}`, h('span', { class: 'muted' }, ` generation ${r.generation ?? '?'}`)),
      r.problems.length ? h('p', { class: 'bad' }, `Rejected: ${r.problems.join('; ')}`) : null,
      r.rules.map((rule) =>
        h(
          'div',
          { class: 'rule' },
          h('p', {}, `Rule ${rule.index}: `, h('code', {}, JSON.stringify(rule.matches)), ' → ', rule.backends.map((b) => `${b.name}:${b.port ?? ''} (weight ${b.weight})`).join(', ') || 'no backends'),
          r.kind === 'HTTPRoute' && rule.backends.length >= 2 ? canary(r, rule, () => setTimeout(() => render(), 800)) : null,
        ),
      ),
      r.status.map((p) => h('div', {}, h('b', {}, p.parent), conditions(p.conditions))),
    ),
  );
  page.replaceChildren(
    h('h1', {}, `Service ${namespace}/${name}`),
    h('p', {}, `${s.hostname} · ${s.clusterIP || 'headless'} · ports ${s.ports.map((p) => p.port).join(', ')} · load balancer ${s.loadBalancer}`),
    h('p', {}, 'Waypoint: ', s.waypoint ? h('b', {}, `${s.waypoint.namespace}/${s.waypoint.name} (${s.waypoint.state})`) : h('span', { class: 'muted' }, 'none (L4 only, enforced by the node agents)')),
    h('h2', {}, `Observed split (last ${windowS} s)`),
    out.length === 0
      ? h('p', { class: 'muted' }, 'No requests seen leaving this Service.')
      : table(
          ['to', 'requests/s', 'share', 'errors', 'p99', 'security'],
          out.map((e) => h('tr', { class: 'split', 'data-target': e.target, 'data-rps': e.requestsPerSecond }, h('td', {}, e.target), h('td', { class: 'num' }, fmt.rate(e.requestsPerSecond)), h('td', { class: 'num share' }, outTotal ? `${((e.requestsPerSecond / outTotal) * 100).toFixed(0)}%` : '–'), h('td', { class: 'num' }, fmt.pct(e.errorRate)), h('td', { class: 'num' }, fmt.ms(e.p99Ms)), h('td', {}, e.security))),
        ),
    h('h2', {}, 'Routes'),
    routeBlocks.length ? h('div', { class: 'routes' }, routeBlocks) : h('p', { class: 'muted' }, 'No HTTPRoute or GRPCRoute attaches to this Service.'),
    h('h2', {}, 'TrafficPolicy'),
    s.trafficPolicy ? h('div', {}, h('p', {}, h('b', {}, `${s.trafficPolicy.namespace}/${s.trafficPolicy.name}`), ` · applied by the waypoint: ${s.trafficPolicy.waypointFields.join(', ') || 'nothing'}`), h('pre', {}, JSON.stringify(s.trafficPolicy.l7, null, 2))) : h('p', { class: 'muted' }, 'None in force.'),
    h('h2', {}, 'Policies that can apply'),
    s.policies.length ? table(['kind', 'policy', 'applies to', 'action', 'status'], s.policies.map((p) => h('tr', {}, h('td', {}, p.kind), h('td', {}, `${p.namespace}/${p.name}`), h('td', {}, p.appliesTo), h('td', {}, p.action ?? '–'), h('td', {}, conditions(p.conditions))))) : h('p', { class: 'muted' }, 'None.'),
    h('h2', {}, 'Endpoints'),
    table(['pod', 'address', 'node', 'ready', 'identity'], s.endpoints.map((e) => h('tr', {}, h('td', {}, e.pod ?? '–'), h('td', {}, e.address), h('td', {}, e.node), h('td', { class: e.ready ? 'good' : 'bad' }, e.ready ? 'yes' : 'no'), h('td', {}, e.identity ?? '–')))),
    h('h2', {}, 'Traffic edges'),
    s.traffic.length ? h('ul', {}, s.traffic.map((e) => h('li', {}, `${e.source} → ${e.target}: ${edgeLabel(e)} (${e.security})`))) : h('p', { class: 'muted' }, `None in the last ${windowS} s.`),
  );
}

async function policiesPage() {
  const list = await api('policies');
  page.replaceChildren(
    h('h1', {}, 'Policies'),
    table(
      ['kind', 'namespace', 'name', 'applies to', 'action', 'accepted', 'status conditions'],
      list.map((p) => h('tr', { class: p.accepted ? '' : 'rejected' }, h('td', {}, p.kind), h('td', {}, p.namespace), h('td', {}, p.name), h('td', {}, p.appliesTo), h('td', {}, p.action ?? '–'), h('td', { class: p.accepted ? 'good' : 'bad' }, p.accepted ? 'yes' : `no: ${p.problems.join('; ')}`), h('td', {}, conditions(p.conditions)))),
    ),
  );
}

function expiry(seconds) {
  if (seconds === null || seconds === undefined) return h('span', { class: 'muted' }, '–');
  const hours = seconds / 3600;
  const text = seconds < 0 ? 'EXPIRED' : hours >= 48 ? `${(hours / 24).toFixed(1)} days` : hours >= 1 ? `${hours.toFixed(1)} h` : `${Math.round(seconds / 60)} min`;
  return h('span', { class: seconds < 0 ? 'bad' : hours < 2 ? 'warn' : 'good' }, text);
}

async function certificatesPage() {
  const c = await api('certificates');
  const roots = c.ca?.trustBundle ?? [];
  const rows = c.proxies.flatMap((p) =>
    p.error
      ? [h('tr', {}, h('td', {}, p.proxy), h('td', { colspan: 4, class: 'bad' }, `could not read /config_dump: ${p.error}`))]
      : p.certificates.map((x) => h('tr', {}, h('td', {}, p.proxy), h('td', {}, x.identity), h('td', {}, x.notAfter ?? '–'), h('td', {}, expiry(x.expiresInSeconds)), h('td', {}, x.lastError ? h('span', { class: 'bad' }, x.lastError) : `rotates ${x.rotateAt ?? '–'}`))),
  );
  page.replaceChildren(
    h('h1', {}, 'Certificates'),
    h('h2', {}, 'Mesh CA'),
    h('pre', {}, JSON.stringify({ trustBundle: roots, published: c.ca?.published, serving: c.ca?.serving }, null, 2)),
    h('h2', {}, 'Workload certificates held by the proxies'),
    rows.length ? table(['proxy', 'identity', 'not after', 'expires in', 'rotation'], rows, { class: 'certs' }) : h('p', { class: 'muted' }, 'No proxy holds a certificate yet.'),
  );
}

async function proxiesPage() {
  const list = await api('proxies');
  const types = [...new Set(list.flatMap((p) => Object.keys(p.versions)))].sort();
  page.replaceChildren(
    h('h1', {}, 'Agents and waypoints'),
    table(
      ['proxy', 'kind', 'node', 'config', ...types.map((t) => `${t} version`), 'connected', 'metrics scrape'],
      list.map((p) =>
        h(
          'tr',
          { 'data-proxy': p.proxy },
          h('td', {}, p.proxy),
          h('td', {}, p.kind),
          h('td', {}, p.node),
          h('td', { class: p.upToDate ? 'good' : 'warn' }, p.upToDate ? 'up to date (ACKed)' : p.nacked.length ? `NACK: ${p.nacked.map((n) => n.type).join(', ')}` : 'push in flight'),
          types.map((t) => h('td', { class: 'num' }, p.versions[t] ?? '–')),
          h('td', {}, p.connectedAt ?? '–'),
          h('td', { class: p.metrics?.lastError ? 'bad' : 'good' }, p.metrics ? (p.metrics.lastError ? `${p.metrics.address}: ${p.metrics.lastError}` : `${p.metrics.address} at ${p.metrics.lastScrapeAt ?? '–'}`) : 'not yet'),
        ),
      ),
    ),
  );
}

// ---- routing ----

function showError(err) {
  page.replaceChildren(h('p', { class: 'bad' }, `Could not load this page: ${err.message}`));
}

async function render() {
  clearInterval(refreshTimer);
  const [path] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const name = parts[0] || 'graph';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === name);
  try {
    if (name === 'services' && parts.length === 3) await servicePage(parts[1], parts[2]);
    else if (name === 'services') await servicesPage();
    else if (name === 'policies') await policiesPage();
    else if (name === 'certificates') await certificatesPage();
    else if (name === 'proxies') await proxiesPage();
    else await graphPage();
    document.body.dataset.ready = location.hash || '#/graph';
  } catch (err) {
    showError(err);
  }
}

document.getElementById('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = document.getElementById('token');
  // Kept for this tab only (sessionStorage), sent only with writes.
  if (input.value.trim()) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  input.value = '';
  showMode();
  render();
});
document.getElementById('forget-token').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showMode();
  render();
});
window.addEventListener('hashchange', render);
showMode();
render();
