// The service graph as SVG: a layered left-to-right layout (callers, then
// Services, then the workloads serving them), computed here so the page needs
// no graph library. Edges are labelled with what the mesh measured on them.

const SVG = 'http://www.w3.org/2000/svg';
const COL_W = 260;
const ROW_H = 90;
const PAD = 60;

/** Depth of each node: 0 for nodes nothing calls, else one more than its deepest caller (cycles cut). */
function layers(nodes, edges) {
  const depth = new Map(nodes.map((n) => [n.id, 0]));
  // Bellman-Ford style relaxation, bounded by the node count so a cycle cannot loop forever.
  for (let i = 0; i < nodes.length; i++) {
    let changed = false;
    for (const e of edges) {
      const d = depth.get(e.source) + 1;
      if (d > depth.get(e.target) && d < nodes.length) {
        depth.set(e.target, d);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return depth;
}

export function layout(graph) {
  const depth = layers(graph.nodes, graph.edges);
  const columns = new Map();
  for (const n of graph.nodes) {
    const d = depth.get(n.id);
    if (!columns.has(d)) columns.set(d, []);
    columns.get(d).push(n);
  }
  const pos = new Map();
  let rows = 1;
  for (const [d, list] of columns) {
    list.sort((a, b) => (a.id < b.id ? -1 : 1));
    list.forEach((n, i) => pos.set(n.id, { x: PAD + d * COL_W, y: PAD + i * ROW_H }));
    rows = Math.max(rows, list.length);
  }
  const width = PAD * 2 + Math.max(0, ...columns.keys()) * COL_W + 120;
  const height = PAD * 2 + (rows - 1) * ROW_H + 20;
  return { pos, width, height };
}

export const fmt = {
  rate: (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)),
  pct: (v) => (v === undefined || v === null ? '–' : `${(v * 100).toFixed(v > 0 && v < 0.01 ? 2 : 1)}%`),
  ms: (v) => (v === undefined || v === null ? '–' : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`),
  bytes: (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(1)} MB/s` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} kB/s` : `${v.toFixed(0)} B/s`),
};

export function edgeLabel(e) {
  if (e.protocol === 'http') return `${fmt.rate(e.requestsPerSecond)} rps · ${fmt.pct(e.errorRate)} err · p99 ${fmt.ms(e.p99Ms)}`;
  return `${fmt.rate(e.connectionsPerSecond)} conn/s · ${fmt.bytes(e.bytesPerSecond)}`;
}

function el(name, attrs, text) {
  const n = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

/** Draws `graph` into a fresh <svg>; `onNode(node)` is called when a Service is clicked. */
export function renderGraph(graph, onNode) {
  const { pos, width, height } = layout(graph);
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'service graph' });
  const defs = el('defs', {});
  for (const [id, cls] of [['arrow-mtls', 'mtls'], ['arrow-plain', 'plain']]) {
    const m = el('marker', { id, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    m.appendChild(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: `arrowhead ${cls}` }));
    defs.appendChild(m);
  }
  svg.appendChild(defs);
  for (const e of graph.edges) {
    const a = pos.get(e.source);
    const b = pos.get(e.target);
    if (!a || !b) continue;
    const secure = e.security === 'mutual_tls';
    const errors = (e.errorRate ?? 0) > 0.05;
    const g = el('g', {
      class: `edge ${e.protocol} ${secure ? 'mtls' : 'plain'}${errors ? ' failing' : ''}`,
      'data-id': e.id,
      'data-source': e.source,
      'data-target': e.target,
      'data-rps': e.requestsPerSecond,
      'data-error-rate': e.errorRate ?? '',
      'data-p99': e.p99Ms ?? '',
      'data-security': e.security,
    });
    const x1 = a.x + 14;
    const x2 = b.x - 16;
    const mid = (x1 + x2) / 2;
    g.appendChild(el('path', { d: `M ${x1} ${a.y} C ${mid} ${a.y}, ${mid} ${b.y}, ${x2} ${b.y}`, 'marker-end': `url(#arrow-${secure ? 'mtls' : 'plain'})` }));
    const lx = mid;
    const ly = (a.y + b.y) / 2 - 6;
    g.appendChild(el('text', { x: lx, y: ly, class: 'edge-label', 'text-anchor': 'middle' }, edgeLabel(e)));
    g.appendChild(el('text', { x: lx, y: ly + 14, class: 'edge-security', 'text-anchor': 'middle' }, secure ? 'mTLS' : e.security === 'mixed' ? 'mixed mTLS / plaintext' : 'plaintext'));
    g.appendChild(el('title', {}, `${e.source} → ${e.target}\n${edgeLabel(e)}\n${e.security}`));
    svg.appendChild(g);
  }
  for (const n of graph.nodes) {
    const p = pos.get(n.id);
    const g = el('g', { class: `node ${n.kind}`, 'data-id': n.id, transform: `translate(${p.x},${p.y})`, tabindex: 0 });
    if (n.kind === 'service') g.appendChild(el('polygon', { points: '0,-15 15,0 0,15 -15,0' }));
    else g.appendChild(el('circle', { r: 13 }));
    g.appendChild(el('text', { y: 32, 'text-anchor': 'middle', class: 'node-name' }, n.name));
    if (n.namespace) g.appendChild(el('text', { y: 46, 'text-anchor': 'middle', class: 'node-ns' }, n.namespace));
    if (n.kind === 'service' && n.namespace) {
      g.classList.add('clickable');
      g.addEventListener('click', () => onNode(n));
      g.addEventListener('keydown', (ev) => ev.key === 'Enter' && onNode(n));
    }
    svg.appendChild(g);
  }
  return svg;
}
