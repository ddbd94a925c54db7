// http.test.mjs — the official MCP SDK client against POST /mcp on
// `agentkv serve` (streamable HTTP): version negotiation, every tool with an
// agent token (the shared suite), and what only HTTP has: the bearer token
// (401 without), the token's sandbox (another sandbox's data unreachable),
// sessions (Mcp-Session-Id), MCP-Protocol-Version, Origin, media types,
// 202 for notifications, GET's refusals, and the instruction-fetch metric.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';

import {
  SPEC_TOOLS, akvOk, connectHttp, createToken, json, rawPost, startServer, tempDir, text,
} from './lib.mjs';
import { defineToolSuite } from './suite.mjs';

// The SDK's StreamableHTTPError carries the HTTP status as its code.
const status = (code, word) => (e) => e.code === code && e.message.includes(word);

const INIT = (version = '2025-06-18', id = 1) => ({
  jsonrpc: '2.0', id, method: 'initialize',
  params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});

// The suite with an agent token for sandbox sb1, at the newest revision
// and at the first one that had streamable HTTP.
for (const version of [LATEST_PROTOCOL_VERSION, '2025-03-26']) {
  describe(`every tool over HTTP with an agent token, protocol ${version}`, () => {
    defineToolSuite({
      agent: true,
      async open(store, sandbox) {
        const token = createToken(store, 'agent', sandbox);
        const srv = await startServer(store);
        const { client, negotiated } = await connectHttp({ url: srv.url, token, version });
        assert.equal(negotiated(), version);
        return {
          client,
          async close() {
            await client.close();
            assert.equal(await srv.stop(), 0);
          },
        };
      },
    });
  });
}

