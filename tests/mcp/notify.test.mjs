// notify.test.mjs — what the server says unasked, under the 2025 revisions,
// with the official SDK client over stdio and streamable HTTP: logging
// (logging/setLevel, notifications/message for a failed tool call), resource
// subscriptions (notifications/resources/updated when the CLI — another
// process — rewrites a subscribed instruction) and
// notifications/resources/list_changed when an instruction set appears; and
// the hostile input of those methods (bad levels, URIs, too many
// subscriptions, malformed params), each a clean JSON-RPC error.
//
// Notifications are awaited, never slept for: each wait is bounded only by
// the test's overall timeout.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  EmptyResultSchema,
  LoggingMessageNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

import {
  MODERN, akvOk, connectHttp, connectHttpModern, connectStdio, connectStdioModern, createToken, envelope,
  rawPost, rawServer, startServer, tempDir,
} from './lib.mjs';

const TIMEOUT = 60000;

// Collects one kind of notification (an SDK 1.x schema, or for the 2.x
// client the method name); next(pred) resolves with the first (already
// received or future) that satisfies pred.
function collect(client, schema) {
  const seen = [];
  const waiting = [];
  client.setNotificationHandler(schema, (n) => {
    seen.push(n);
    for (const w of [...waiting]) {
      if (w.pred(n)) { waiting.splice(waiting.indexOf(w), 1); w.resolve(n); }
    }
  });
  return {
    seen,
    next(pred = () => true) {
      const hit = seen.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve) => waiting.push({ pred, resolve }));
    },
  };
}

const invalidParams = (word) => (e) => e.code === -32602 && (!word || e.message.includes(word));

