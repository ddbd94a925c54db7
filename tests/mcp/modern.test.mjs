// modern.test.mjs — the stateless revision 2026-07-28 next to the 2025
// ones, on the same endpoints: the v2 client (@modelcontextprotocol/client,
// pinned to 2026-07-28 so connect fails unless server/discover offers it)
// runs every tool over stdio and streamable HTTP; raw JSON-RPC checks what
// the revision says a server must do (server/discover, the _meta envelope,
// no initialize, resultType and cache fields, the revised error codes, the
// HTTP headers, 400 for refusals) and that a 2025 session is untouched by
// a 2026-07-28 request on the same connection.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  MODERN, SPEC_TOOLS, akvOk, connectHttpModern, connectStdioModern, createToken, envelope,
  json, rawPost, rawServer, startServer, tempDir, text,
} from './lib.mjs';
import { defineToolSuite } from './suite.mjs';

const SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

describe(`every tool over stdio, protocol ${MODERN} (v2 client)`, () => {
  defineToolSuite({
    modern: true,
    async open(store, sandbox) {
      const { client } = await connectStdioModern({ store, sandbox });
      assert.equal(client.getProtocolEra(), 'modern');
      assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
      return { client, close: () => client.close() };
    },
  });
});

describe(`every tool over HTTP with an agent token, protocol ${MODERN} (v2 client)`, () => {
  defineToolSuite({
    agent: true,
    modern: true,
    async open(store, sandbox) {
      const token = createToken(store, 'agent', sandbox);
      const srv = await startServer(store);
      const seen = [];
      const { client } = await connectHttpModern({ url: srv.url, token, seen });
      assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
      return {
        client,
        async close() {
          await client.close();
          // The client never had to start a session.
          assert.ok(seen.length > 1);
          for (const h of seen) assert.equal(h.get('mcp-session-id'), null);
          assert.equal(await srv.stop(), 0);
        },
      };
    },
  });
});

