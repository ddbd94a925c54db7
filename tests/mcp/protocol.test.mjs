// protocol.test.mjs — protocol-level input the SDK client never sends,
// written as raw lines to `agentkv mcp`: each bad message gets the right
// JSON-RPC error (or, for notifications and client responses, nothing), and
// the server keeps serving, which a ping after each case proves. End of
// input ends the server with exit status 0 and nothing on stderr but the
// start-up line naming the store.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SPEC_TOOLS, rawServer, tempDir } from './lib.mjs';

const INIT = (version, id = 1) => ({
  jsonrpc: '2.0', id, method: 'initialize',
  params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});

let pingId = 1000;
// Sends a ping and expects its answer next: nothing else was pending.
async function alive(srv) {
  const id = ++pingId;
  srv.send({ jsonrpc: '2.0', id, method: 'ping' });
  const r = await srv.next();
  assert.deepEqual(r, { jsonrpc: '2.0', id, result: {} });
}

function expectError(r, code, id = null) {
  assert.equal(r.jsonrpc, '2.0');
  assert.equal(r.id, id, JSON.stringify(r));
  assert.equal(r.error?.code, code, JSON.stringify(r));
  assert.equal(typeof r.error.message, 'string');
  assert.ok(r.error.message.length > 0);
  assert.equal('result' in r, false);
}

async function session(t, version = '2025-06-18') {
  const d = tempDir();
  const srv = rawServer(d.store);
  t.after(() => { srv.child.kill(); d.remove(); });
  srv.send(INIT(version));
  const r = await srv.next();
  assert.equal(r.result.protocolVersion, version);
  srv.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return srv;
}

test('before initialize: ping is served, other requests are refused', async (t) => {
  const d = tempDir();
  const srv = rawServer(d.store);
  t.after(() => { srv.child.kill(); d.remove(); });
  await alive(srv);
  srv.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
  expectError(await srv.next(), -32600, 1);
  // A notification other than initialized is dropped silently.
  srv.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  await alive(srv);
  srv.send(INIT('2025-06-18', 2));
  assert.equal((await srv.next()).result.protocolVersion, '2025-06-18');
  srv.send({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
  assert.equal((await srv.next()).result.tools.length, SPEC_TOOLS.length);
  // A second initialize is refused.
  srv.send(INIT('2025-06-18', 4));
  expectError(await srv.next(), -32600, 4);
  assert.equal(await srv.close(), 0);
  assert.match(srv.stderr(), /^agentkv mcp: store (\/\S+ \((created, empty|existing)\)|on redis \(--backend\)), sandbox \S+[^\n]*\n$/);
});

test('version negotiation: an unknown version gets the newest', async (t) => {
  const d = tempDir();
  const srv = rawServer(d.store);
  t.after(() => { srv.child.kill(); d.remove(); });
  srv.send(INIT('1999-01-01'));
  const r = await srv.next();
  assert.equal(r.result.protocolVersion, '2025-11-25');
  assert.equal(r.result.serverInfo.name, 'agentkv');
  assert.equal(await srv.close(), 0);
});

test('initialize without protocolVersion is invalid params', async (t) => {
  const d = tempDir();
  const srv = rawServer(d.store);
  t.after(() => { srv.child.kill(); d.remove(); });
  srv.send({ jsonrpc: '2.0', id: 'a', method: 'initialize', params: { capabilities: {} } });
  expectError(await srv.next(), -32602, 'a');
  srv.send({ jsonrpc: '2.0', id: 'b', method: 'initialize', params: 'x' });
  expectError(await srv.next(), -32602, 'b');
  // The session is still new: a correct initialize now works.
  srv.send(INIT('2025-03-26', 'c'));
  assert.equal((await srv.next()).result.protocolVersion, '2025-03-26');
  assert.equal(await srv.close(), 0);
});

test('bad messages get the right JSON-RPC error and the server keeps serving', async (t) => {
  const srv = await session(t);
  const cases = [
    ['invalid JSON', '{"jsonrpc":"2.0","id":1,', -32700, null],
    ['not JSON at all', 'hello', -32700, null],
    ['trailing garbage', '{"jsonrpc":"2.0","id":1,"method":"ping"} x', -32700, null],
    ['duplicate member', '{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}', -32700, null],
    ['a batch array (not in 2025-06-18)', [{ jsonrpc: '2.0', id: 5, method: 'ping' }], -32600, null],
    ['an empty array', [], -32600, null],
    ['a number', '42', -32600, null],
    ['an empty object', {}, -32600, null],
    ['wrong jsonrpc version', { jsonrpc: '1.0', id: 7, method: 'ping' }, -32600, 7],
    ['no jsonrpc member', { id: 8, method: 'ping' }, -32600, 8],
    ['null id', { jsonrpc: '2.0', id: null, method: 'ping' }, -32600, null],
    ['object id', { jsonrpc: '2.0', id: { a: 1 }, method: 'ping' }, -32600, null],
    ['method not a string', { jsonrpc: '2.0', id: 9, method: 12 }, -32600, 9],
    ['unknown method', { jsonrpc: '2.0', id: 10, method: 'tools/destroy' }, -32601, 10],
    ['unknown method, string id', { jsonrpc: '2.0', id: 'x-1', method: 'nope' }, -32601, 'x-1'],
    ['params a string', { jsonrpc: '2.0', id: 11, method: 'tools/list', params: 'x' }, -32602, 11],
    ['params an array', { jsonrpc: '2.0', id: 12, method: 'tools/call', params: ['kv_get'] }, -32602, 12],
    ['tool name not a string', { jsonrpc: '2.0', id: 13, method: 'tools/call', params: { name: 5 } }, -32602, 13],
    ['tool arguments not an object', { jsonrpc: '2.0', id: 14, method: 'tools/call', params: { name: 'kv_get', arguments: 'scope=task' } }, -32602, 14],
    ['unknown tool', { jsonrpc: '2.0', id: 15, method: 'tools/call', params: { name: 'rm_rf' } }, -32602, 15],
    ['resources/read without uri', { jsonrpc: '2.0', id: 16, method: 'resources/read', params: {} }, -32602, 16],
    ['prompts/get of an unknown prompt', { jsonrpc: '2.0', id: 17, method: 'prompts/get', params: { name: 'x' } }, -32602, 17],
    ['a response with both result and error', { jsonrpc: '2.0', id: 18, result: {}, error: { code: 1, message: 'x' } }, -32600, null],
    ['a response without id', { jsonrpc: '2.0', result: {} }, -32600, null],
  ];
  for (const [what, msg, code, id] of cases) {
    await t.test(what, async () => {
      srv.send(msg);
      expectError(await srv.next(), code, id);
      await alive(srv);
    });
  }
  assert.equal(await srv.close(), 0);
});

test('messages that get no response at all', async (t) => {
  const srv = await session(t);
  const silent = [
    ['a request without id (unknown notification)', { jsonrpc: '2.0', method: 'foo/bar' }],
    ['a known notification', { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }],
    ['a notification with bad params', { jsonrpc: '2.0', method: 'notifications/initialized', params: 'x' }],
    ['a result sent by the client', { jsonrpc: '2.0', id: 99, result: {} }],
    ['an error sent by the client', { jsonrpc: '2.0', id: 98, error: { code: -1, message: 'no' } }],
    ['a blank line', ''],
  ];
  for (const [what, msg] of silent) {
    await t.test(what, async () => {
      srv.send(msg);
      // The very next line must be the ping's answer.
      await alive(srv);
    });
  }
  assert.equal(await srv.close(), 0);
});

test('invalid UTF-8 is a parse error, not a crash', async (t) => {
  const srv = await session(t);
  const bad = Buffer.concat([
    Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"kv_put","arguments":{"scope":"task","key":"k","value":"'),
    Buffer.from([0xc3, 0x28, 0xff]),
    Buffer.from('"}}}'),
  ]);
  srv.send(bad);
  expectError(await srv.next(), -32700, null);
  await alive(srv);
  assert.equal(await srv.close(), 0);
});

test('a line over 64 MiB is refused and the server reads on', async (t) => {
  const srv = await session(t);
  const huge = Buffer.alloc(64 * 1024 * 1024 + 10, 0x61);
  huge.write('{"jsonrpc":"2.0","id":1,"method":"ping","x":"', 0);
  srv.send(huge);
  expectError(await srv.next(30000), -32600, null);
  await alive(srv);
  // A large line under the limit is still served.
  const value = 'v'.repeat(1024 * 1024);
  srv.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'kv_put', arguments: { scope: 'task', key: 'big', value } } });
  const r = await srv.next(30000);
  assert.equal(r.id, 2);
  assert.equal(r.result.isError, undefined, JSON.stringify(r).slice(0, 300));
  await alive(srv);
  assert.equal(await srv.close(), 0);
});