// The same checks over each transport. open(store, sandbox) → { client, close }.
function defineNotifySuite(open) {
  let dir, conn;
  before(async () => {
    dir = tempDir();
    akvOk(dir.store, ['put', 'instructions', 'watched', '-'], 'first version\n');
    conn = await open(dir.store);
  });
  after(async () => { await conn?.close(); dir?.remove(); });

  test('the capabilities declare logging and resource subscriptions', () => {
    const caps = conn.client.getServerCapabilities();
    assert.deepEqual(caps.logging, {});
    assert.equal(caps.resources.subscribe, true);
    assert.equal(caps.resources.listChanged, true);
  });

  test('setLoggingLevel, then a failed tool call is logged at its level', { timeout: TIMEOUT }, async () => {
    const logs = collect(conn.client, LoggingMessageNotificationSchema);
    await conn.client.setLoggingLevel('info');
    const r = await conn.client.callTool({ name: 'kv_get', arguments: { scope: 'task', key: 'absent' } });
    assert.equal(r.isError, true);
    const n = await logs.next((x) => x.params.data?.tool === 'kv_get');
    assert.equal(n.params.level, 'info');
    assert.equal(n.params.logger, 'agentkv');
    assert.equal(n.params.data.error, 'not_found');
    // Above the level nothing is sent: a not_found is info, below error.
    await conn.client.setLoggingLevel('error');
    const before = logs.seen.length;
    await conn.client.callTool({ name: 'kv_get', arguments: { scope: 'task', key: 'absent2' } });
    await conn.client.callTool({ name: 'kv_list', arguments: { scope: 'task' } });
    assert.equal(logs.seen.length, before);
  });

  test('bad logging levels are Invalid params', async () => {
    for (const level of ['loud', 'INFO', '', 'info\u0000x']) {
      await assert.rejects(conn.client.request({ method: 'logging/setLevel', params: { level } },
        EmptyResultSchema), invalidParams('level'));
    }
    await assert.rejects(conn.client.request({ method: 'logging/setLevel', params: { level: 3 } },
      EmptyResultSchema), invalidParams('level'));
  });

  test('a subscription fires when the CLI rewrites the instruction', { timeout: TIMEOUT }, async () => {
    const updates = collect(conn.client, ResourceUpdatedNotificationSchema);
    const uri = 'agentkv://instructions/watched';
    await conn.client.subscribeResource({ uri });
    // Another process writes the store.
    akvOk(dir.store, ['put', 'instructions', 'watched', '-'], 'second version\n');
    const n = await updates.next((x) => x.params.uri === uri);
    assert.equal(n.params.uri, uri);
    const read = await conn.client.readResource({ uri });
    assert.equal(read.contents[0].text, 'second version\n');
    // After unsubscribe, further rewrites are not announced; a write to
    // another subscribed key still is (which proves the poll ran).
    await conn.client.unsubscribeResource({ uri });
    const other = 'agentkv://project/other';
    await conn.client.subscribeResource({ uri: other });
    akvOk(dir.store, ['put', 'instructions', 'watched', '-'], 'third version\n');
    akvOk(dir.store, ['put', 'project', 'other', '-'], 'created\n');
    await updates.next((x) => x.params.uri === other);
    assert.equal(updates.seen.filter((x) => x.params.uri === uri).length, 1);
    await conn.client.unsubscribeResource({ uri: other });
  });

  test('a new instruction set is a resource list change, and a notice in the log', { timeout: TIMEOUT }, async () => {
    const changes = collect(conn.client, ResourceListChangedNotificationSchema);
    const logs = collect(conn.client, LoggingMessageNotificationSchema);
    await conn.client.setLoggingLevel('notice');
    akvOk(dir.store, ['put', 'instructions', 'brand-new', '-'], 'hello\n');
    await changes.next();
    const n = await logs.next((x) => x.params.data?.event === 'instructions_changed');
    assert.equal(n.params.level, 'notice');
    const list = await conn.client.listResources();
    assert.ok(list.resources.some((r) => r.uri === 'agentkv://instructions/brand-new'));
  });

  test('subscribing: unknown schemes, bad URIs and params are Invalid params; at most 64', async () => {
    for (const uri of ['test://watched-resource', 'agentkv://nosuchscope/x', 'agentkv://task/',
      'agentkv://task/a%zz', 'skill://x/../SKILL.md', 'x'.repeat(100000)]) {
      await assert.rejects(conn.client.subscribeResource({ uri }), invalidParams());
    }
    for (const params of [{}, { uri: 7 }, { uri: null }]) {
      await assert.rejects(conn.client.request({ method: 'resources/subscribe', params }, EmptyResultSchema),
        invalidParams('uri'));
      await assert.rejects(conn.client.request({ method: 'resources/unsubscribe', params }, EmptyResultSchema),
        invalidParams('uri'));
    }
    for (let i = 0; i < 64; i++) await conn.client.subscribeResource({ uri: `agentkv://task/k${i}` });
    await conn.client.subscribeResource({ uri: 'agentkv://task/k0' }); // again: no new slot
    await assert.rejects(conn.client.subscribeResource({ uri: 'agentkv://task/k64' }), invalidParams('at most 64'));
    await conn.client.unsubscribeResource({ uri: 'agentkv://task/k0' });
    await conn.client.subscribeResource({ uri: 'agentkv://task/k64' });
    for (let i = 1; i <= 64; i++) await conn.client.unsubscribeResource({ uri: `agentkv://task/k${i}` });
  });
}

describe('notifications over stdio', () => {
  defineNotifySuite(async (store) => {
    const { client } = await connectStdio({ store });
    return { client, close: () => client.close() };
  });
});

describe('notifications over streamable HTTP', () => {
  defineNotifySuite(async (store) => {
    const token = createToken(store, 'agent', 'default');
    const srv = await startServer(store);
    const { client } = await connectHttp({ url: srv.url, token });
    return {
      client,
      async close() { await client.close(); await srv.stop(); },
    };
  });
});

