// The observer's page: plain DOM, no framework. Every value from the cluster
// is put in the page as text (textContent), never as HTML.
const token = document.querySelector('meta[name="troupe-token"]').content;
const main = document.getElementById('main');
let cluster = { nodes: [], observer: '' };
let events = [];
let pageTimer = null;
let render = () => {};

function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}

/** Replaces an element's children; arrays are flattened, null/false skipped. */
function fill(el, ...kids) {
  el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
}

async function api(path, body) {
  const init = { headers: { authorization: `Bearer ${token}` } };
  if (body !== undefined) Object.assign(init, { method: 'POST', body: JSON.stringify(body), headers: { ...init.headers, 'content-type': 'application/json' } });
  const r = await fetch(path, init);
  const v = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
  if (!r.ok) throw new Error(v.error ?? `HTTP ${r.status}`);
  return v;
}

const fmt = {
  n: (x) => (x === null || x === undefined ? '–' : x >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : x >= 1e4 ? `${(x / 1e3).toFixed(1)}k` : String(Math.round(x * 10) / 10)),
  bytes: (x) => (x >= 1 << 30 ? `${(x / (1 << 30)).toFixed(2)} GiB` : `${(x / (1 << 20)).toFixed(1)} MiB`),
  ms: (x) => (x === null || x === undefined ? '–' : `${x.toFixed(1)} ms`),
  time: (t) => new Date(t).toLocaleTimeString(),
  dur: (ms) => (ms > 3600e3 ? `${(ms / 3600e3).toFixed(1)} h` : ms > 60e3 ? `${(ms / 60e3).toFixed(1)} min` : `${Math.round(ms / 1000)} s`),
};

function nodeLink(name) {
  return h('a', { href: `#/processes/${encodeURIComponent(name)}` }, name);
}

function pidLink(node, pid) {
  return h('a', { href: `#/process/${encodeURIComponent(node)}/${encodeURIComponent(pid)}`, 'data-pid': pid }, pid);
}

function pidNode(pid) {
  const m = /^<(.+)\.\d+\.\d+>$/.exec(pid);
  return m ? m[1] : null;
}

function connected() {
  return cluster.nodes.filter((n) => n.connected && n.snapshot);
}

// ---- charts -----------------------------------------------------------------

function spark(points, label, format) {
  const W = 150, H = 40;
  const vals = points.filter((v) => v !== null && Number.isFinite(v));
  const max = Math.max(1e-9, ...vals);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  if (points.length > 1) {
    const step = W / (points.length - 1);
    const d = points.map((v, i) => `${i === 0 ? 'M' : 'L'}${(i * step).toFixed(1)},${(H - 2 - ((v ?? 0) / max) * (H - 4)).toFixed(1)}`).join('');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', '#5ab0ff');
    path.setAttribute('stroke-width', '1.5');
    path.setAttribute('vector-effect', 'non-scaling-stroke');
    svg.append(path);
  }
  const last = points.length > 0 ? points[points.length - 1] : null;
  return h('div', { class: 'chart' }, h('small', {}, `${label}: ${format(last)} (max ${format(vals.length ? max : null)})`), svg);
}

// ---- pages ------------------------------------------------------------------

function clusterPage() {
  const cards = cluster.nodes.map((n) => {
    const s = n.snapshot;
    const head = h('h3', {}, nodeLink(n.name), h('span', { class: `badge ${n.connected ? 'up' : 'down'}`, 'data-state': n.connected ? 'up' : 'down' }, n.connected ? 'up' : 'not connected'));
    if (!n.connected || !s) {
      return h('div', { class: 'card', 'data-node': n.name }, head, h('p', { class: 'dim' }, n.error ?? 'no data: the observer is not connected to this node'));
    }
    const hist = n.history;
    return h(
      'div',
      { class: 'card', 'data-node': n.name },
      head,
      h(
        'dl',
        { class: 'kv' },
        h('dt', {}, 'processes'), h('dd', { 'data-metric': 'processes' }, fmt.n(s.processes)),
        h('dt', {}, 'messages/s'), h('dd', { 'data-metric': 'msgs' }, fmt.n(n.msgsPerSec)),
        h('dt', {}, 'memory (rss)'), h('dd', {}, fmt.bytes(s.memory.rss)),
        h('dt', {}, 'loop lag p99'), h('dd', {}, fmt.ms(s.lag?.p99)),
        h('dt', {}, 'mailbox max'), h('dd', {}, fmt.n(s.mailboxMax)),
        h('dt', {}, 'crashes / restarts'), h('dd', {}, `${s.crashes} / ${s.restarts}`),
        h('dt', {}, 'uptime'), h('dd', {}, fmt.dur(s.uptimeMs)),
        h('dt', {}, 'links'), h('dd', { 'data-metric': 'links' }, s.peers.visible.length === 0 ? '–' : s.peers.visible.join(', ')),
      ),
      h(
        'div',
        { class: 'charts' },
        spark(hist.map((p) => p.msgsPerSec), 'msgs/s', fmt.n),
        spark(hist.map((p) => p.processes), 'processes', fmt.n),
        spark(hist.map((p) => p.rss), 'memory', (v) => (v === null ? '–' : fmt.bytes(v))),
        spark(hist.map((p) => p.lagP99), 'lag p99', fmt.ms),
      ),
    );
  });
  fill(main, h('h2', {}, `Cluster (${connected().length} of ${cluster.nodes.length} nodes connected)`), h('div', { class: 'cards' }, cards));
}