test('batches are served under 2025-03-26 only', async (t) => {
  const srv = await session(t, '2025-03-26');
  srv.send([
    { jsonrpc: '2.0', id: 'p', method: 'ping' },
    { jsonrpc: '2.0', method: 'notifications/foo' },
    { jsonrpc: '2.0', id: 'l', method: 'tools/list' },
    { jsonrpc: '2.0', id: 'u', method: 'no/such' },
    42,
  ]);
  const r = await srv.next();
  assert.ok(Array.isArray(r), JSON.stringify(r).slice(0, 200));
  assert.equal(r.length, 4);
  assert.deepEqual(r[0], { jsonrpc: '2.0', id: 'p', result: {} });
  assert.equal(r[1].id, 'l');
  assert.equal(r[1].result.tools.length, SPEC_TOOLS.length);
  expectError(r[2], -32601, 'u');
  expectError(r[3], -32600, null);
  // Only notifications: no answer.
  srv.send([{ jsonrpc: '2.0', method: 'notifications/foo' }]);
  await alive(srv);
  // initialize may not be batched; an empty batch is invalid.
  srv.send([INIT('2025-03-26', 'i')]);
  const e = await srv.next();
  expectError(e[0], -32600, 'i');
  srv.send([]);
  expectError(await srv.next(), -32600, null);
  await alive(srv);
  assert.equal(await srv.close(), 0);
});

test('a request at end of input without a newline is still answered', async (t) => {
  const d = tempDir();
  const srv = rawServer(d.store);
  t.after(() => { srv.child.kill(); d.remove(); });
  srv.child.stdin.end('{"jsonrpc":"2.0","id":1,"method":"ping"}');
  assert.deepEqual(await srv.next(), { jsonrpc: '2.0', id: 1, result: {} });
  assert.equal(await new Promise((resolve) => srv.child.on('exit', resolve)), 0);
});