describe('subscriptions over HTTP see only the session\'s own sandbox', () => {
  let dir, srv, a, b, tokenA;
  before(async () => {
    dir = tempDir();
    // Tokens first: the server reads the tokens file at start.
    tokenA = createToken(dir.store, 'agent', 'sb-a');
    const tokenB = createToken(dir.store, 'agent', 'sb-b');
    srv = await startServer(dir.store);
    a = (await connectHttp({ url: srv.url, token: tokenA })).client;
    b = (await connectHttp({ url: srv.url, token: tokenB })).client;
  });
  after(async () => { await a?.close(); await b?.close(); await srv?.stop(); dir?.remove(); });

  test('a write in another sandbox is not announced; one in the own sandbox is', { timeout: TIMEOUT }, async () => {
    const seenA = collect(a, ResourceUpdatedNotificationSchema);
    const seenB = collect(b, ResourceUpdatedNotificationSchema);
    const uri = 'agentkv://project/plan';
    await a.subscribeResource({ uri });
    await b.subscribeResource({ uri });
    akvOk(dir.store, ['--sandbox', 'sb-b', 'put', 'project', 'plan', '-'], 'b only\n');
    await seenB.next((x) => x.params.uri === uri);
    // a's stream is checked after a later write of its own arrives.
    akvOk(dir.store, ['--sandbox', 'sb-a', 'put', 'project', 'plan', '-'], 'a now\n');
    await seenA.next((x) => x.params.uri === uri);
    assert.equal(seenA.seen.length, 1);
    const read = await a.readResource({ uri });
    assert.equal(read.contents[0].text, 'a now\n');
  });

  test('logging/setLevel and resources/subscribe are not part of 2026-07-28 (404)', async () => {
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    const token = tokenA;
    for (const [method, params] of [['logging/setLevel', { level: 'info' }], ['resources/subscribe', { uri: 'agentkv://task/x' }]]) {
      const r = await rawPost(srv.url, {
        token, body: { jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } },
        headers: { 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': method },
      });
      assert.equal(r.status, 404);
      assert.equal(r.body.error.code, -32601);
    }
  });
});

// ---- 2026-07-28: subscriptions/listen, with the v2 client ----------------

function defineListenSuite(open) {
  let dir, conn;
  before(async () => {
    dir = tempDir();
    akvOk(dir.store, ['put', 'instructions', 'watched', '-'], 'first version\n');
    conn = await open(dir.store);
  });
  after(async () => { await conn?.close(); dir?.remove(); });

  test('server/discover declares resource subscriptions and list changes, no logging', () => {
    const caps = conn.client.getServerCapabilities();
    assert.equal(caps.resources.subscribe, true);
    assert.equal(caps.resources.listChanged, true);
    assert.equal(caps.logging, undefined);
  });

  test('listen: acknowledged with what is honoured; the CLI\'s rewrite and a new set arrive on it', { timeout: TIMEOUT }, async () => {
    const updates = collect(conn.client, 'notifications/resources/updated');
    const changes = collect(conn.client, 'notifications/resources/list_changed');
    const uri = 'agentkv://instructions/watched';
    const sub = await conn.client.listen({
      resourceSubscriptions: [uri], resourcesListChanged: true, toolsListChanged: true,
    });
    // Tools never change: not honoured.
    assert.deepEqual(sub.honoredFilter, { resourcesListChanged: true, resourceSubscriptions: [uri] });
    akvOk(dir.store, ['put', 'instructions', 'watched', '-'], 'second version\n');
    const n = await updates.next((x) => x.params.uri === uri);
    assert.ok(n.params._meta['io.modelcontextprotocol/subscriptionId'] !== undefined);
    akvOk(dir.store, ['put', 'instructions', 'another', '-'], 'new set\n');
    await changes.next();
    const read = await conn.client.readResource({ uri });
    assert.equal(read.contents[0].text, 'second version\n');
    await sub.close();
    assert.equal(await sub.closed, 'local');
  });

  test('listen: a foreign URI or a malformed filter is Invalid params', async () => {
    await assert.rejects(conn.client.listen({ resourceSubscriptions: ['test://watched-resource'] }),
      (e) => e.code === -32602 || /-32602|Invalid params/.test(String(e.message)));
    const tooMany = Array.from({ length: 65 }, (_, i) => `agentkv://task/k${i}`);
    await assert.rejects(conn.client.listen({ resourceSubscriptions: tooMany }),
      (e) => e.code === -32602 || /at most 64/.test(String(e.message)));
  });
}

