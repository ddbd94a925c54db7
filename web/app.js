// agentkv dashboard (docs/dashboard.md). Plain JavaScript, no framework,
// no third-party code. It uses the public HTTP API only, with the token the
// user types in, kept in sessionStorage (this tab only).
//
// Safety rule: every string that comes from the server (keys, values,
// metadata, descriptions, sandbox names) reaches the page through
// textContent or an attribute set by setAttribute, never as HTML. The
// Content-Security-Policy forbids inline script besides.
'use strict';

const SCOPES = ['system', 'instructions', 'project', 'task', 'artifacts'];
const REFRESH_MS = 5000;
const MAX_SANDBOXES = 50;   // stats fetched per refresh, at most
const PAGE = 25;            // keys per page
const PREVIEW_BYTES = 64 * 1024;
const SPARK_POINTS = 60;

const $ = (id) => document.getElementById(id);
const state = {
  token: null,
  admin: false,
  sandboxes: [],
  selected: null,
  metrics: null,       // parsed /metrics, or null when not allowed
  hitSamples: [],      // hit rate per refresh interval, 0..1
  lastReads: null,     // {hits, misses} at the previous refresh
  cursors: [null],     // cursor of each page seen, for Previous
  page: 0,
  nextCursor: null,
  entry: null,         // metadata of the entry shown
  promptSig: null,     // sandbox and catalog the prompt figures are of
  timer: null,
};

