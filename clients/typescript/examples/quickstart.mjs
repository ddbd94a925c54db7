// quickstart.mjs — agentkv from TypeScript/JavaScript in one page.
//
//   AGENTKV_URL=http://127.0.0.1:8420 AGENTKV_TOKEN=akv_... node examples/quickstart.mjs
//
// Stores and reads task state, lists a scope, makes a compare-and-swap
// update, and runs Anthropic's memory tool the way a tool loop does: each
// `memory` tool_use block of a Messages response goes to memoryToolResult,
// and the block it returns is what the next request sends back. The blocks
// here are written out by hand, as the model would send them, so the
// example needs no Anthropic API key.
import { Client, PreconditionFailed } from 'agentkv';

const kv = new Client({ sandbox: process.env.AGENTKV_SANDBOX ?? 'example' });

await kv.put('task', 'plan', '1. read the issue\n2. fix it\n', { ttl: '2h' });
console.log('plan:', (await kv.getText('task', 'plan')).split('\n')[0]);

const meta = await kv.put('project', 'facts', 'uses LMDB');
await kv.put('project', 'facts', 'uses LMDB and Redis', { ifMatch: meta.sha256 });
try {
  await kv.put('project', 'facts', 'stale write', { ifMatch: meta.sha256 });
} catch (e) {
  if (!(e instanceof PreconditionFailed)) throw e;
  console.log('stale write refused');
}
console.log('facts:', await kv.getText('project', 'facts'));
const keys = [];
for await (const m of kv.list('project')) keys.push(m.key);
console.log('project keys:', keys.join(','));

// What an Anthropic tool loop does with the memory tool's calls.
const blocks = [
  { type: 'tool_use', id: 'toolu_1', name: 'memory',
    input: { command: 'create', path: '/memories/prefs.md', file_text: 'tone: friendly\n' } },
  { type: 'tool_use', id: 'toolu_2', name: 'memory',
    input: { command: 'str_replace', path: '/memories/prefs.md', old_str: 'friendly', new_str: 'brief' } },
  { type: 'tool_use', id: 'toolu_3', name: 'memory',
    input: { command: 'view', path: '/memories/missing.md' } },
];
for (const block of blocks) {
  const r = await kv.memoryToolResult(block);
  console.log(r.tool_use_id, r.is_error ? 'error' : 'ok', '-', r.content.split('\n')[0]);
}
console.log('memory file:', (await kv.getText('project', 'memories/prefs.md')).trim());