function nodePicker(current, base) {
  return h(
    'select',
    { id: 'node-picker', onchange: (e) => (location.hash = `#/${base}/${encodeURIComponent(e.target.value)}`) },
    connected().map((n) => h('option', { value: n.name, selected: n.name === current }, n.name)),
  );
}

const sortState = { key: 'mailbox', desc: true, filter: '' };
function processesPage(nodeName) {
  const name = nodeName ?? connected()[0]?.name;
  if (!name) return fill(main, h('p', { class: 'dim' }, 'No connected node.'));
  if (!nodeName) return void (location.hash = `#/processes/${encodeURIComponent(name)}`);
  const rates = new Map();
  let prev = null;
  const cols = [
    ['pid', 'pid'], ['name', 'name'], ['behaviour', 'behaviour'], ['status', 'status'], ['mailbox', 'mailbox'],
    ['rate', 'msgs/s'], ['handled', 'handled'], ['links', 'links'], ['monitors', 'monitors'],
  ];
  const filter = h('input', { id: 'proc-filter', placeholder: 'filter by name, behaviour or pid', value: sortState.filter, oninput: (e) => { sortState.filter = e.target.value; draw(); } });
  const table = h('table', { id: 'proc-table' });
  const info = h('span', { class: 'dim' });
  let rows = [];
  function draw() {
    const f = sortState.filter.toLowerCase();
    const shown = rows
      .filter((r) => !f || `${r.pid} ${r.name ?? ''} ${r.behaviour ?? ''}`.toLowerCase().includes(f))
      .map((r) => ({ ...r, rate: rates.get(r.pid) ?? 0 }));
    const k = sortState.key;
    shown.sort((a, b) => {
      const x = a[k] ?? '', y = b[k] ?? '';
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return sortState.desc ? -c : c;
    });
    fill(table, 
      h('thead', {}, h('tr', {}, cols.map(([key, label]) => h('th', { class: key === k ? 'sorted' : '', 'data-sort': key, onclick: () => { sortState.desc = sortState.key === key ? !sortState.desc : true; sortState.key = key; draw(); } }, label + (key === k ? (sortState.desc ? ' ▾' : ' ▴') : ''))))),
      h('tbody', {}, shown.slice(0, 1000).map((r) => h('tr', { class: 'clickable', 'data-row': r.pid, onclick: () => (location.hash = `#/process/${encodeURIComponent(name)}/${encodeURIComponent(r.pid)}`) },
        h('td', {}, r.pid), h('td', {}, r.name ?? ''), h('td', {}, r.behaviour ?? ''), h('td', {}, r.status), h('td', {}, r.mailbox),
        h('td', {}, fmt.n(r.rate)), h('td', {}, r.handled), h('td', {}, r.links), h('td', {}, r.monitors)))),
    );
    info.textContent = `${shown.length} shown of ${rows.length}`;
  }
  async function load() {
    try {
      const r = await api(`/api/nodes/${encodeURIComponent(name)}/processes`);
      const now = Date.now();
      if (prev) for (const p of r.rows) { const q = prev.rows.get(p.pid); if (q !== undefined) rates.set(p.pid, ((p.handled - q) * 1000) / (now - prev.at)); }
      prev = { at: now, rows: new Map(r.rows.map((p) => [p.pid, p.handled])) };
      rows = r.rows;
      info.className = 'dim';
      draw();
    } catch (e) {
      info.textContent = e.message;
      info.className = 'error';
    }
  }
  fill(main, h('h2', {}, 'Processes of ', name), h('div', { class: 'toolbar' }, nodePicker(name, 'processes'), filter, info), table);
  draw();
  void load();
  pageTimer = setInterval(load, 2000);
}

