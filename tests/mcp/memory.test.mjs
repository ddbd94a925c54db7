// memory.test.mjs — the MCP tool `memory` (Anthropic's memory_20250818 on
// agentkv) through the official SDK client over stdio: each command's
// result text, the files as keys memories/... of the project scope, the
// tool's error texts as isError results, hostile paths refused, and the
// input schema (Anthropic's arguments, nothing else accepted).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { akvOk, connectStdio, tempDir, text } from './lib.mjs';

test('memory: commands, errors and schema over stdio', async (t) => {
  const d = tempDir();
  t.after(() => d.remove());
  const { client } = await connectStdio({ store: d.store, sandbox: 'sb1' });
  t.after(() => client.close());
  const call = (args) => client.callTool({ name: 'memory', arguments: args });

  const { tools } = await client.listTools();
  const tool = tools.find((x) => x.name === 'memory');
  assert.ok(tool, 'memory is listed');
  assert.deepEqual(tool.inputSchema.required, ['command']);
  assert.deepEqual(Object.keys(tool.inputSchema.properties).sort(), [
    'command', 'file_text', 'insert_line', 'insert_text', 'new_path',
    'new_str', 'old_path', 'old_str', 'path', 'view_range']);
  assert.equal(tool.inputSchema.additionalProperties, false);

  let r = await call({ command: 'create', path: '/memories/plan.md', file_text: 'step 1\nstep 2\n' });
  assert.ok(!r.isError, text(r));
  assert.equal(text(r), 'File created successfully at: /memories/plan.md');
  assert.equal(akvOk(d.store, ['--sandbox', 'sb1', 'get', 'project', 'memories/plan.md']).text,
    'step 1\nstep 2\n');

  r = await call({ command: 'str_replace', path: '/memories/plan.md', old_str: 'step 2', new_str: 'step 2 (done)' });
  assert.ok(!r.isError, text(r));
  r = await call({ command: 'insert', path: '/memories/plan.md', insert_line: 0, insert_text: '# Plan' });
  assert.ok(!r.isError, text(r));
  r = await call({ command: 'view', path: '/memories/plan.md', view_range: [1, 2] });
  assert.equal(text(r), "Here's the content of /memories/plan.md with line numbers:\n" +
    '     1\t# Plan\n     2\tstep 1\n');
  r = await call({ command: 'rename', old_path: '/memories/plan.md', new_path: '/memories/done/plan.md' });
  assert.equal(text(r), 'Successfully renamed /memories/plan.md to /memories/done/plan.md');
  r = await call({ command: 'view', path: '/memories' });
  assert.match(text(r), /\t\/memories\/done\/plan\.md\n$/);

  // Errors: isError results carrying the code and the tool's text.
  r = await call({ command: 'view', path: '/memories/plan.md' });
  assert.equal(r.isError, true);
  assert.match(text(r), /^not_found: Error: The path \/memories\/plan\.md does not exist/);
  r = await call({ command: 'str_replace', path: '/memories/done/plan.md', old_str: 'nope', new_str: 'x' });
  assert.equal(r.isError, true);
  assert.match(text(r), /^precondition_failed: No replacement was performed/);
  for (const path of ['/memories/../x', '/etc/passwd', '/memories/a\u0001b', '/memories/./a']) {
    r = await call({ command: 'create', path, file_text: 'x' });
    assert.equal(r.isError, true, path);
    assert.match(text(r), /^invalid_argument: Error: The path/, path);
  }
  r = await call({ command: 'view', path: '/memories', extra: 1 });
  assert.equal(r.isError, true);
  assert.match(text(r), /unknown argument "extra"/);
  r = await call({ command: 'view', path: '/memories', view_range: [1] });
  assert.equal(r.isError, true);
  r = await call({ command: 'delete', path: '/memories/done' });
  assert.equal(text(r), 'Successfully deleted /memories/done');
  const ls = akvOk(d.store, ['--sandbox', 'sb1', 'ls', 'project']).text;
  assert.ok(!ls.includes('memories/'), ls);
});