describe('HTTP transport', () => {
  let d; let srv;
  const tok = {};
  before(async () => {
    d = tempDir();
    tok.sb1 = createToken(d.store, 'agent', 'sb1');
    tok.sb2 = createToken(d.store, 'agent', 'sb2');
    tok.team = createToken(d.store, 'agent', 'team-*');
    tok.admin = createToken(d.store, 'admin');
    akvOk(d.store, ['--sandbox', 'sb2', 'put', 'task', 'secret', '-'], 'sb2 only');
    akvOk(d.store, ['--sandbox', 'sb2', 'put', 'instructions', 'private', '-'], '# sb2 private set\n');
    akvOk(d.store, ['--sandbox', '_global', 'put', 'instructions', 'presentation', '-'], '# Slides\n');
    srv = await startServer(d.store);
  });
  after(async () => {
    if (srv) assert.equal(await srv.stop(), 0);
    d.remove();
  });

  test('negotiates every protocol version the SDK client supports', async () => {
    for (const version of SUPPORTED_PROTOCOL_VERSIONS) {
      const { client, negotiated } = await connectHttp({ url: srv.url, token: tok.sb1, version });
      assert.equal(negotiated(), version);
      const { tools } = await client.listTools();
      assert.equal(tools.length, SPEC_TOOLS.length);
      console.log(`http: client offered ${version}, negotiated ${negotiated()}`);
      await client.close();
    }
    const { client, negotiated } = await connectHttp({ url: srv.url, token: tok.sb1 });
    assert.equal(negotiated(), LATEST_PROTOCOL_VERSION);
    console.log(`http: SDK default offer ${LATEST_PROTOCOL_VERSION}, negotiated ${negotiated()}`);
    await client.close();
  });

  test('no token: 401, and the SDK client cannot connect', async () => {
    const r = await rawPost(srv.url, { body: INIT() });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'unauthorized');
    assert.match(r.headers.get('www-authenticate'), /^Bearer/);
    const bad = await rawPost(srv.url, { token: 'akv_not-a-real-token', body: INIT() });
    assert.equal(bad.status, 401);
    await assert.rejects(connectHttp({ url: srv.url, token: null }), status(401, 'unauthorized'));
    await assert.rejects(connectHttp({ url: srv.url, token: 'nope' }), status(401, 'unauthorized'));
  });

  test("an agent token cannot reach another sandbox's data", async () => {
    const { client } = await connectHttp({ url: srv.url, token: tok.sb1 });
    let r = await client.callTool({ name: 'kv_get', arguments: { scope: 'task', key: 'secret' } });
    assert.equal(r.isError, true);
    assert.match(text(r), /^not_found: /);
    r = await client.callTool({ name: 'kv_list', arguments: { scope: 'task' } });
    assert.deepEqual(json(r).items, []);
    r = await client.callTool({ name: 'list_instructions' });
    assert.deepEqual(json(r).items.map((x) => x.name), ['presentation']);
    r = await client.callTool({ name: 'get_instruction', arguments: { name: 'private' } });
    assert.match(text(r), /^not_found: /);
    await assert.rejects(client.readResource({ uri: 'agentkv://task/secret' }), (e) => e.code === -32002);
    const { resources } = await client.listResources();
    assert.deepEqual(resources.map((x) => x.uri), ['agentkv://instructions/presentation']);
    // Writes land in sb1, never in sb2.
    r = await client.callTool({ name: 'kv_put', arguments: { scope: 'task', key: 'secret', value: 'mine' } });
    assert.equal(json(r).sandbox, 'sb1');
    assert.equal(akvOk(d.store, ['--sandbox', 'sb2', 'get', 'task', 'secret']).text, 'sb2 only');
    assert.equal(akvOk(d.store, ['--sandbox', 'sb1', 'get', 'task', 'secret']).text, 'mine');
    await client.close();

    // Naming another sandbox is refused, by query or by header.
    let raw = await rawPost(`${srv.url}`, { token: tok.sb1, body: INIT(), headers: { 'X-Agentkv-Sandbox': 'sb2' } });
    assert.equal(raw.status, 403);
    assert.equal(raw.body.error.code, 'forbidden');
    await assert.rejects(connectHttp({ url: srv.url, token: tok.sb1, query: '?sandbox=sb2' }), status(403, 'forbidden'));
    await assert.rejects(connectHttp({ url: srv.url, token: tok.sb1, query: '?sandbox=_global' }), status(403, 'forbidden'));

    // A wildcard token must name its sandbox, within its pattern.
    raw = await rawPost(srv.url, { token: tok.team, body: INIT() });
    assert.equal(raw.status, 400);
    await assert.rejects(connectHttp({ url: srv.url, token: tok.team, query: '?sandbox=sb2' }), status(403, 'forbidden'));
    const team = await connectHttp({ url: srv.url, token: tok.team, query: '?sandbox=team-a' });
    r = await team.client.callTool({ name: 'cache_stats' });
    assert.equal(json(r).sandbox, 'team-a');
    await team.client.close();

    // An admin token chooses any sandbox, and may write scope system.
    const admin = await connectHttp({ url: srv.url, token: tok.admin, query: '?sandbox=sb2' });
    r = await admin.client.callTool({ name: 'kv_get', arguments: { scope: 'task', key: 'secret' } });
    assert.equal(text(r), 'sb2 only');
    r = await admin.client.callTool({ name: 'kv_put', arguments: { scope: 'system', key: 'rules', value: 'x' } });
    assert.ok(!r.isError, text(r));
    await admin.client.close();
  });

  test('sessions: Mcp-Session-Id issued on initialize and required after', async () => {
    let r = await rawPost(srv.url, { token: tok.sb1, body: INIT() });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    const sid = r.headers.get('mcp-session-id');
    assert.match(sid, /^[0-9a-f]{32}$/);
    assert.equal(r.body.result.protocolVersion, '2025-06-18');
    const h = { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-06-18' };

    // Notifications alone: 202, no body.
    r = await rawPost(srv.url, { token: tok.sb1, headers: h, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
    assert.equal(r.status, 202);
    assert.equal(r.text, '');
    r = await rawPost(srv.url, { token: tok.sb1, headers: h, body: { jsonrpc: '2.0', id: 9, result: {} } });
    assert.equal(r.status, 202);

    r = await rawPost(srv.url, { token: tok.sb1, headers: h, body: { jsonrpc: '2.0', id: 2, method: 'ping' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { jsonrpc: '2.0', id: 2, result: {} });

    // Without the header: 400; an unknown id: 404; another token: 404.
    r = await rawPost(srv.url, { token: tok.sb1, body: { jsonrpc: '2.0', id: 3, method: 'tools/list' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, -32600);
    r = await rawPost(srv.url, { token: tok.sb1, headers: { 'Mcp-Session-Id': '0'.repeat(32) }, body: { jsonrpc: '2.0', id: 4, method: 'ping' } });
    assert.equal(r.status, 404);
    r = await rawPost(srv.url, { token: tok.sb2, headers: h, body: { jsonrpc: '2.0', id: 5, method: 'ping' } });
    assert.equal(r.status, 404);

    // MCP-Protocol-Version must name a revision the server speaks (not
    // necessarily the negotiated one, as with the reference server);
    // absent is fine.
    r = await rawPost(srv.url, { token: tok.sb1, headers: { ...h, 'MCP-Protocol-Version': '2025-11-25' }, body: { jsonrpc: '2.0', id: 6, method: 'ping' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { jsonrpc: '2.0', id: 6, result: {} });
    r = await rawPost(srv.url, { token: tok.sb1, headers: { ...h, 'MCP-Protocol-Version': '2024-11-06' }, body: { jsonrpc: '2.0', id: 6, method: 'ping' } });
    assert.equal(r.status, 400);
    r = await rawPost(srv.url, { token: tok.sb1, headers: { ...h, 'MCP-Protocol-Version': 'bogus' }, body: { jsonrpc: '2.0', id: 6, method: 'ping' } });
    assert.equal(r.status, 400);
    r = await rawPost(srv.url, { token: tok.sb1, headers: { 'Mcp-Session-Id': sid }, body: { jsonrpc: '2.0', id: 7, method: 'ping' } });
    assert.equal(r.status, 200);

    // Bad messages: 400 with the JSON-RPC error; requests that fail: 200.
    r = await rawPost(srv.url, { token: tok.sb1, headers: h, body: '{"jsonrpc":' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, -32700);
    r = await rawPost(srv.url, { token: tok.sb1, headers: h, body: [{ jsonrpc: '2.0', id: 1, method: 'ping' }] });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, -32600);
    r = await rawPost(srv.url, { token: tok.sb1, headers: h, body: { jsonrpc: '2.0', id: 8, method: 'nope' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.error.code, -32601);
    r = await rawPost(srv.url, { token: tok.sb1, headers: { ...h, 'Content-Type': 'text/plain' }, body: { jsonrpc: '2.0', id: 8, method: 'ping' } });
    assert.equal(r.status, 415);
    r = await rawPost(srv.url, { token: tok.sb1, headers: { ...h, Accept: 'text/html' }, body: { jsonrpc: '2.0', id: 8, method: 'ping' } });
    assert.equal(r.status, 406);

    // DELETE ends the session.
    r = await rawPost(srv.url, { token: tok.sb1, headers: h, method: 'DELETE' });
    assert.equal(r.status, 204);
    r = await rawPost(srv.url, { token: tok.sb1, headers: h, body: { jsonrpc: '2.0', id: 10, method: 'ping' } });
    assert.equal(r.status, 404);
  });

  test('batches over HTTP under 2025-03-26', async () => {
    let r = await rawPost(srv.url, { token: tok.sb1, body: INIT('2025-03-26') });
    const h = { 'Mcp-Session-Id': r.headers.get('mcp-session-id') };
    r = await rawPost(srv.url, {
      token: tok.sb1, headers: h,
      body: [{ jsonrpc: '2.0', id: 'a', method: 'ping' }, { jsonrpc: '2.0', method: 'n' }, { jsonrpc: '2.0', id: 'b', method: 'tools/list' }],
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.map((x) => x.id), ['a', 'b']);
    r = await rawPost(srv.url, { token: tok.sb1, headers: h, body: [{ jsonrpc: '2.0', method: 'n' }] });
    assert.equal(r.status, 202);
  });

  test('GET /mcp is a session\'s stream: 400 without a session, 404 for an unknown one, 406 without SSE', async () => {
    const get = (headers) => fetch(`${srv.url}/mcp`, { headers: { Authorization: `Bearer ${tok.sb1}`, ...headers } });
    let res = await get({ Accept: 'text/event-stream' });
    assert.equal(res.status, 400);
    res = await get({ Accept: 'text/event-stream', 'Mcp-Session-Id': '0'.repeat(32) });
    assert.equal(res.status, 404);
    res = await get({ Accept: 'application/json', 'Mcp-Session-Id': '0'.repeat(32) });
    assert.equal(res.status, 406);
  });

  test('Origin: loopback origins pass, others are 403', async () => {
    let r = await rawPost(srv.url, { token: tok.sb1, body: INIT(), headers: { Origin: 'https://evil.example' } });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, -32600);
    r = await rawPost(srv.url, { token: tok.sb1, body: INIT(), headers: { Origin: 'http://localhost.evil.example' } });
    assert.equal(r.status, 403);
    r = await rawPost(srv.url, { token: tok.sb1, body: INIT(), headers: { Origin: 'null' } });
    assert.equal(r.status, 403);
    for (const o of ['http://localhost:3000', 'http://127.0.0.1:8420', 'http://[::1]']) {
      r = await rawPost(srv.url, { token: tok.sb1, body: INIT(), headers: { Origin: o } });
      assert.equal(r.status, 200, o);
    }
    // The SDK client through an allowed origin.
    const { client } = await connectHttp({ url: srv.url, token: tok.sb1, headers: { Origin: 'http://localhost:5173' } });
    await client.ping();
    await client.close();
  });

  test('the SDK client ends its session with DELETE', async () => {
    const { client, transport } = await connectHttp({ url: srv.url, token: tok.sb1 });
    const sid = transport.sessionId;
    assert.match(sid, /^[0-9a-f]{32}$/);
    await transport.terminateSession();
    const r = await rawPost(srv.url, { token: tok.sb1, headers: { 'Mcp-Session-Id': sid }, body: { jsonrpc: '2.0', id: 1, method: 'ping' } });
    assert.equal(r.status, 404);
    await client.close();
  });

  test('resources/read gives the bytes and ETag of the REST API', async () => {
    akvOk(d.store, ['--sandbox', 'sb1', 'put', 'artifacts', 'bin/x.dat', '-'], Buffer.from([0, 0xfe, 0x41]));
    const { client } = await connectHttp({ url: srv.url, token: tok.sb1 });
    for (const [uri, path] of [
      ['agentkv://instructions/presentation', 'instructions/presentation'],
      ['agentkv://artifacts/bin/x.dat', 'artifacts/bin/x.dat'],
    ]) {
      const res = await fetch(`${srv.url}/v1/sandboxes/sb1/kv/${path}`, { headers: { Authorization: `Bearer ${tok.sb1}` } });
      assert.equal(res.status, 200);
      const rest = Buffer.from(await res.arrayBuffer());
      const read = await client.readResource({ uri });
      const c = read.contents[0];
      const bytes = c.blob !== undefined ? Buffer.from(c.blob, 'base64') : Buffer.from(c.text, 'utf8');
      assert.deepEqual(bytes, rest, uri);
      assert.equal(c._meta['agentkv/etag'], res.headers.get('etag'), uri);
      assert.equal(String(c._meta['agentkv/version']), res.headers.get('x-agentkv-version'), uri);
      assert.equal(c.mimeType, res.headers.get('content-type'), uri);
    }
    await client.close();
  });

  test('instruction fetches over MCP are counted in /metrics', async () => {
    const { client } = await connectHttp({ url: srv.url, token: tok.sb1 });
    await client.callTool({ name: 'get_instruction', arguments: { name: 'presentation' } });
    await client.readResource({ uri: 'agentkv://instructions/presentation' });
    await client.close();
    const res = await fetch(`${srv.url}/metrics`, { headers: { Authorization: `Bearer ${tok.admin}` } });
    const body = await res.text();
    const m = /agentkv_instruction_fetches_total\{name="presentation"\} (\d+)/.exec(body);
    assert.ok(m, body.slice(0, 500));
    assert.ok(Number(m[1]) >= 2);
  });
});

test('--no-auth: no token needed, the admin default sandbox', async (t) => {
  const d = tempDir();
  const srv = await startServer(d.store, ['--no-auth']);
  t.after(async () => { await srv.stop(); d.remove(); });
  const { client } = await connectHttp({ url: srv.url, token: null });
  const r = await client.callTool({ name: 'kv_put', arguments: { scope: 'task', key: 'k', value: 'v' } });
  assert.equal(json(r).sandbox, 'default');
  await client.close();
});