function processPage(nodeName, pid) {
  const box = h('div', { id: 'proc-detail' });
  const traceBox = h('tbody', { id: 'trace-events' });
  const traceBtn = h('button', { id: 'trace-toggle' }, 'Start trace');
  const killBtn = h('button', { id: 'kill', class: 'danger' }, 'Kill…');
  const msg = h('span', { id: 'proc-msg', class: 'dim' });
  let tracing = false;
  let since = 0;
  traceBtn.onclick = async () => {
    try {
      await api(`/api/nodes/${encodeURIComponent(nodeName)}/trace`, { pid, on: !tracing });
      tracing = !tracing;
      if (tracing) { since = 0; fill(traceBox, ); }
      traceBtn.textContent = tracing ? 'Stop trace' : 'Start trace';
      msg.textContent = tracing ? 'tracing (at most 100 events/s, 2 min)' : 'trace stopped';
    } catch (e) { msg.textContent = e.message; }
  };
  killBtn.onclick = () => {
    const dlg = document.getElementById('kill-dialog');
    document.getElementById('kill-target').textContent = `${pid} on ${nodeName}`;
    dlg.onclose = async () => {
      if (dlg.returnValue !== 'kill') return;
      const reason = document.getElementById('kill-reason').value.trim();
      try {
        const r = await api(`/api/nodes/${encodeURIComponent(nodeName)}/kill`, { pid, reason });
        msg.textContent = r.killed ? `killed with reason "${reason}"` : 'it was not alive any more';
      } catch (e) { msg.textContent = e.message; }
      void load();
    };
    dlg.showModal();
  };
  const list = (pids) => (pids.length === 0 ? h('span', { class: 'dim' }, 'none') : h('span', {}, pids.flatMap((p, i) => [i ? ', ' : '', pidNode(p) ? pidLink(pidNode(p), p) : p])));
  async function load() {
    let d;
    try {
      d = await api(`/api/nodes/${encodeURIComponent(nodeName)}/process?pid=${encodeURIComponent(pid)}`);
    } catch (e) {
      return fill(box, h('p', { class: 'error' }, e.message));
    }
    if (d === null) {
      tracing = false;
      traceBtn.disabled = true;
      killBtn.disabled = true;
      return fill(box, h('p', { class: 'dim', id: 'proc-gone' }, 'This process is not alive (it exited).'));
    }
    fill(box, 
      h('dl', { class: 'kv' },
        h('dt', {}, 'name'), h('dd', { 'data-field': 'name' }, d.name ?? '–'),
        h('dt', {}, 'behaviour'), h('dd', { 'data-field': 'behaviour' }, d.behaviour ?? '–'),
        h('dt', {}, 'status'), h('dd', { 'data-field': 'status' }, d.status),
        h('dt', {}, 'mailbox / handled'), h('dd', {}, `${d.mailbox} / ${d.handled}`),
        h('dt', {}, 'parent'), h('dd', {}, d.parent ? pidLink(nodeName, d.parent) : '–'),
        h('dt', {}, 'links'), h('dd', { 'data-field': 'links' }, list(d.linkList)),
        h('dt', {}, 'monitors'), h('dd', {}, list(d.monitorList)),
        h('dt', {}, 'monitored by'), h('dd', {}, list(d.monitoredBy)),
        h('dt', {}, 'traps exits'), h('dd', {}, String(d.trapExit)),
        d.restarts !== null ? [h('dt', {}, 'restarts'), h('dd', {}, d.restarts)] : null,
      ),
      h('h3', {}, 'State'), h('pre', { id: 'proc-state' }, d.state),
      d.queue.length ? [h('h3', {}, 'Queued messages (first 20)'), h('pre', {}, d.queue.join('\n'))] : null,
    );
  }
  async function readTrace() {
    if (!tracing) return;
    try {
      const r = await api(`/api/nodes/${encodeURIComponent(nodeName)}/trace?pid=${encodeURIComponent(pid)}&since=${since}`);
      if (r === null) { tracing = false; traceBtn.textContent = 'Start trace'; msg.textContent = 'trace ended'; return; }
      for (const e of r.events) traceBox.append(h('tr', { 'data-dir': e.dir }, h('td', {}, fmt.time(e.at)), h('td', { class: e.dir }, e.dir === 'in' ? '→ in' : '← out'), h('td', {}, e.peer ?? ''), h('td', {}, h('code', {}, e.msg))));
      while (traceBox.children.length > 500) traceBox.firstChild.remove();
      since = r.lastSeq;
      if (r.dropped) msg.textContent = `tracing; ${r.dropped} events over the rate limit were dropped`;
    } catch (e) { msg.textContent = e.message; }
  }
  fill(main, 
    h('h2', {}, 'Process ', h('code', {}, pid), ' on ', nodeLink(nodeName)),
    h('div', { class: 'toolbar' }, traceBtn, killBtn, msg),
    box,
    h('h3', {}, 'Trace'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'time'), h('th', {}, 'dir'), h('th', {}, 'peer'), h('th', {}, 'message'))), traceBox),
  );
  void load();
  let tick = 0;
  pageTimer = setInterval(() => { void readTrace(); if (++tick % 4 === 0) void load(); }, 500);
}

