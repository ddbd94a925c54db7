// lib.mjs — helpers for the MCP tests: a temporary store per test, the
// agentkv CLI to check results against the store, an SDK client connected
// over stdio (optionally offering an older protocol revision), and a raw
// line-based JSON-RPC driver for protocol-level input the SDK cannot send.
//
// AGENTKV names the binary under test (ctest sets it).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const AGENTKV = process.env.AGENTKV;
if (!AGENTKV) throw new Error('AGENTKV must name the agentkv binary');

// The tools of SPEC.md §7 (with search_instructions, docs/prompts.md) and
// the memory tool of §9, in the order
// tools/list must give them.
export const SPEC_TOOLS = [
  'get_instruction', 'list_instructions', 'search_instructions', 'put_instruction',
  'put_artifact', 'get_artifact', 'list_artifacts', 'delete_artifact',
  'put_project_summary', 'get_project_summary',
  'kv_put', 'kv_get', 'kv_delete', 'kv_list',
  'cache_stats', 'prune_cache', 'memory',
];

// The store of a test: `--dir STORE`, and in the conformance run on Redis
// (tests/redis/with-redis.sh sets AKV_TEST_BACKEND) a Redis database of its
// own, so that stores stay as separate as directories are. Each test file
// runs in its own process: files get disjoint ranges of databases.
const FILE_DB_BASE = { 'stdio.test.mjs': 1, 'http.test.mjs': 85, 'protocol.test.mjs': 170,
  'modern.test.mjs': 215,
  'skills.test.mjs': 240,
  'complete.test.mjs': 245,
  'notify.test.mjs': 250 };
const storeDbs = new Map();
function storeArgs(store) {
  const base = process.env.AKV_TEST_BACKEND;
  if (!base) return ['--dir', store];
  if (!storeDbs.has(store)) {
    const first = FILE_DB_BASE[path.basename(process.argv[1] || '')] ?? 1;
    storeDbs.set(store, first + storeDbs.size);
  }
  return ['--dir', store, '--backend', base.replace(/\/\d+$/, `/${storeDbs.get(store)}`)];
}

// A fresh directory with a store path inside; remove() deletes it.
export function tempDir() {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentkv-mcp-'));
  return {
    dir,
    store: path.join(dir, 'store'),
    file(name, content) {
      const p = path.join(dir, name);
      writeFileSync(p, content);
      return p;
    },
    remove() { rmSync(dir, { recursive: true, force: true }); },
  };
}

// Runs the CLI on a store: { status, stdout (Buffer), text, stderr }.
// { bulk: true } is for a test's loops of fixtures and checks: under the
// sanitizers their processes skip LeakSanitizer's check at exit, which
// costs each about 35 ms (the commands they run, put, get and export, are
// leak-checked in cli-crud and cli-export).
export function akv(store, args, input, { bulk = false } = {}) {
  const asan = process.env.ASAN_OPTIONS;
  const env = bulk
    ? { ...process.env, ASAN_OPTIONS: `${asan ? `${asan}:` : ''}detect_leaks=0` }
    : undefined;
  const r = spawnSync(AGENTKV, [...storeArgs(store), ...args], {
    input, env, maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return {
    status: r.status, stdout: r.stdout, text: r.stdout.toString('utf8'),
    stderr: r.stderr.toString('utf8'),
  };
}

// akv() that must succeed.
export function akvOk(store, args, input, opts) {
  const r = akv(store, args, input, opts);
  if (r.status !== 0) {
    throw new Error(`agentkv ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return r;
}

export function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

// Connects the SDK client to `agentkv mcp` over stdio. `version` makes the
// client offer that revision instead of its newest (the SDK accepts any of
// its SUPPORTED_PROTOCOL_VERSIONS back); negotiated() tells what the server
// chose, as the client saw it.
export async function connectStdio({ store, sandbox, config, version } = {}) {
  const args = storeArgs(store);
  if (sandbox) args.push('--sandbox', sandbox);
  if (config) args.push('--config', config);
  args.push('mcp');
  const transport = new StdioClientTransport({
    command: AGENTKV, args, env: { ...process.env }, stderr: 'inherit',
  });
  let negotiated;
  // The client hands the negotiated version to transports that take it.
  transport.setProtocolVersion = (v) => { negotiated = v; };
  if (version) offerVersion(transport, version);
  const client = new Client({ name: 'agentkv-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, negotiated: () => negotiated };
}

// Rewrites the protocolVersion of the client's initialize request.
export function offerVersion(transport, version) {
  const send = transport.send.bind(transport);
  transport.send = (msg, opts) => send(
    msg.method === 'initialize'
      ? { ...msg, params: { ...msg.params, protocolVersion: version } }
      : msg,
    opts);
  return transport;
}

// The first text item of a tool result.
export function text(result) {
  const item = result.content.find((c) => c.type === 'text');
  return item ? item.text : undefined;
}

// The JSON object a tool returned as text.
export function json(result) {
  return JSON.parse(text(result));
}

// A raw stdio session: send() writes one line (an object is serialised,
// a string or Buffer goes as is), next() resolves with the next response
// line parsed, close() ends stdin and resolves with the exit status.
export function rawServer(store, extraArgs = []) {
  const child = spawn(AGENTKV, [...storeArgs(store), ...extraArgs, 'mcp'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let buf = Buffer.alloc(0);
  const lines = [];
  const waiters = [];
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    let nl;
    while ((nl = buf.indexOf(10)) >= 0) {
      const line = buf.subarray(0, nl).toString('utf8');
      buf = buf.subarray(nl + 1);
      if (waiters.length) waiters.shift()(line);
      else lines.push(line);
    }
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    send(msg) {
      const data = typeof msg === 'string' || Buffer.isBuffer(msg)
        ? msg : JSON.stringify(msg);
      child.stdin.write(data);
      child.stdin.write('\n');
    },
    async next(timeoutMs = 10000) {
      const line = lines.length ? lines.shift() : await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no response within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiters.push((l) => { clearTimeout(t); resolve(l); });
      });
      return JSON.parse(line);
    },
    pending: () => lines.length,
    async close() {
      child.stdin.end();
      return exited;
    },
  };
}

// ---- HTTP ----------------------------------------------------------------

// Creates an API token in the store's tokens file; returns the token text.
export function createToken(store, role, sandbox) {
  const args = ['token', 'create', '--role', role];
  if (sandbox) args.push('--sandbox', sandbox);
  return akvOk(store, args).text.trim();
}

// Starts `agentkv serve` on a free loopback port of store. Resolves with
// { url, stop() }; stop() sends SIGTERM and resolves with the exit status.
export async function startServer(store, extraArgs = []) {
  const child = spawn(AGENTKV, [...storeArgs(store), 'serve', '--listen', '127.0.0.1:0',
    '--access-log', 'off', '--no-seed', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${log}`)), 15000);
    child.stderr.on('data', (d) => {
      log += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(t); reject(new Error(`server exited ${code}: ${log}`)); });
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    url,
    log: () => log,
    async stop() { child.kill('SIGTERM'); return exited; },
  };
}