describe('subscriptions/listen over stdio (2026-07-28)', () => {
  defineListenSuite(async (store) => {
    const { client } = await connectStdioModern({ store });
    return { client, close: () => client.close() };
  });
});

describe('subscriptions/listen over streamable HTTP (2026-07-28)', () => {
  defineListenSuite(async (store) => {
    const token = createToken(store, 'agent', 'default');
    const srv = await startServer(store);
    const { client } = await connectHttpModern({ url: srv.url, token });
    return {
      client,
      async close() { await client.close(); await srv.stop(); },
    };
  });
});

describe('subscriptions/listen: hostile input over HTTP', () => {
  let dir, srv, token;
  before(async () => {
    dir = tempDir();
    token = createToken(dir.store, 'agent', 'default');
    srv = await startServer(dir.store);
  });
  after(async () => { await srv?.stop(); dir?.remove(); });

  const listen = (notifications, extra = {}) => rawPost(srv.url, {
    token,
    body: { jsonrpc: '2.0', id: 9, method: 'subscriptions/listen', params: { _meta: envelope(), notifications } },
    headers: { 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'subscriptions/listen', ...extra },
  });

  test('malformed filters are clean -32602 errors under the request id', async () => {
    for (const f of [undefined, 7, { resourcesListChanged: 'yes' }, { resourceSubscriptions: 'agentkv://task/x' },
      { resourceSubscriptions: [7] }, { resourceSubscriptions: ['agentkv://task/../x%zz'] }]) {
      const r = await listen(f);
      assert.equal(r.body.error.code, -32602, JSON.stringify(f));
      assert.equal(r.body.id, 9);
    }
  });

  test('without SSE in Accept it is 406; on a 2025 session it is refused', async () => {
    let r = await listen({ resourcesListChanged: true }, { Accept: 'application/json' });
    assert.equal(r.status, 406);
    r = await rawPost(srv.url, { token, body: { jsonrpc: '2.0', id: 1, method: 'subscriptions/listen', params: { notifications: {} } } });
    assert.equal(r.status, 400); // no session, and not a 2026-07-28 request
  });
});

describe('subscriptions/listen: hostile input over stdio', () => {
  test('at most 8 streams per connection; a cancelled one frees its place; bad filters change nothing', async () => {
    const dir = tempDir();
    const srv = rawServer(dir.store);
    try {
      const listen = (id, notifications) => srv.send({
        jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { _meta: envelope(), notifications },
      });
      for (let i = 0; i < 8; i++) {
        listen(`s${i}`, { resourcesListChanged: true });
        const ack = await srv.next();
        assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
        assert.equal(ack.params._meta['io.modelcontextprotocol/subscriptionId'], `s${i}`);
      }
      listen('s8', { resourcesListChanged: true });
      let r = await srv.next();
      assert.equal(r.id, 's8');
      assert.equal(r.error.code, -32600);
      for (const [id, f] of [['b1', null], ['b2', { resourceSubscriptions: {} }], ['b3', { promptsListChanged: 1 }],
        ['b4', { resourceSubscriptions: ['agentkv://task/ok', 'nope://x'] }]]) {
        listen(id, f);
        r = await srv.next();
        assert.equal(r.id, id);
        assert.equal(r.error.code, -32602);
      }
      srv.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 's3', _meta: envelope() } });
      listen('s9', {});
      r = await srv.next();
      assert.equal(r.method, 'notifications/subscriptions/acknowledged');
      assert.deepEqual(r.params.notifications, {});
    } finally {
      await srv.close();
      dir.remove();
    }
  });
});