function treesPage(nodeName) {
  const name = nodeName ?? connected()[0]?.name;
  if (!name) return fill(main, h('p', { class: 'dim' }, 'No connected node.'));
  if (!nodeName) return void (location.hash = `#/trees/${encodeURIComponent(name)}`);
  const box = h('div', { id: 'trees' });
  const open = new Set();
  const branch = (t, path) => {
    const label = [t.id ?? t.name ?? t.behaviour ?? '?', ' ', t.pid ? pidLink(name, t.pid) : h('span', { class: 'dim' }, t.restarting ? 'restarting' : 'not running'), t.type === 'supervisor' ? h('span', { class: 'badge', 'data-restarts': t.restarts }, `${t.restarts} restarts`) : null];
    if (t.type !== 'supervisor') return h('div', { class: 'leaf', 'data-tree': t.id ?? '' }, label);
    const d = h('details', { class: 'tree', open: open.has(path) || !open.size, 'data-tree': t.id ?? t.pid }, h('summary', {}, label), t.children.map((c, i) => branch(c, `${path}/${c.id ?? i}`)));
    d.addEventListener('toggle', () => (d.open ? open.add(path) : open.delete(path)));
    return d;
  };
  async function load() {
    try {
      const trees = await api(`/api/nodes/${encodeURIComponent(name)}/trees`);
      const recent = events.filter((e) => e.kind === 'restart' && e.node === name).slice(-10).reverse();
      fill(box, 
        trees.length === 0 ? h('p', { class: 'dim' }, 'No supervisors on this node.') : trees.map((t, i) => branch(t, String(i))),
        h('h3', {}, 'Recent restarts'),
        recent.length === 0 ? h('p', { class: 'dim' }, 'none') : h('ul', {}, recent.map((e) => h('li', {}, `${fmt.time(e.at)} ${e.child ?? e.pid} under ${e.supervisor}: ${e.reason}`))),
      );
    } catch (e) { fill(box, h('p', { class: 'error' }, e.message)); }
  }
  fill(main, h('h2', {}, 'Supervision trees of ', name), h('div', { class: 'toolbar' }, nodePicker(name, 'trees')), box);
  void load();
  pageTimer = setInterval(load, 2000);
}