// ---- small helpers -------------------------------------------------------

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function fmtBytes(n) {
  if (n === null || n === undefined || isNaN(n)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + u[i];
}

function fmtInt(n) {
  return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US');
}

function fmtPct(x, digits) {
  if (x === null || x === undefined || isNaN(x)) return '–';
  return (x * 100).toFixed(digits === undefined ? 1 : digits) + '%';
}

function fmtTime(s) {
  if (!s) return 'never';
  const d = new Date(s);
  return isNaN(d) ? String(s) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function enc(s) { return encodeURIComponent(s); }

function kvPath(sb, scope, key) {
  let p = '/v1/sandboxes/' + enc(sb) + '/kv/' + enc(scope);
  if (key !== undefined) p += '/' + enc(key);
  return p;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// Calls the API with the token; resolves to the Response for 2xx, throws
// ApiError (with the server's message) otherwise.
async function api(path, opts) {
  const o = Object.assign({ method: 'GET' }, opts || {});
  o.headers = Object.assign({ Authorization: 'Bearer ' + state.token }, o.headers || {});
  o.cache = 'no-store';
  const r = await fetch(path, o);
  if (r.ok) return r;
  let msg = r.status + ' ' + r.statusText;
  try {
    const j = await r.json();
    if (j && j.error && j.error.message) msg = j.error.message;
  } catch (e) { /* not JSON */ }
  throw new ApiError(r.status, msg);
}

async function apiJson(path) { return (await api(path)).json(); }

function setStatus(text) { $('status').textContent = text; }

// ---- Prometheus text (admin tokens) --------------------------------------

// Parses the text format into {name: [{labels, value}]}; only the sample
// lines are read. Label values may hold \\, \" and \n escapes.
function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l;
      while ((l = re.exec(m[2])) !== null)
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    (out[m[1]] = out[m[1]] || []).push({ labels, value: Number(m[3]) });
  }
  return out;
}

// The sum of a metric's samples (those filter accepts); null when /metrics
// is not readable, 0 when the series does not exist yet.
function metricSum(name, filter) {
  if (!state.metrics) return null;
  let s = 0;
  for (const x of state.metrics[name] || [])
    if (!filter || filter(x.labels)) s += x.value;
  return s;
}

// ---- sign in / out -------------------------------------------------------

async function signIn(token) {
  state.token = token;
  state.admin = (await apiJson('/v1/sandboxes')).role === 'admin';
  sessionStorage.setItem('agentkv-token', token);
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  document.body.classList.toggle('admin', state.admin);
  await refresh();
  if (state.selected) listKeys(true);
  state.timer = setInterval(refresh, REFRESH_MS);
}

function signOut() {
  sessionStorage.removeItem('agentkv-token');
  clearInterval(state.timer);
  location.reload();
}

// ---- periodic refresh ----------------------------------------------------

// Refreshes may overlap (the timer, a click): each has a number, and only
// the latest one renders, so that an older answer never replaces a newer.
let refreshSeq = 0;
async function refresh() {
  const seq = ++refreshSeq;
  try {
    const sbs = (await apiJson('/v1/sandboxes')).sandboxes;
    state.sandboxes = sbs;
    if (!state.selected || !sbs.includes(state.selected))
      state.selected = sbs.find((s) => s !== '_global') || sbs[0] || null;
    if (state.admin) {
      try {
        state.metrics = parseMetrics(await (await api('/metrics')).text());
      } catch (e) { state.metrics = null; }
    }
    const shown = filteredSandboxes().slice(0, MAX_SANDBOXES);
    if (state.selected && !shown.includes(state.selected)) shown.push(state.selected);
    const stats = {};
    await Promise.all(shown.map(async (sb) => {
      try { stats[sb] = await apiJson('/v1/sandboxes/' + enc(sb) + '/stats'); } catch (e) { /* gone */ }
    }));
    if (seq !== refreshSeq) return;
    renderSandboxes(stats);
    renderSummary(stats);
    renderUsage(stats[state.selected]);
    await renderInstructions(seq);
    if (seq !== refreshSeq) return;
    setStatus((state.admin ? 'Admin token' : 'Agent token') + ' · ' +
      sbs.length + (sbs.length === 1 ? ' sandbox' : ' sandboxes'));
    $('updated').textContent = '· updated ' + new Date().toLocaleTimeString('en-GB');
  } catch (e) {
    if (e.status === 401) { signOut(); return; }
    setStatus('Refresh failed: ' + e.message);
  }
}

function filteredSandboxes() {
  const f = $('sb-filter').value.trim();
  return state.sandboxes.filter((s) => !f || s.includes(f));
}

function totals(st) {
  const t = { entries: 0, bytes: 0, quota: 0, hits: 0, misses: 0, expired: 0 };
  for (const s of Object.values(st || {})) {
    t.entries += s.entries; t.bytes += s.bytes; t.quota += s.quota;
    t.hits += s.hits; t.misses += s.misses; t.expired += s.expired;
  }
  return t;
}

function renderSandboxes(stats) {
  const ul = $('sb-list');
  ul.replaceChildren();
  const list = filteredSandboxes();
  for (const sb of list.slice(0, MAX_SANDBOXES)) {
    const li = el('li');
    const b = el('button');
    b.type = 'button';
    b.setAttribute('aria-current', sb === state.selected ? 'true' : 'false');
    b.append(el('span', sb, 'sb-name'));
    const t = totals(stats[sb]);
    b.append(el('span', fmtInt(t.entries) + (t.entries === 1 ? ' entry · ' : ' entries · ') + fmtBytes(t.bytes), 'sb-sub'));
    b.addEventListener('click', () => {
      state.selected = sb;
      state.entry = null;
      $('entry').hidden = true;
      refresh();
      listKeys(true);
    });
    li.append(b);
    ul.append(li);
  }
  $('sb-more').textContent = list.length > MAX_SANDBOXES
    ? (list.length - MAX_SANDBOXES) + ' more: filter to find them' : '';
  $('sum-sandboxes').textContent = fmtInt(state.sandboxes.length);
}

function renderSummary(stats) {
  let entries = 0, bytes = 0;
  for (const sb of Object.keys(stats)) {
    const t = totals(stats[sb]);
    entries += t.entries; bytes += t.bytes;
  }
  $('sum-entries').textContent = fmtInt(entries);
  $('sum-bytes').textContent = fmtBytes(bytes);
  // Hits and misses are store-wide per scope: any sandbox's stats hold them.
  const any = stats[state.selected] || Object.values(stats)[0];
  const t = totals(any);
  const reads = t.hits + t.misses;
  $('sum-hitrate').textContent = reads ? fmtPct(t.hits / reads) : 'no reads';
  if (state.lastReads) {
    const dh = t.hits - state.lastReads.hits, dm = t.misses - state.lastReads.misses;
    if (dh + dm > 0) state.hitSamples.push(dh / (dh + dm));
    else if (reads) state.hitSamples.push(state.hitSamples.length ? state.hitSamples[state.hitSamples.length - 1] : t.hits / reads);
  } else if (reads) {
    state.hitSamples.push(t.hits / reads);
  }
  state.lastReads = { hits: t.hits, misses: t.misses };
  if (state.hitSamples.length > SPARK_POINTS) state.hitSamples.splice(0, state.hitSamples.length - SPARK_POINTS);
  drawSpark();
  const adminOnly = (id, v) => {
    const e = $(id);
    e.classList.toggle('small', v === null);
    e.textContent = v === null ? 'admin only' : fmtInt(v);
  };
  adminOnly('sum-quota', metricSum('agentkv_quota_rejections_total'));
  adminOnly('sum-integrity', metricSum('agentkv_integrity_failures_total'));
}

function drawSpark() {
  const svg = $('spark');
  const ns = 'http://www.w3.org/2000/svg';
  svg.replaceChildren();
  const base = document.createElementNS(ns, 'line');
  base.setAttribute('x1', '0'); base.setAttribute('x2', '120');
  base.setAttribute('y1', '27'); base.setAttribute('y2', '27');
  svg.append(base);
  const s = state.hitSamples;
  if (s.length === 0) return;
  // The samples so far fill the width (a flat line for the first one).
  const pts = s.map((v, i) => {
    const x = s.length === 1 ? 120 : (i * 120) / (s.length - 1);
    return x.toFixed(1) + ',' + (26 - v * 24).toFixed(1);
  });
  if (pts.length === 1) pts.unshift('0,' + pts[0].split(',')[1]);
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', pts.join(' '));
  svg.append(line);
  svg.setAttribute('aria-label', 'hit rate over the last ' + s.length + ' refreshes, now ' + fmtPct(s[s.length - 1]));
}

function usageBar(used, quota) {
  const wrap = el('div', null, 'bar');
  const track = el('div', null, 'track');
  const fill = el('div', null, 'fill');
  const frac = quota ? Math.min(1, used / quota) : 0;
  fill.style.width = (frac * 100).toFixed(2) + '%';
  if (frac >= 0.9) fill.classList.add('bad');
  else if (frac >= 0.7) fill.classList.add('warn');
  track.append(fill);
  track.setAttribute('role', 'meter');
  track.setAttribute('aria-valuemin', '0');
  track.setAttribute('aria-valuemax', String(quota || 0));
  track.setAttribute('aria-valuenow', String(used));
  track.setAttribute('aria-label', 'bytes used of quota');
  wrap.append(track);
  wrap.append(el('span', fmtBytes(used) + ' of ' + (quota ? fmtBytes(quota) : 'no quota') +
    (quota ? ' · ' + fmtPct(used / quota, used && used / quota < 0.001 ? 3 : 1) : ''), 'text'));
  return wrap;
}

function renderUsage(st) {
  $('usage-sb').textContent = state.selected || '(none)';
  const body = $('usage-body');
  body.replaceChildren();
  if (!st) return;
  for (const scope of SCOPES) {
    const s = st[scope];
    if (!s) continue;
    const tr = el('tr');
    tr.dataset.scope = scope;
    tr.append(el('th', scope));
    tr.firstChild.setAttribute('scope', 'row');
    tr.append(el('td', fmtInt(s.entries), 'num'));
    const bar = el('td');
    bar.append(usageBar(s.bytes, s.quota));
    tr.append(bar);
    tr.append(el('td', fmtInt(s.expired) + (s.expired ? ' (' + fmtBytes(s.expired_bytes) + ')' : ''), 'num'));
    tr.append(el('td', fmtInt(s.hits), 'num'));
    tr.append(el('td', fmtInt(s.misses), 'num'));
    tr.append(el('td', s.hits + s.misses ? fmtPct(s.hits / (s.hits + s.misses)) : '–', 'num'));
    const rej = metricSum('agentkv_quota_rejections_total', (l) => l.scope === scope);
    tr.append(el('td', rej === null ? 'admin only' : fmtInt(rej), 'num' + (rej === null ? ' muted' : '')));
    body.append(tr);
  }
}

// ---- instructions and prompt ---------------------------------------------

async function renderInstructions(seq) {
  const body = $('instr-body');
  const prompt = $('prompt');
  if (!state.selected) { body.replaceChildren(); prompt.replaceChildren(); return; }
  const sb = state.selected;
  let cat;
  try { cat = await apiJson('/v1/sandboxes/' + enc(sb) + '/instructions'); } catch (e) {
    if (seq !== refreshSeq) return;
    body.replaceChildren();
    const tr = el('tr'); const td = el('td', 'Catalog unavailable: ' + e.message); td.colSpan = 5;
    tr.append(td); body.append(tr);
    return;
  }
  if (seq !== refreshSeq) return;
  body.replaceChildren();
  for (const it of cat.items || []) {
    const tr = el('tr');
    tr.append(el('td', it.name, 'mono'));
    tr.append(el('td', fmtInt(it.version), 'num'));
    tr.append(el('td', fmtInt(it.tokens), 'num'));
    tr.append(el('td', it.description));
    const f = metricSum('agentkv_instruction_fetches_total', (l) => l.name === it.name);
    tr.append(el('td', f === null ? 'admin only' : fmtInt(f), 'num' + (f === null ? ' muted' : '')));
    body.append(tr);
  }
  if (!(cat.items || []).length) {
    const tr = el('tr'); const td = el('td', 'No instruction sets (agentkv seed --global).', 'muted'); td.colSpan = 5;
    tr.append(td); body.append(tr);
  }
  // Building the prompt reads every instruction set (and so counts reads
  // of scope instructions): done again only when the catalog changed, so
  // that watching the dashboard does not move the figures it shows.
  const sig = sb + '\n' + (cat.items || []).map((it) => it.name + ':' + it.sha256).join(',');
  if (sig === state.promptSig) return;
  try {
    const r = await api('/v1/sandboxes/' + enc(sb) + '/prompt');
    const tokens = Number(r.headers.get('X-Agentkv-Tokens'));
    const base = Number(r.headers.get('X-Agentkv-Baseline-Tokens'));
    await r.arrayBuffer();
    const max = Math.max(tokens, base, 1);
    const row = (label, n, cls) => {
      const w = el('div', null, 'bar');
      w.append(el('span', label + ': ' + fmtInt(n) + ' tokens', 'text'));
      const t = el('div', null, 'track'); const f = el('div', null, 'fill' + (cls ? ' ' + cls : ''));
      f.style.width = ((n / max) * 100).toFixed(2) + '%';
      t.append(f); w.append(t);
      return w;
    };
    prompt.replaceChildren(
      row('Inline baseline (every set pasted in)', base, 'base'),
      row('Reference prompt (catalog, sets fetched on demand)', tokens));
    if (base > 0)
      prompt.append(el('p', 'Reduction: ' + fmtPct((base - tokens) / base) + ' (' + fmtInt(base - tokens) + ' tokens fewer)', 'saving'));
    state.promptSig = sig;
  } catch (e) {
    prompt.replaceChildren(el('p', 'Prompt unavailable: ' + e.message, 'muted'));
  }
}

// ---- key browser ----------------------------------------------------------

let listSeq = 0;
async function listKeys(reset) {
  if (!state.selected) return;
  const seq = ++listSeq;
  if (reset) { state.cursors = [null]; state.page = 0; }
  const scope = $('keys-scope').value;
  const prefix = $('keys-prefix').value;
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (prefix) q.set('prefix', prefix);
  const cur = state.cursors[state.page];
  if (cur) q.set('cursor', cur);
  const body = $('keys-body');
  let res;
  try {
    res = await apiJson(kvPath(state.selected, scope) + '?' + q.toString());
    if (seq !== listSeq) return;
  } catch (e) {
    if (seq !== listSeq) return;
    body.replaceChildren();
    const tr = el('tr'); const td = el('td', 'Cannot list: ' + e.message); td.colSpan = 6;
    tr.append(td); body.append(tr);
    return;
  }
  body.replaceChildren();
  for (const m of res.items) {
    const tr = el('tr');
    tr.tabIndex = 0;
    tr.dataset.key = m.key;
    tr.append(el('td', m.key, 'key'));
    tr.append(el('td', fmtBytes(m.size), 'num'));
    tr.append(el('td', m.content_type));
    tr.append(el('td', fmtInt(m.version), 'num'));
    tr.append(el('td', fmtTime(m.updated_at)));
    tr.append(el('td', fmtTime(m.expires_at)));
    const open = () => showEntry(m, tr);
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
    body.append(tr);
  }
  if (!res.items.length) {
    const tr = el('tr'); const td = el('td', prefix ? 'No key starts with this prefix.' : 'No entries in this scope.', 'muted'); td.colSpan = 6;
    tr.append(td); body.append(tr);
  }
  state.nextCursor = res.next_cursor || null;
  $('keys-prev').disabled = state.page === 0;
  $('keys-next').disabled = !state.nextCursor;
  $('keys-page').textContent = 'page ' + (state.page + 1);
}

function isText(type) {
  return /^text\/|[/+](json|xml|yaml|x-yaml|javascript|markdown)\b/.test(type || '');
}

async function showEntry(m, tr) {
  for (const r of $('keys-body').children) r.removeAttribute('aria-selected');
  if (tr) tr.setAttribute('aria-selected', 'true');
  state.entry = m;
  $('entry').hidden = false;
  $('entry-key').textContent = m.key;
  $('entry-msg').textContent = '';
  $('entry-confirm').hidden = true;
  $('entry-delete').hidden = !state.admin;
  const dl = $('entry-meta');
  dl.replaceChildren();
  const add = (k, v) => { dl.append(el('dt', k)); dl.append(el('dd', v)); };
  add('sandbox', m.sandbox + (m.origin && m.origin !== m.sandbox ? ' (from ' + m.origin + ')' : ''));
  add('scope', m.scope);
  add('size', fmtInt(m.size) + ' bytes');
  add('content type', m.content_type);
  add('version', m.version);
  add('sha256', m.sha256);
  add('created', fmtTime(m.created_at));
  add('updated', fmtTime(m.updated_at));
  add('expires', fmtTime(m.expires_at));
  add('metadata', JSON.stringify(m.metadata || {}));
  const pre = $('entry-preview');
  pre.textContent = 'Loading…';
  try {
    const r = await api(kvPath(state.selected, m.scope, m.key));
    const buf = new Uint8Array(await r.arrayBuffer());
    const part = buf.subarray(0, PREVIEW_BYTES);
    const more = buf.length > PREVIEW_BYTES ? '\n… (' + fmtInt(buf.length - PREVIEW_BYTES) + ' more bytes)' : '';
    if (isText(r.headers.get('Content-Type')) || looksText(part)) {
      pre.textContent = new TextDecoder('utf-8').decode(part) + more;
    } else {
      const hex = Array.from(part.subarray(0, 512), (b) => b.toString(16).padStart(2, '0')).join(' ');
      pre.textContent = 'binary value, ' + fmtInt(buf.length) + ' bytes; first ' +
        Math.min(512, buf.length) + ' as hex:\n' + hex;
    }
  } catch (e) {
    pre.textContent = 'Cannot read the value: ' + e.message;
  }
}

function looksText(b) {
  try { new TextDecoder('utf-8', { fatal: true }).decode(b); } catch (e) { return false; }
  for (const c of b) if (c < 9 || (c > 13 && c < 32)) return false;
  return true;
}

async function deleteEntry() {
  const m = state.entry;
  if (!m) return;
  $('entry-confirm').hidden = true;
  try {
    await api(kvPath(state.selected, m.scope, m.key), { method: 'DELETE' });
    $('entry-msg').textContent = 'Deleted.';
    $('entry').hidden = true;
    state.entry = null;
    listKeys(false);
    refresh();
  } catch (e) {
    $('entry-msg').textContent = 'Delete failed: ' + e.message;
  }
}

// ---- wiring ---------------------------------------------------------------

function init() {
  $('interval').textContent = String(REFRESH_MS / 1000);
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = $('token').value.trim();
    $('login-error').textContent = '';
    if (!t) return;
    try {
      await signIn(t);
      $('token').value = '';
    } catch (e) {
      state.token = null;
      $('login-error').textContent = e.status === 401 ? 'This token is unknown or revoked.' : 'Sign-in failed: ' + e.message;
    }
  });
  $('logout').addEventListener('click', signOut);
  $('sb-filter').addEventListener('input', () => refresh());
  $('keys-form').addEventListener('submit', (ev) => { ev.preventDefault(); listKeys(true); });
  $('keys-scope').addEventListener('change', () => listKeys(true));
  $('keys-next').addEventListener('click', () => {
    if (!state.nextCursor) return;
    state.cursors[state.page + 1] = state.nextCursor;
    state.page++;
    listKeys(false);
  });
  $('keys-prev').addEventListener('click', () => {
    if (state.page === 0) return;
    state.page--;
    listKeys(false);
  });
  $('entry-delete').addEventListener('click', () => { $('entry-confirm').hidden = false; $('entry-delete-no').focus(); });
  $('entry-delete-no').addEventListener('click', () => { $('entry-confirm').hidden = true; });
  $('entry-delete-yes').addEventListener('click', deleteEntry);
  const saved = sessionStorage.getItem('agentkv-token');
  if (saved) {
    signIn(saved).catch(() => { sessionStorage.removeItem('agentkv-token'); state.token = null; });
  }
}

document.addEventListener('DOMContentLoaded', init);
