// client.test.mjs — the TypeScript client (built into dist/) against a real
// `agentkv serve` started by server.mjs on a free loopback port with a
// temporary store: the REST calls, the error classes, keys refused before fetch sees
// them, cursors, conditional reads, 503 retries for idempotent calls only,
// the memory tool. $AGENTKV names the binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';

import * as akv from '../dist/index.js';

let srv, url, admin;
let n = 0;
const sb = () => `ts${n++}`;

before(async () => {
  srv = await startServer({ config: '[scope.artifacts]\nquota = 4KiB\n' });
  ({ url, admin } = srv);
});

after(async () => {
  await srv.stop();
});

// fetch that records statuses and answers 503 to the first `fail` requests.
function recorder() {
  const r = { fail: 0, seen: [] };
  r.fetch = async (input, init) => {
    if (r.fail > 0) {
      r.fail--;
      r.seen.push(503);
      return new Response(JSON.stringify({ error: { code: 'unavailable', message: 'x' } }),
        { status: 503, headers: { 'content-type': 'application/json' } });
    }
    const res = await fetch(input, init);
    r.seen.push(res.status);
    return res;
  };
  return r;
}

test('put, get, head, delete and errors', async () => {
  const kv = new akv.Client({ url, token: admin, sandbox: sb() });
  const m = await kv.put('task', 'notes/plan', 'step 1', { metadata: { by: 'ts', 'é': 1 }, ttl: '1h' });
  assert.equal(m.version, 1);
  assert.deepEqual(m.metadata, { by: 'ts', 'é': 1 });
  assert.equal(await kv.getText('task', 'notes/plan'), 'step 1');
  const e = await kv.getEntry('task', 'notes/plan');
  assert.equal(e.sha256, m.sha256);
  assert.ok(await kv.exists('task', 'notes/plan'));
  await assert.rejects(kv.put('task', 'notes/plan', 'x', { create: true }), akv.PreconditionFailed);
  await assert.rejects(kv.put('task', 'notes/plan', 'x', { ifMatch: '0'.repeat(64) }), akv.PreconditionFailed);
  await kv.put('task', 'notes/plan', new Uint8Array([0, 255]), { ifMatch: m.sha256 });
  assert.deepEqual([...await kv.get('task', 'notes/plan')], [0, 255]);
  await kv.delete('task', 'notes/plan');
  await assert.rejects(kv.get('task', 'notes/plan'), (err) => err instanceof akv.NotFound && err.status === 404);
  await assert.rejects(kv.put('task', 'k', 'v', { ttl: 'soon' }), akv.InvalidArgument);
  const bad = new akv.Client({ url, token: `akv_${'A'.repeat(43)}`, sandbox: 'x' });
  await assert.rejects(bad.get('task', 'k'), akv.Unauthorized);
});

test('keys that fetch would normalise are refused before sending', async () => {
  const r = recorder();
  const kv = new akv.Client({ url, token: admin, sandbox: sb(), fetch: r.fetch });
  for (const key of ['a/../b', '..', '/a', 'a/', 'a//b', 'a\nb', 'a\\b', 'x'.repeat(256), '']) {
    await assert.rejects(kv.put('task', key, 'v'), akv.InvalidArgument, JSON.stringify(key));
  }
  await assert.rejects(kv.get('nope', 'k'), akv.InvalidArgument);
  assert.deepEqual(r.seen, []);
  // Percent signs and spaces are a key's own bytes, sent encoded.
  await kv.put('task', 'a%2e%2e b', 'v');
  assert.equal(await kv.getText('task', 'a%2e%2e b'), 'v');
});