describe(`${MODERN} over stdio, raw`, () => {
  let d;
  before(() => {
    d = tempDir();
    akvOk(d.store, ['put', 'task', 'note', '-'], 'hello');
  });
  after(() => d.remove());

  test('the v2 client in auto mode picks the revision', async () => {
    const { client } = await connectStdioModern({ store: d.store, mode: 'auto' });
    assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
    const disc = client.getDiscoverResult();
    assert.ok(disc.supportedVersions.includes(MODERN));
    assert.ok(disc.supportedVersions.includes('2025-11-25'));
    await client.close();
  });

  test('no initialize; server/discover; resultType and cache fields', async () => {
    const s = rawServer(d.store);
    s.send({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: envelope() } });
    let r = await s.next();
    assert.equal(r.id, 1);
    assert.equal(r.result.resultType, 'complete');
    assert.equal(r.result.ttlMs, 0);
    assert.equal(r.result.cacheScope, 'private');
    assert.equal(r.result.supportedVersions[0], MODERN);
    assert.ok(r.result.capabilities.tools);
    assert.equal(r.result.serverInfo.name, 'agentkv');
    assert.equal(r.result._meta[SERVER_INFO].name, 'agentkv');
    assert.equal(typeof r.result.instructions, 'string');

    s.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'kv_get', arguments: { scope: 'task', key: 'note' }, _meta: envelope() } });
    r = await s.next();
    assert.equal(r.result.resultType, 'complete');
    assert.equal(r.result.ttlMs, undefined); // not a cacheable result
    assert.equal(r.result.content[0].text, 'hello');

    s.send({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'agentkv://task/note', _meta: envelope() } });
    r = await s.next();
    assert.equal(r.result.contents[0].text, 'hello');
    assert.equal(r.result.cacheScope, 'private');

    // A missing resource: Invalid params with the URI as data.
    s.send({ jsonrpc: '2.0', id: 4, method: 'resources/read', params: { uri: 'agentkv://task/none', _meta: envelope() } });
    r = await s.next();
    assert.equal(r.error.code, -32602);
    assert.deepEqual(r.error.data, { uri: 'agentkv://task/none' });

    // Gone from the revision: the handshake and ping.
    for (const method of ['initialize', 'ping']) {
      s.send({ jsonrpc: '2.0', id: 5, method, params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '0' }, _meta: envelope() } });
      r = await s.next();
      assert.equal(r.error.code, -32601, method);
    }

    // Without the envelope the session is still uninitialized.
    s.send({ jsonrpc: '2.0', id: 6, method: 'tools/list' });
    r = await s.next();
    assert.equal(r.error.code, -32600);
    assert.equal(await s.close(), 0);
  });

  test('bad envelopes and unknown revisions are clean errors', async () => {
    const s = rawServer(d.store);
    const cases = [
      [{ 'io.modelcontextprotocol/protocolVersion': '2099-01-01', 'io.modelcontextprotocol/clientCapabilities': {} }, -32022],
      [{ 'io.modelcontextprotocol/protocolVersion': '2025-11-25', 'io.modelcontextprotocol/clientCapabilities': {} }, -32022],
      [{ 'io.modelcontextprotocol/protocolVersion': 20260728, 'io.modelcontextprotocol/clientCapabilities': {} }, -32602],
      [{ 'io.modelcontextprotocol/protocolVersion': MODERN }, -32602],
      [envelope({ 'io.modelcontextprotocol/clientCapabilities': [] }), -32602],
      [envelope({ 'io.modelcontextprotocol/clientInfo': 'me' }), -32602],
      [envelope({ 'io.modelcontextprotocol/protocolVersion': `${MODERN}\u0000x` }), -32602],
      [envelope({ 'io.modelcontextprotocol/protocolVersion': 'x'.repeat(100000) }), -32022],
    ];
    let id = 0;
    for (const [meta, code] of cases) {
      s.send({ jsonrpc: '2.0', id: ++id, method: 'tools/list', params: { _meta: meta } });
      const r = await s.next();
      assert.equal(r.id, id);
      assert.equal(r.error.code, code, JSON.stringify(meta).slice(0, 200));
      if (code === -32022) {
        assert.ok(r.error.data.supported.includes(MODERN));
        assert.equal(typeof r.error.data.requested, 'string');
      }
    }
    // No batches in this revision.
    s.send([{ jsonrpc: '2.0', id: 50, method: 'tools/list', params: { _meta: envelope() } }]);
    let r = await s.next();
    assert.equal(r.error.code, -32600);
    // Still serving.
    s.send({ jsonrpc: '2.0', id: 51, method: 'tools/list', params: { _meta: envelope() } });
    r = await s.next();
    assert.equal(r.result.tools.length, SPEC_TOOLS.length);
    assert.equal(await s.close(), 0);
  });

  test('a 2026-07-28 request leaves a 2025 session as it was', async () => {
    const s = rawServer(d.store);
    s.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'x', version: '0' } } });
    let r = await s.next();
    assert.equal(r.result.protocolVersion, '2024-11-05');
    s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    s.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'kv_list', arguments: { scope: 'task' }, _meta: envelope() } });
    r = await s.next();
    assert.equal(r.result.resultType, 'complete');
    assert.ok(r.result.structuredContent); // 2026-07-28 has it
    s.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'kv_list', arguments: { scope: 'task' } } });
    r = await s.next();
    assert.equal(r.result.resultType, undefined);
    assert.equal(r.result.structuredContent, undefined); // 2024-11-05 has not
    s.send({ jsonrpc: '2.0', id: 4, method: 'ping' });
    r = await s.next();
    assert.deepEqual(r.result, {});
    assert.equal(await s.close(), 0);
  });
});