// Connects the SDK client over streamable HTTP to url/mcp with a bearer
// token (none when token is null). query is appended to the endpoint
// (e.g. "?sandbox=x"); version as for connectStdio.
export async function connectHttp({ url, token, query = '', version, headers = {} }) {
  const { StreamableHTTPClientTransport } =
    await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp${query}`),
    { requestInit: { headers: h } });
  if (version) offerVersion(transport, version);
  const client = new Client({ name: 'agentkv-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, negotiated: () => transport.protocolVersion };
}

// One raw POST /mcp: resolves with { status, headers, body (parsed JSON or
// null), text }.
export async function rawPost(url, { token, body, headers = {}, method = 'POST' } = {}) {
  const h = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  const res = await fetch(`${url}/mcp`, {
    method, headers: h,
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const textBody = await res.text();
  let parsed = null;
  try { parsed = textBody ? JSON.parse(textBody) : null; } catch { parsed = null; }
  return { status: res.status, headers: res.headers, body: parsed, text: textBody };
}

// ---- the 2026-07-28 revision (@modelcontextprotocol/client 2.x) -----------

export const MODERN = '2026-07-28';

// A v2 client; mode is its versionNegotiation mode: { pin: MODERN } (the
// default: connect fails unless server/discover offers the revision) or
// 'auto' (probe, fall back to initialize).
async function modernClient(mode) {
  const { Client: Client2 } = await import('@modelcontextprotocol/client');
  return new Client2({ name: 'agentkv-test-v2', version: '1.0.0' },
    { versionNegotiation: { mode: mode ?? { pin: MODERN } } });
}

// Connects the v2 client to `agentkv mcp` over stdio.
export async function connectStdioModern({ store, sandbox, mode } = {}) {
  const { StdioClientTransport: Stdio2 } = await import('@modelcontextprotocol/client/stdio');
  const args = storeArgs(store);
  if (sandbox) args.push('--sandbox', sandbox);
  args.push('mcp');
  const transport = new Stdio2({ command: AGENTKV, args, env: { ...process.env }, stderr: 'ignore' });
  const client = await modernClient(mode);
  await client.connect(transport);
  return { client, transport };
}

// Connects the v2 client over streamable HTTP to url/mcp with a bearer
// token. seen collects the requests' headers when given (an array).
export async function connectHttpModern({ url, token, query = '', mode, seen }) {
  const { StreamableHTTPClientTransport: Http2 } = await import('@modelcontextprotocol/client');
  const h = token ? { Authorization: `Bearer ${token}` } : {};
  const fetchFn = seen
    ? (u, init) => { seen.push(new Headers(init?.headers)); return fetch(u, init); }
    : undefined;
  const transport = new Http2(new URL(`${url}/mcp${query}`), { requestInit: { headers: h }, fetch: fetchFn });
  const client = await modernClient(mode);
  await client.connect(transport);
  return { client, transport };
}

// The _meta envelope of a raw 2026-07-28 request.
export function envelope(extra = {}) {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': {},
    ...extra,
  };
}