test('list follows cursors; conditional reads; quota figures', async () => {
  const r = recorder();
  const kv = new akv.Client({ url, token: admin, sandbox: sb(), fetch: r.fetch });
  for (let i = 0; i < 25; i++) await kv.put('artifacts', `r/${String(i).padStart(2, '0')}`, 'x');
  const before = r.seen.length;
  const keys = [];
  for await (const m of kv.list('artifacts', { prefix: 'r/', pageSize: 10 })) keys.push(m.key);
  assert.equal(keys.length, 25);
  assert.equal(r.seen.length - before, 3);
  const e = await kv.getEntry('artifacts', 'r/00');
  assert.equal(await kv.getEntry('artifacts', 'r/00', { cached: e }), e);
  assert.equal(r.seen.at(-1), 304);
  assert.equal(await kv.clear('artifacts'), 25);
  await assert.rejects(kv.putArtifact('big', 'x'.repeat(5000)), (err) =>
    err instanceof akv.QuotaExceeded && err.quota === 4096 && err.scope === 'artifacts' && err.used === 0);
});

test('503 is retried for idempotent calls only', async () => {
  const r = recorder();
  const kv = new akv.Client({ url, token: admin, sandbox: sb(), fetch: r.fetch });
  r.fail = 2;
  await kv.put('task', 'k', 'v');
  assert.deepEqual(r.seen, [503, 503, 201]);
  r.fail = 2;
  assert.equal(await kv.getText('task', 'k'), 'v');
  for (const call of [() => kv.put('task', 'k', 'w', { create: true }), () => kv.delete('task', 'k'),
    () => kv.memory({ command: 'view', path: '/memories' }), () => kv.prune()]) {
    r.fail = 1;
    await assert.rejects(call(), akv.Unavailable);
    assert.equal(r.fail, 0);
  }
  assert.equal(await kv.getText('task', 'k'), 'v');
});

test('stats, prune, sandboxes, instructions, prompt, agent names', async () => {
  const name = sb();
  const kv = new akv.Client({ url, token: admin, sandbox: name });
  await kv.putProjectSummary('A cache for agents.');
  assert.equal(await kv.getProjectSummary(), 'A cache for agents.');
  assert.equal((await kv.cacheStats('project')).project.entries, 1);
  assert.equal((await kv.pruneCache()).task, 0);
  assert.ok((await kv.sandboxes()).includes(name));
  await kv.putInstruction('style', '# Style\n', 'how to write');
  assert.equal(await kv.getInstruction('style'), '# Style\n');
  assert.match(JSON.stringify(await kv.listInstructions()), /style/);
  assert.equal(typeof await kv.prompt(), 'string');
  await kv.putArtifact('r.md', '# R');
  assert.deepEqual((await kv.listArtifacts()).map((m) => m.key), ['r.md']);
  await kv.deleteArtifact('r.md');
  await assert.rejects(kv.getArtifact('r.md'), akv.NotFound);
  assert.equal(typeof await kv.seed(), 'object');
});

test('the memory tool and its tool_result helper', async () => {
  const kv = new akv.Client({ url, token: admin, sandbox: sb() });
  assert.equal(await kv.memory({ command: 'create', path: '/memories/a.md', file_text: 'hi\n' }),
    'File created successfully at: /memories/a.md');
  assert.equal(await kv.getText('project', 'memories/a.md'), 'hi\n');
  await assert.rejects(kv.memory({ command: 'view', path: '/memories/../x' }), akv.InvalidArgument);
  const ok = await kv.memoryToolResult({ id: 't1', input: { command: 'view', path: '/memories/a.md' } });
  assert.deepEqual([ok.tool_use_id, ok.is_error], ['t1', false]);
  assert.match(ok.content, /     1\thi/);
  const bad = await kv.memoryToolResult({ id: 't2', input: { command: 'delete', path: '/memories/zz' } });
  assert.equal(bad.is_error, true);
  assert.match(bad.content, /^Error: The path \/memories\/zz does not exist/);
});

test('AGENTKV_URL and AGENTKV_TOKEN are the defaults', async () => {
  process.env.AGENTKV_URL = url;
  process.env.AGENTKV_TOKEN = admin;
  try {
    const kv = new akv.Client({ sandbox: sb() });
    await kv.put('task', 'env', 'ok');
    assert.equal(await kv.getText('task', 'env'), 'ok');
  } finally {
    delete process.env.AGENTKV_URL;
    delete process.env.AGENTKV_TOKEN;
  }
});