describe(`${MODERN} over streamable HTTP, raw`, () => {
  let d; let srv; let srv2; let tok;
  const H = (method, name) => {
    const h = { 'MCP-Protocol-Version': MODERN, 'Mcp-Method': method };
    if (name !== undefined) h['Mcp-Name'] = name;
    return h;
  };
  before(async () => {
    d = tempDir();
    tok = createToken(d.store, 'agent', 'sb1');
    srv = await startServer(d.store);
    srv2 = await startServer(d.store);
  });
  after(async () => {
    assert.equal(await srv.stop(), 0);
    assert.equal(await srv2.stop(), 0);
    d.remove();
  });

  test('each request stands alone: bearer token only, any server process', async () => {
    let r = await rawPost(srv.url, {
      token: tok, headers: H('tools/call', 'kv_put'),
      body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'kv_put', arguments: { scope: 'task', key: 'k', value: 'from one' }, _meta: envelope() } },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('mcp-session-id'), null);
    assert.equal(r.body.result.resultType, 'complete');
    assert.ok(!r.body.result.isError, text(r.body.result));
    assert.equal(json(r.body.result).sandbox, 'sb1');
    // Another process on the same store answers the next request.
    r = await rawPost(srv2.url, {
      token: tok, headers: H('resources/read', 'agentkv://task/k'),
      body: { jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'agentkv://task/k', _meta: envelope() } },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.result.contents[0].text, 'from one');
    // No token: 401, as for every request.
    r = await rawPost(srv.url, {
      headers: H('tools/list'),
      body: { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: envelope() } },
    });
    assert.equal(r.status, 401);
  });

  test('headers are cross-checked with the body', async () => {
    const body = (method, params = {}) => ({ jsonrpc: '2.0', id: 7, method, params: { ...params, _meta: envelope() } });
    const call = { name: 'kv_list', arguments: { scope: 'task' } };
    const cases = [
      // [headers, body, status, code]
      [H('tools/call', 'kv_list'), body('tools/call', call), 200, null],
      [H('tools/call', '=?base64?a3ZfbGlzdA==?='), body('tools/call', call), 200, null],
      [H('tools/call', 'kv_get'), body('tools/call', call), 400, -32020],
      [H('tools/call'), body('tools/call', call), 400, -32020],
      [H('tools/call', '=?base64?not base64?='), body('tools/call', call), 400, -32020],
      [H('tools/list'), body('tools/call', call), 400, -32020],
      [{ 'MCP-Protocol-Version': MODERN }, body('tools/list'), 400, -32020],
      [{ 'Mcp-Method': 'tools/list' }, body('tools/list'), 400, -32020],
      [{ ...H('tools/list'), 'MCP-Protocol-Version': '2025-11-25' }, body('tools/list'), 400, -32020],
      // The header names the revision, the body has no envelope.
      [H('tools/list'), { jsonrpc: '2.0', id: 7, method: 'tools/list' }, 400, -32602],
      [H('tools/list'), { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN } } }, 400, -32602],
      [{ ...H('tools/list'), 'MCP-Protocol-Version': '2099-01-01' }, { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: envelope({ 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }) } }, 400, -32022],
      [H('server/discover'), body('server/discover'), 200, null],
    ];
    for (const [headers, b, status, code] of cases) {
      const r = await rawPost(srv.url, { token: tok, headers, body: b });
      const what = `${JSON.stringify(headers)} ${JSON.stringify(b).slice(0, 120)}`;
      assert.equal(r.status, status, `${what}: ${r.text}`);
      if (code === null) assert.equal(r.body.result.resultType, 'complete', what);
      else assert.equal(r.body.error.code, code, what);
      assert.equal(r.headers.get('mcp-session-id'), null, what);
    }
  });

  test('a notification alone is 202; a 2025 initialize still makes a session', async () => {
    let r = await rawPost(srv.url, {
      token: tok, body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: envelope() } },
    });
    assert.equal(r.status, 202);
    r = await rawPost(srv.url, {
      token: tok,
      body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '0' } } },
    });
    assert.equal(r.status, 200);
    const sid = r.headers.get('mcp-session-id');
    assert.match(sid, /^[0-9a-f]{32}$/);
    // On that session, a 2026-07-28 request is served statelessly, and the
    // session keeps its revision.
    r = await rawPost(srv.url, {
      token: tok, headers: { ...H('tools/list'), 'Mcp-Session-Id': sid },
      body: { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: envelope() } },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.result.resultType, 'complete');
    r = await rawPost(srv.url, {
      token: tok, headers: { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-11-25' },
      body: { jsonrpc: '2.0', id: 3, method: 'tools/list' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.result.resultType, undefined);
  });
});
