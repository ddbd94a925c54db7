// complete.test.mjs — completion/complete: scope names and keys for the
// resource template agentkv://{scope}/{key}, with the v1 SDK client (2025
// revisions) and the v2 client (2026-07-28); bad references are -32602.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { akvOk, connectStdio, connectStdioModern, rawServer, tempDir } from './lib.mjs';

const TEMPLATE = { type: 'ref/resource', uri: 'agentkv://{scope}/{key}' };

let d;
before(() => {
  d = tempDir();
  for (const k of ['notes/a', 'notes/b', 'other']) akvOk(d.store, ['put', 'task', k, '-'], 'x', { bulk: true });
  for (let i = 0; i < 105; i++) {
    akvOk(d.store, ['put', 'project', `k${String(i).padStart(3, '0')}`, '-'], 'x', { bulk: true });
  }
});
after(() => d.remove());

async function check(client) {
  assert.ok(client.getServerCapabilities().completions);
  let r = await client.complete({ ref: TEMPLATE, argument: { name: 'scope', value: 'ta' } });
  assert.deepEqual(r.completion.values, ['task']);
  r = await client.complete({ ref: TEMPLATE, argument: { name: 'scope', value: '' } });
  assert.deepEqual(r.completion.values, ['system', 'instructions', 'project', 'task', 'artifacts']);
  r = await client.complete({ ref: TEMPLATE, argument: { name: 'key', value: 'notes/' }, context: { arguments: { scope: 'task' } } });
  assert.deepEqual(r.completion.values, ['notes/a', 'notes/b']);
  assert.equal(r.completion.hasMore, false);
  r = await client.complete({ ref: TEMPLATE, argument: { name: 'key', value: 'k' }, context: { arguments: { scope: 'project' } } });
  assert.equal(r.completion.values.length, 100);
  assert.equal(r.completion.values[0], 'k000');
  assert.equal(r.completion.hasMore, true);
  // No scope chosen yet: nothing to offer.
  r = await client.complete({ ref: TEMPLATE, argument: { name: 'key', value: 'n' } });
  assert.deepEqual(r.completion.values, []);
  r = await client.complete({ ref: { type: 'ref/prompt', name: 'system_prompt' }, argument: { name: 'budget', value: '1' } });
  assert.deepEqual(r.completion.values, []);
  await assert.rejects(client.complete({ ref: { type: 'ref/resource', uri: 'agentkv://x/{key}' }, argument: { name: 'key', value: '' } }),
    (e) => e.code === -32602);
  await assert.rejects(client.complete({ ref: { type: 'ref/prompt', name: 'nope' }, argument: { name: 'a', value: '' } }),
    (e) => e.code === -32602);
}

test('v1 SDK client, 2025-11-25', async () => {
  const { client } = await connectStdio({ store: d.store });
  await check(client);
  await client.close();
});

test('v2 client, 2026-07-28', async () => {
  const { client } = await connectStdioModern({ store: d.store });
  await check(client);
  await client.close();
});

test('malformed params are -32602', async () => {
  const s = rawServer(d.store);
  s.send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '0' } } });
  await s.next();
  const bad = [{}, { ref: TEMPLATE }, { ref: 'x', argument: { name: 'scope', value: '' } },
    { ref: TEMPLATE, argument: { name: 'scope', value: 1 } }, { ref: TEMPLATE, argument: { name: 'zzz', value: '' } },
    { ref: { type: 'ref/other' }, argument: { name: 'scope', value: '' } },
    { ref: TEMPLATE, argument: { name: 'key', value: '' }, context: [] }];
  let id = 0;
  for (const params of bad) {
    s.send({ jsonrpc: '2.0', id: ++id, method: 'completion/complete', params });
    const r = await s.next();
    assert.equal(r.error?.code, -32602, JSON.stringify(params));
  }
  // A key prefix longer than any key is no error, just nothing.
  s.send({ jsonrpc: '2.0', id: 50, method: 'completion/complete', params: { ref: TEMPLATE, argument: { name: 'key', value: 'x'.repeat(100000) }, context: { arguments: { scope: 'task' } } } });
  const r = await s.next();
  assert.deepEqual(r.result.completion.values, []);
  assert.equal(await s.close(), 0);
});
