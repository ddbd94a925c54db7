// store.test.mjs — AgentKVStore and the parts of AgentKVSaver the validation
// suite does not reach (key encoding, scope, TTL), against a real
// `agentkv serve` started by the TypeScript client's server.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from 'agentkv';
import { emptyCheckpoint, uuid6 } from '@langchain/langgraph-checkpoint';
import { AgentKVSaver, AgentKVStore } from '../dist/index.js';
import { startServer } from '../../typescript/test/server.mjs';

let srv;
let n = 0;
const opts = () => ({ url: srv.url, token: srv.admin, sandbox: `st${n++}` });

before(async () => { srv = await startServer(); });
after(async () => { await srv.stop(); });

test('get, put, delete and batch', async () => {
  const s = new AgentKVStore(opts());
  assert.equal(await s.get(['users', 'u1'], 'prefs'), null);
  await s.put(['users', 'u1'], 'prefs', { theme: 'dark' });
  const a = await s.get(['users', 'u1'], 'prefs');
  assert.deepEqual(a.value, { theme: 'dark' });
  assert.deepEqual(a.namespace, ['users', 'u1']);
  assert.ok(a.createdAt instanceof Date);
  await s.put(['users', 'u1'], 'prefs', { theme: 'light' });
  const b = await s.get(['users', 'u1'], 'prefs');
  assert.deepEqual(b.value, { theme: 'light' });
  assert.equal(b.createdAt.getTime(), a.createdAt.getTime());
  assert.ok(b.updatedAt >= a.updatedAt);
  const [, got, , gone] = await s.batch([
    { namespace: ['x'], key: 'k', value: { n: 1 } },
    { namespace: ['x'], key: 'k' },
    { namespace: ['x'], key: 'k', value: null },
    { namespace: ['x'], key: 'k' },
  ]);
  assert.deepEqual(got.value, { n: 1 });
  assert.equal(gone, null);
  await s.delete(['users', 'u1'], 'prefs');
  assert.equal(await s.get(['users', 'u1'], 'prefs'), null);
  await s.delete(['users', 'u1'], 'prefs'); // absent: no error
  await assert.rejects(s.put([], 'k', { a: 1 }), /Namespace cannot be empty/);
  await assert.rejects(s.put(['a.b'], 'k', { a: 1 }), /periods/);
});

test('keys and labels of any text stay distinct', async () => {
  const s = new AgentKVStore(opts());
  const odd = ['', '..', '.', 'a/b', 'a%2Fb', 'é ü', '\u0001', '=x'];
  for (const [i, k] of odd.entries()) await s.put(['ns'], k, { i });
  for (const [i, k] of odd.entries()) assert.deepEqual((await s.get(['ns'], k)).value, { i });
  const all = await s.search(['ns'], { limit: 100 });
  assert.deepEqual(all.map((x) => x.key).sort(), [...odd].sort());
});

test('a prefix of several segments', async () => {
  const o = opts();
  const s = new AgentKVStore({ ...o, prefix: 'app/memory' });
  await s.put(['u', 'v'], 'k', { a: 1 });
  assert.deepEqual((await s.search(['u'])).map((x) => [x.namespace, x.key]), [[['u', 'v'], 'k']]);
  assert.deepEqual(await s.listNamespaces(), [['u', 'v']]);
  assert.ok(await new Client(o).exists('project', 'app/memory/=u/=v/=k'));
});

test('search by namespace prefix, filters, offset and limit', async () => {
  const s = new AgentKVStore(opts());
  for (let i = 0; i < 6; i++) await s.put(['docs', i % 2 ? 'odd' : 'even'], `d${i}`, { i, kind: i % 3 === 0 ? 'a' : 'b', tags: ['t'] });
  await s.put(['docsx'], 'other', { i: 99, kind: 'a' });
  assert.equal((await s.search(['docs'])).length, 6);
  assert.deepEqual((await s.search(['docs', 'odd'])).map((x) => x.value.i).sort(), [1, 3, 5]);
  assert.deepEqual((await s.search(['docs'], { filter: { kind: 'a' } })).map((x) => x.value.i).sort(), [0, 3]);
  assert.deepEqual((await s.search(['docs'], { filter: { i: { $gte: 2, $lt: 4 } } })).map((x) => x.value.i).sort(), [2, 3]);
  assert.deepEqual((await s.search(['docs'], { filter: { i: { $in: [1, 5] } } })).map((x) => x.value.i).sort(), [1, 5]);
  assert.deepEqual((await s.search(['docs'], { filter: { kind: { $ne: 'b' }, i: { $nin: [0] } } })).map((x) => x.value.i), [3]);
  assert.equal((await s.search(['docs'], { filter: { tags: ['t'] } })).length, 6);
  const page1 = await s.search(['docs'], { limit: 4 });
  const page2 = await s.search(['docs'], { limit: 4, offset: 4 });
  assert.equal(page1.length, 4);
  assert.equal(page2.length, 2);
  assert.equal(new Set([...page1, ...page2].map((x) => x.key)).size, 6);
  await assert.rejects(s.search(['docs'], { query: 'semantic' }), /embedding index/);
});