function servicesPage() {
  const box = h('div', { id: 'services' });
  async function load() {
    let all;
    try { all = await api('/api/services'); } catch (e) { return fill(box, h('p', { class: 'error' }, e.message)); }
    const names = new Map(), children = [], topics = [], groups = [], conflicts = [];
    for (const [node, s] of Object.entries(all)) {
      if (!s || s.error) continue;
      for (const n of s.registry.names) names.set(n.name, n);
      if (s.registry.conflicts) conflicts.push(`${node}: ${s.registry.conflicts}`);
      if (children.length === 0) children.push(...s.supervisor.children); // the same replicated table on every node
      for (const t of s.topics) topics.push({ node, ...t });
      for (const g of s.groups) groups.push({ node, ...g });
    }
    const byNode = new Map();
    for (const c of children) byNode.set(c.node, [...(byNode.get(c.node) ?? []), c]);
    const table = (head, rows) => h('table', {}, h('thead', {}, h('tr', {}, head.map((x) => h('th', {}, x)))), h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));
    fill(box, 
      h('h3', {}, `Registry names (${names.size})`),
      h('p', { class: 'dim', id: 'name-conflicts' }, conflicts.length ? `name conflicts resolved: ${conflicts.join(', ')}` : 'no name conflicts resolved'),
      names.size ? table(['name', 'node', 'pid'], [...names.values()].sort((a, b) => a.name.localeCompare(b.name)).map((n) => [n.name, n.node, pidLink(n.node, n.pid)])) : h('p', { class: 'dim' }, 'none'),
      h('h3', {}, `DistributedSupervisor children (${children.length})`),
      children.length ? [...byNode].map(([node, cs]) => h('div', {}, h('strong', {}, `${node}: ${cs.length}`), table(['id', 'behaviour', 'pid', 'generation'], cs.map((c) => [c.id, c.behaviour, pidLink(c.node, c.pid), c.generation])))) : h('p', { class: 'dim' }, 'none'),
      h('h3', {}, 'PubSub topics'),
      topics.length ? table(['node', 'topic', 'subscribers'], topics.map((t) => [t.node, t.topic, t.subscribers])) : h('p', { class: 'dim' }, 'none'),
      h('h3', {}, 'Process groups'),
      groups.length ? table(['node', 'group', 'members'], groups.map((g) => [g.node, g.group, g.members])) : h('p', { class: 'dim' }, 'none'),
    );
  }
  fill(main, h('h2', {}, 'Cluster services'), box);
  void load();
  pageTimer = setInterval(load, 3000);
}

const evFilter = { kind: '', text: '' };
function eventsPage() {
  const body = h('tbody', { id: 'event-rows' });
  const draw = () => {
    const t = evFilter.text.toLowerCase();
    const shown = events.filter((e) => (!evFilter.kind || e.kind === evFilter.kind) && (!t || JSON.stringify(e).toLowerCase().includes(t))).slice(-500).reverse();
    fill(body, ...shown.map((e) => h('tr', { 'data-kind': e.kind },
      h('td', {}, fmt.time(e.at)), h('td', {}, e.kind), h('td', {}, e.node),
      h('td', {}, e.pid ? pidLink(e.node, e.pid) : e.peer ?? ''),
      h('td', {}, e.kind === 'restart' ? `${e.child ?? ''} under ${e.supervisor}: ${e.reason}` : e.behaviour ? `${e.behaviour}: ${e.reason ?? ''}` : e.reason ?? ''),
      h('td', {}, e.stack ? h('details', {}, h('summary', {}, 'stack'), h('pre', {}, e.stack)) : ''))));
  };
  render = draw;
  fill(main, 
    h('h2', {}, 'Events'),
    h('div', { class: 'toolbar' },
      h('select', { id: 'event-kind', onchange: (e) => { evFilter.kind = e.target.value; draw(); } }, ['', 'crash', 'restart', 'nodeup', 'nodedown'].map((k) => h('option', { value: k, selected: k === evFilter.kind }, k || 'all kinds'))),
      h('input', { placeholder: 'filter', value: evFilter.text, oninput: (e) => { evFilter.text = e.target.value; draw(); } })),
    h('table', {}, h('thead', {}, h('tr', {}, ['time', 'kind', 'node', 'process / peer', 'what', ''].map((x) => h('th', {}, x)))), body),
  );
  draw();
}

// ---- routing and the live channel ----------------------------------------------

function route() {
  if (pageTimer !== null) clearInterval(pageTimer);
  pageTimer = null;
  render = () => {};
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const page = parts[0] || 'cluster';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === (page === 'process' ? 'processes' : page));
  switch (page) {
    case 'processes': return processesPage(parts[1]);
    case 'process': return processPage(parts[1], parts.slice(2).join('/'));
    case 'trees': return treesPage(parts[1]);
    case 'services': return servicesPage();
    case 'events': return eventsPage();
    default:
      render = clusterPage;
      return clusterPage();
  }
}

function connectLive() {
  const badge = document.getElementById('live');
  const es = new EventSource(`/live?token=${encodeURIComponent(token)}`);
  es.addEventListener('open', () => { badge.textContent = 'live'; badge.className = 'badge up'; });
  es.addEventListener('error', () => { badge.textContent = 'reconnecting…'; badge.className = 'badge down'; });
  es.addEventListener('cluster', (m) => { cluster = JSON.parse(m.data); render(); });
  es.addEventListener('events', () => { void api('/api/events').then((evs) => { events = evs; render(); }); });
}

window.addEventListener('hashchange', route);
void api('/api/events').then((evs) => { events = evs; render(); }, () => {});
connectLive();
route();
