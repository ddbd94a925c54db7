// graph.test.mjs — a StateGraph on AgentKVSaver + AgentKVStore, interrupted in
// one Node process and resumed in another (graph-run.mjs), both against the
// same real `agentkv serve` (started by the TypeScript client's server.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

import { Client } from 'agentkv';
import { startServer } from '../../typescript/test/server.mjs';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./graph-run.mjs', import.meta.url));
let srv;

before(async () => { srv = await startServer(); });
after(async () => { await srv.stop(); });

async function phase(name, sandbox, thread) {
  const { stdout } = await run(process.execPath, [script, name, srv.url, srv.admin, sandbox, thread]);
  return JSON.parse(stdout);
}

test('interrupted in one process, resumed in another', async () => {
  const a = await phase('start', 'graph', 'thread/1 é');
  assert.deepEqual(a.interrupt, [{ question: 'publish "draft about agentkv"?' }]);
  assert.deepEqual(a.next, ['review']);

  const kv = new Client({ url: srv.url, token: srv.admin, sandbox: 'graph' });
  const keys = [];
  for await (const m of kv.list('task', { prefix: 'langgraph/' })) keys.push(m.key);
  assert.ok(keys.some((k) => k.startsWith('langgraph/cp/=thread%2F1%20%C3%A9/=/')), keys.join('\n'));
  const note = JSON.parse(await kv.getText('project', 'store/=notes/=agentkv/=plan'));
  assert.equal(note.value.pid, a.pid);

  const b = await phase('resume', 'graph', 'thread/1 é');
  assert.notEqual(b.pid, a.pid);
  assert.deepEqual(b.before, ['publish']);
  assert.deepEqual(b.next, []);
  assert.equal(b.final.verdict, 'yes');
  assert.deepEqual(b.final.log, [`plan@${a.pid}`, `review@${b.pid}`, `publish@${b.pid} steps=2 by=${a.pid}`]);
});

test('a thread lives in its sandbox', async () => {
  await phase('start', 'graph2', 't');
  const here = await phase('state', 'graph2', 't');
  assert.deepEqual(here.next, ['review']);
  assert.equal(here.values.draft, 'draft about agentkv');
  const there = await phase('state', 'graph3', 't');
  assert.deepEqual(there.next, []);
  assert.deepEqual(there.values, {});
});

test('examples/approval.mjs runs as the README says', async () => {
  const example = fileURLToPath(new URL('../examples/approval.mjs', import.meta.url));
  const { stdout } = await run(process.execPath, [example],
    { env: { ...process.env, AGENTKV_URL: srv.url, AGENTKV_TOKEN: srv.admin } });
  assert.match(stdout, /^interrupted: \[\{"draft":"\(friendly\) Re: refund for order 42"\}\]$/m);
  assert.match(stdout, /^approved: true - \(friendly\) Re: refund for order 42$/m);
});