test('listNamespaces with prefix, suffix, wildcards, depth and paging', async () => {
  const s = new AgentKVStore(opts());
  for (const ns of [['a', 'b', 'c'], ['a', 'b', 'd'], ['a', 'x'], ['z', 'b', 'c']]) await s.put(ns, 'k', { v: 1 });
  await s.put(['a', 'b', 'c'], 'k2', { v: 2 });
  assert.deepEqual(await s.listNamespaces(), [['a', 'b', 'c'], ['a', 'b', 'd'], ['a', 'x'], ['z', 'b', 'c']]);
  assert.deepEqual(await s.listNamespaces({ prefix: ['a'] }), [['a', 'b', 'c'], ['a', 'b', 'd'], ['a', 'x']]);
  assert.deepEqual(await s.listNamespaces({ suffix: ['c'] }), [['a', 'b', 'c'], ['z', 'b', 'c']]);
  assert.deepEqual(await s.listNamespaces({ prefix: ['*', 'b'] }), [['a', 'b', 'c'], ['a', 'b', 'd'], ['z', 'b', 'c']]);
  assert.deepEqual(await s.listNamespaces({ maxDepth: 2 }), [['a', 'b'], ['a', 'x'], ['z', 'b']]);
  assert.deepEqual(await s.listNamespaces({ limit: 2, offset: 1 }), [['a', 'b', 'd'], ['a', 'x']]);
});

test('scope, TTL and refresh on read', async () => {
  const o = opts();
  const kv = new Client(o);
  const s = new AgentKVStore({ ...o, scope: 'artifacts', ttl: '2h' });
  await s.put(['m'], 'k', { v: 1 });
  const h1 = await kv.head('artifacts', 'store/=m/=k');
  assert.equal(h1.version, 1);
  const left = Date.parse(h1.expiresAt) - Date.parse(new Date().toISOString());
  assert.ok(left > 3600e3 && left <= 7200e3, `${left}`);
  await s.get(['m'], 'k');
  assert.equal((await kv.head('artifacts', 'store/=m/=k')).version, 1); // no refresh asked
  const r = new AgentKVStore({ ...o, scope: 'artifacts', ttl: '2h', refreshOnRead: true });
  await r.get(['m'], 'k');
  assert.equal((await kv.head('artifacts', 'store/=m/=k')).version, 2);
  await r.search(['m']);
  const h3 = await kv.head('artifacts', 'store/=m/=k');
  assert.equal(h3.version, 3);
  assert.deepEqual((await r.get(['m'], 'k')).value, { v: 1 });
  const never = new AgentKVStore({ ...o, ttl: 'never' });
  await never.put(['m'], 'k', { v: 1 });
  assert.equal((await kv.head('project', 'store/=m/=k')).expiresAt, null);
});

test('the saver: scope, prefix, odd thread ids, deleteThread', async () => {
  const o = opts();
  const kv = new Client(o);
  const saver = new AgentKVSaver({ ...o, scope: 'project', prefix: 'g', ttl: '1h' });
  const threads = ['', '..', 'a/b', 'é', '%41'];
  for (const t of threads) {
    const cp = { ...emptyCheckpoint(), id: uuid6(0) };
    const cfg = await saver.put({ configurable: { thread_id: t, checkpoint_ns: '' } }, cp, { source: 'input', step: -1, parents: {} }, {});
    await saver.putWrites(cfg, [['ch', t]], 'task');
    await saver.putWrites(cfg, [['ch', 'second write of the same task and idx is ignored']], 'task');
  }
  for (const t of threads) {
    const tup = await saver.getTuple({ configurable: { thread_id: t } });
    assert.equal(tup.config.configurable.thread_id, t);
    assert.deepEqual(tup.pendingWrites, [['task', 'ch', t]]);
  }
  const keys = [];
  for await (const m of kv.list('project', { prefix: 'g/' })) {
    keys.push(m.key);
    assert.notEqual(m.expires_at, null);
  }
  assert.equal(keys.length, 10);
  await saver.deleteThread('a/b');
  assert.equal(await saver.getTuple({ configurable: { thread_id: 'a/b' } }), undefined);
  assert.ok(await saver.getTuple({ configurable: { thread_id: 'a' } }) === undefined);
  assert.ok(await saver.getTuple({ configurable: { thread_id: '..' } }));
  let left = 0;
  for await (const _ of kv.list('project', { prefix: 'g/' })) left++;
  assert.equal(left, 8);
  await assert.rejects(saver.getTuple({ configurable: { thread_id: 'x'.repeat(300) } }), /invalid|key/i);
});
