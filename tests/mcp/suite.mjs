// suite.mjs — the tool, resource and prompt checks both transports run:
// every tool with valid arguments (results checked against the store
// through the CLI), binary values, the instruction overlay, statistics and
// pruning, resources with sha256/version/ETag, and the system_prompt
// prompt. defineToolSuite() declares them inside the caller's describe().

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { akv, akvOk, json, sha256, tempDir, text } from './lib.mjs';

// open(store, sandbox) connects a client to a server on store, working in
// sandbox, and resolves with { client, close }. agent: the session has an
// agent token's rights (no writes to scope system). modern: the client
// speaks revision 2026-07-28.
export function defineToolSuite({ open, agent = false, modern = false }) {
  let d; let client; let closeFn;
  const SB = 'sb1';
  before(async () => {
    d = tempDir();
    // A shared instruction set in _global, seen through the overlay.
    akvOk(d.store, ['--sandbox', '_global', 'put', 'instructions', 'presentation',
      '--type', 'text/markdown', '--meta', '{"description":"Slides and decks","tokens":7}', '-'],
    '# Presentations\nUse few words per slide.\n');
    ({ client, close: closeFn } = await open(d.store, SB));
  });
  after(async () => { await closeFn(); d.remove(); });

  test('put_artifact / get_artifact / list_artifacts / delete_artifact', async () => {
    let r = await client.callTool({
      name: 'put_artifact',
      arguments: {
        key: 'reports/q1.md', value: '# Q1\nRevenue up.\n', ttl: '2h',
        content_type: 'text/markdown', metadata: { author: 'agent' },
      },
    });
    assert.ok(!r.isError, text(r));
    const meta = json(r);
    assert.equal(meta.key, 'reports/q1.md');
    assert.equal(meta.scope, 'artifacts');
    assert.equal(meta.sandbox, SB);
    assert.equal(meta.version, 1);
    assert.equal(meta.created, true);
    assert.equal(meta.sha256, sha256(Buffer.from('# Q1\nRevenue up.\n')));
    // The store has exactly that.
    assert.equal(akvOk(d.store, ['--sandbox', SB, 'get', 'artifacts', 'reports/q1.md']).text,
      '# Q1\nRevenue up.\n');
    const stored = JSON.parse(akvOk(d.store, ['--sandbox', SB, 'get', '--meta', 'artifacts', 'reports/q1.md']).text);
    assert.equal(stored.content_type, 'text/markdown');
    assert.deepEqual(stored.metadata, { author: 'agent' });
    const ttl = Date.parse(stored.expires_at) - Date.parse(stored.updated_at);
    assert.equal(ttl, 2 * 3600 * 1000);

    r = await client.callTool({ name: 'put_artifact', arguments: { key: 'reports/q2.md', value: 'two' } });
    assert.ok(!r.isError, text(r));
    assert.equal(json(r).content_type, 'text/plain');
    // The default TTL of artifacts is 48h.
    assert.equal(Date.parse(json(r).expires_at) - Date.parse(json(r).updated_at), 48 * 3600 * 1000);
    r = await client.callTool({ name: 'put_artifact', arguments: { key: 'other', value: 'x' } });
    assert.ok(!r.isError, text(r));

    r = await client.callTool({ name: 'get_artifact', arguments: { key: 'reports/q1.md' } });
    assert.ok(!r.isError, text(r));
    assert.equal(text(r), '# Q1\nRevenue up.\n');
    assert.equal(r._meta['agentkv/entry'].sha256, meta.sha256);

    r = await client.callTool({ name: 'list_artifacts', arguments: { prefix: 'reports/' } });
    assert.ok(!r.isError, text(r));
    const listed = json(r);
    assert.deepEqual(listed.items.map((x) => x.key), ['reports/q1.md', 'reports/q2.md']);
    assert.equal(listed.next_cursor, null);
    const cli = akvOk(d.store, ['--sandbox', SB, '--json', 'ls', 'artifacts', '--prefix', 'reports/'])
      .text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(listed.items.map((x) => [x.key, x.size, x.version]),
      cli.map((x) => [x.key, x.size, x.version]));

    // Paging with limit and cursor.
    r = await client.callTool({ name: 'list_artifacts', arguments: { limit: 2 } });
    const page1 = json(r);
    assert.deepEqual(page1.items.map((x) => x.key), ['other', 'reports/q1.md']);
    assert.ok(page1.next_cursor);
    r = await client.callTool({ name: 'list_artifacts', arguments: { limit: 2, cursor: page1.next_cursor } });
    assert.deepEqual(json(r).items.map((x) => x.key), ['reports/q2.md']);

    r = await client.callTool({ name: 'delete_artifact', arguments: { key: 'reports/q2.md' } });
    assert.ok(!r.isError, text(r));
    assert.equal(json(r).deleted, true);
    assert.equal(akv(d.store, ['--sandbox', SB, 'get', 'artifacts', 'reports/q2.md']).status, 1);
    r = await client.callTool({ name: 'delete_artifact', arguments: { key: 'reports/q2.md' } });
    assert.equal(r.isError, true);
    assert.match(text(r), /^not_found: /);
  });

  test('put_project_summary / get_project_summary use project/summary', async () => {
    let r = await client.callTool({ name: 'get_project_summary', arguments: {} });
    assert.equal(r.isError, true);
    assert.match(text(r), /^not_found: /);
    r = await client.callTool({ name: 'put_project_summary', arguments: { summary: 'A CLI cache.\n' } });
    assert.ok(!r.isError, text(r));
    assert.equal(json(r).scope, 'project');
    assert.equal(json(r).key, 'summary');
    assert.equal(akvOk(d.store, ['--sandbox', SB, 'get', 'project', 'summary']).text, 'A CLI cache.\n');
    r = await client.callTool({ name: 'get_project_summary' });
    assert.equal(text(r), 'A CLI cache.\n');
    r = await client.callTool({ name: 'put_project_summary', arguments: { summary: 'v2' } });
    assert.equal(json(r).version, 2);
    assert.equal(json(r).created, false);
  });

  test('kv_put / kv_get / kv_list / kv_delete in any scope', async () => {
    let r = await client.callTool({
      name: 'kv_put', arguments: { scope: 'task', key: 'todo/1', value: 'ship it', ttl: 3600 },
    });
    assert.ok(!r.isError, text(r));
    assert.equal(Date.parse(json(r).expires_at) - Date.parse(json(r).updated_at), 3600 * 1000);
    assert.equal(akvOk(d.store, ['--sandbox', SB, 'get', 'task', 'todo/1']).text, 'ship it');
    r = await client.callTool({ name: 'kv_put', arguments: { scope: 'system', key: 'rules', value: 'be brief', ttl: 'never' } });
    if (agent) {
      // SPEC.md §1: agent tokens never write scope system.
      assert.equal(r.isError, true);
      assert.match(text(r), /^forbidden: /);
      assert.equal(akv(d.store, ['--sandbox', SB, 'get', 'system', 'rules']).status, 1);
      r = await client.callTool({ name: 'kv_delete', arguments: { scope: 'system', key: 'rules' } });
      assert.match(text(r), /^forbidden: /);
    } else {
      assert.ok(!r.isError, text(r));
      assert.equal(json(r).expires_at, null);
    }
    r = await client.callTool({ name: 'kv_get', arguments: { scope: 'task', key: 'todo/1' } });
    assert.equal(text(r), 'ship it');
    // Unicode and NUL survive the round trip byte for byte.
    const odd = 'naïve ☃ \u0000 end';
    r = await client.callTool({ name: 'kv_put', arguments: { scope: 'task', key: 'odd', value: odd } });
    assert.ok(!r.isError, text(r));
    assert.deepEqual(akvOk(d.store, ['--sandbox', SB, 'get', 'task', 'odd']).stdout, Buffer.from(odd));
    r = await client.callTool({ name: 'kv_get', arguments: { scope: 'task', key: 'odd' } });
    assert.equal(text(r), odd);
    r = await client.callTool({ name: 'kv_list', arguments: { scope: 'task' } });
    assert.deepEqual(json(r).items.map((x) => x.key), ['odd', 'todo/1']);
    r = await client.callTool({ name: 'kv_list', arguments: { scope: 'task', prefix: 'todo/' } });
    assert.deepEqual(json(r).items.map((x) => x.key), ['todo/1']);
    r = await client.callTool({ name: 'kv_delete', arguments: { scope: 'task', key: 'odd' } });
    assert.ok(!r.isError, text(r));
    assert.equal(akv(d.store, ['--sandbox', SB, 'get', 'task', 'odd']).status, 1);
    r = await client.callTool({ name: 'kv_get', arguments: { scope: 'task', key: 'odd' } });
    assert.equal(r.isError, true);
    assert.match(text(r), /^not_found: /);
  });

  test('a binary value comes back as an exact base64 blob', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0x01, 0x80, 0x41]);
    akvOk(d.store, ['--sandbox', SB, 'put', 'artifacts', 'bin/raw.dat', '-'], bytes);
    const r = await client.callTool({ name: 'get_artifact', arguments: { key: 'bin/raw.dat' } });
    assert.ok(!r.isError);
    const item = r.content[0];
    assert.equal(item.type, 'resource');
    assert.equal(item.resource.uri, 'agentkv://artifacts/bin/raw.dat');
    assert.deepEqual(Buffer.from(item.resource.blob, 'base64'), bytes);
  });

  test('instructions: put, get, list through the overlay', async () => {
    let r = await client.callTool({ name: 'list_instructions' });
    assert.ok(!r.isError, text(r));
    let cat = json(r);
    assert.equal(cat.sandbox, SB);
    assert.deepEqual(cat.items.map((x) => [x.name, x.origin]), [['presentation', '_global']]);
    assert.equal(cat.items[0].description, 'Slides and decks');
    assert.equal(cat.items[0].tokens, 7);
    assert.equal(cat.items[0].sha256, sha256(Buffer.from('# Presentations\nUse few words per slide.\n')));

    r = await client.callTool({ name: 'get_instruction', arguments: { name: 'presentation' } });
    assert.equal(text(r), '# Presentations\nUse few words per slide.\n');

    r = await client.callTool({
      name: 'put_instruction',
      arguments: { name: 'review', content: '# Review\nRead the diff twice.\n', description: 'When reviewing code' },
    });
    assert.ok(!r.isError, text(r));
    assert.equal(json(r).content_type, 'text/markdown');
    assert.equal(json(r).expires_at, null);
    const stored = JSON.parse(akvOk(d.store, ['--sandbox', SB, 'get', '--meta', 'instructions', 'review']).text);
    assert.equal(stored.metadata.description, 'When reviewing code');
    assert.equal(stored.metadata.source, 'mcp');
    assert.equal(typeof stored.metadata.tokens, 'number');
    assert.equal(akvOk(d.store, ['--sandbox', SB, 'get', 'instructions', 'review']).text,
      '# Review\nRead the diff twice.\n');

    r = await client.callTool({ name: 'list_instructions', arguments: {} });
    cat = json(r);
    assert.deepEqual(cat.items.map((x) => [x.name, x.origin, x.version]),
      [['presentation', '_global', 1], ['review', SB, 1]]);
    assert.ok(cat.items[1].tokens > 3);
    r = await client.callTool({ name: 'get_instruction', arguments: { name: 'review' } });
    assert.equal(text(r), '# Review\nRead the diff twice.\n');
    // search_instructions ranks them, as `agentkv search --json` does.
    r = await client.callTool({ name: 'search_instructions', arguments: { query: 'diff review' } });
    assert.ok(!r.isError, text(r));
    assert.deepEqual(json(r).items.map((x) => [x.name, x.origin]), [['review', SB]]);
    assert.equal(text(r), akvOk(d.store, ['--sandbox', SB, 'search', 'diff review', '--json']).text.trimEnd());
    r = await client.callTool({ name: 'search_instructions', arguments: { query: 'slides', limit: 1 } });
    assert.deepEqual(json(r).items.map((x) => x.name), ['presentation']);
    for (const bad of [{ query: '' }, { query: '- -' }, { query: 'x'.repeat(1025) }, { query: 'x', limit: 0 }, { query: 'x', limit: 101 }]) {
      r = await client.callTool({ name: 'search_instructions', arguments: bad });
      assert.equal(r.isError, true, JSON.stringify(bad));
      assert.match(text(r), /^invalid_argument: /);
    }
    r = await client.callTool({ name: 'get_instruction', arguments: { name: 'nope' } });
    assert.equal(r.isError, true);
    assert.match(text(r), /^not_found: /);
    // Names follow SPEC.md §5.
    r = await client.callTool({ name: 'put_instruction', arguments: { name: 'Bad Name', content: 'x' } });
    assert.equal(r.isError, true);
    assert.match(text(r), /^invalid_argument: .*name/);
  });

  test('cache_stats agrees with agentkv stats', async () => {
    let r = await client.callTool({ name: 'cache_stats', arguments: {} });
    assert.ok(!r.isError, text(r));
    const mcp = json(r);
    assert.equal(mcp.sandbox, SB);
    const cli = JSON.parse(akvOk(d.store, ['--sandbox', SB, '--json', 'stats']).text);
    for (const scope of Object.keys(cli)) {
      for (const f of ['entries', 'bytes', 'quota', 'expired', 'default_ttl']) {
        assert.equal(mcp.scopes[scope][f], cli[scope][f], `${scope}.${f}`);
      }
    }
    r = await client.callTool({ name: 'cache_stats', arguments: { scope: 'task' } });
    assert.deepEqual(Object.keys(json(r).scopes), ['task']);
  });

  test('prune_cache removes expired entries', async () => {
    // Import an already-expired entry: no sleeping for TTLs.
    const v = Buffer.from('stale');
    const line = JSON.stringify({
      sandbox: SB, scope: 'task', key: 'stale', origin: SB, size: v.length,
      content_type: 'text/plain', sha256: sha256(v), version: 1,
      created_at: '2020-01-01T00:00:00.000Z', updated_at: '2020-01-01T00:00:00.000Z',
      expires_at: '2020-01-02T00:00:00.000Z', metadata: {}, value: v.toString('base64'),
    });
    akvOk(d.store, ['import'], `${line}\n`);
    let r = await client.callTool({ name: 'kv_get', arguments: { scope: 'task', key: 'stale' } });
    assert.match(text(r), /^not_found: /);
    r = await client.callTool({ name: 'prune_cache', arguments: { scope: 'task' } });
    assert.ok(!r.isError, text(r));
    assert.deepEqual(json(r), { pruned: { task: 1 } });
    assert.equal(akvOk(d.store, ['--sandbox', SB, '--json', 'ls', 'task', '--expired']).text.includes('"stale"'), false);
    r = await client.callTool({ name: 'prune_cache' });
    assert.deepEqual(Object.keys(json(r).pruned), ['system', 'instructions', 'project', 'task', 'artifacts']);
  });

  test('resources: instructions listed and read with sha256, version, ETag', async () => {
    const { resources } = await client.listResources();
    const names = resources.map((x) => x.uri);
    assert.deepEqual(names, ['agentkv://instructions/presentation', 'agentkv://instructions/review']);
    for (const res of resources) {
      const name = res.uri.split('/').pop();
      const m = JSON.parse(akvOk(d.store, ['--sandbox', SB, 'get', '--meta', 'instructions', name]).text);
      assert.equal(res.mimeType, m.content_type);
      assert.equal(res.size, m.size);
      assert.equal(res._meta['agentkv/sha256'], m.sha256);
      assert.equal(res._meta['agentkv/version'], m.version);
      const body = akvOk(d.store, ['--sandbox', SB, 'get', 'instructions', name]).stdout;
      const read = await client.readResource({ uri: res.uri });
      assert.equal(read.contents.length, 1);
      assert.deepEqual(Buffer.from(read.contents[0].text, 'utf8'), body);
      assert.equal(read.contents[0]._meta['agentkv/etag'], `"${sha256(body)}"`);
    }
    assert.equal(resources[0].description, 'Slides and decks');

    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(resourceTemplates.map((x) => x.uriTemplate), ['agentkv://{scope}/{key}']);

    // Any entry through the template; keys are percent-decoded.
    akvOk(d.store, ['--sandbox', SB, 'put', 'task', 'notes/a b%.txt', '-'], 'spaced');
    let read = await client.readResource({ uri: 'agentkv://task/notes/a%20b%25.txt' });
    assert.equal(read.contents[0].text, 'spaced');
    read = await client.readResource({ uri: 'agentkv://artifacts/bin/raw.dat' });
    assert.deepEqual(Buffer.from(read.contents[0].blob, 'base64'), Buffer.from([0xff, 0x00, 0x01, 0x80, 0x41]));
    // Not found: -32002 before 2026-07-28, then Invalid params naming the URI.
    await assert.rejects(client.readResource({ uri: 'agentkv://task/missing' }),
      (e) => (modern ? e.code === -32602 && e.data?.uri === 'agentkv://task/missing'
        : e.code === -32002));
    await assert.rejects(client.readResource({ uri: 'agentkv://bogus/x' }),
      (e) => e.code === -32602);
    await assert.rejects(client.readResource({ uri: 'agentkv://task/a//b' }),
      (e) => e.code === -32602);
  });

  test('prompt system_prompt is the reference-mode catalog', async () => {
    const { prompts } = await client.listPrompts();
    assert.deepEqual(prompts.map((x) => x.name), ['system_prompt']);
    assert.deepEqual(prompts[0].arguments.map((x) => [x.name, x.required]),
      [['budget', false], ['base_key', false]]);
    const p = await client.getPrompt({ name: 'system_prompt' });
    assert.equal(p.messages.length, 1);
    const body = p.messages[0].content.text;
    assert.match(body, /get_instruction/);
    assert.match(body, /presentation/);
    assert.match(body, /Slides and decks/);
    assert.match(body, /review/);
    // The instruction bodies themselves are not in it.
    assert.doesNotMatch(body, /Use few words per slide/);
    // Deterministic: byte-identical on a second call.
    const again = await client.getPrompt({ name: 'system_prompt' });
    assert.equal(again.messages[0].content.text, body);
    await assert.rejects(client.getPrompt({ name: 'nope' }), (e) => e.code === -32602);
    // The same bytes as `agentkv prompt build --mode reference`.
    const cli = akvOk(d.store, ['--sandbox', SB, 'prompt', 'build', '--mode', 'reference']).text;
    assert.equal(body, cli);
    // Any positive budget fits: at 5 tokens, a prefix of the closing note.
    const tiny = await client.getPrompt({ name: 'system_prompt', arguments: { budget: '5' } });
    assert.match(tiny.messages[0].content.text, /^\(Budget/);
    assert.doesNotMatch(tiny.messages[0].content.text, /get_instruction/);
    await assert.rejects(client.getPrompt({ name: 'system_prompt', arguments: { budget: 'lots' } }),
      (e) => e.code === -32602);
    const big = await client.getPrompt({ name: 'system_prompt', arguments: { budget: '100000' } });
    assert.match(big.messages[0].content.text, /presentation/);
    // A base from scope system, with the catalog at its marker.
    akvOk(d.store, ['--sandbox', SB, 'put', 'system', 'base', '-'], 'You are careful.\n{{agentkv:catalog}}\nBe brief.\n');
    const based = await client.getPrompt({ name: 'system_prompt', arguments: { base_key: 'base' } });
    const t2 = based.messages[0].content.text;
    assert.ok(t2.startsWith('You are careful.\n'), t2.slice(0, 80));
    assert.ok(t2.endsWith('Be brief.\n'));
    assert.match(t2, /get_instruction/);
    akvOk(d.store, ['--sandbox', SB, 'del', 'system', 'base']);
    await assert.rejects(client.getPrompt({ name: 'system_prompt', arguments: { base_key: 'base' } }),
      (e) => e.code === -32602 && /not_found/.test(e.message));
  });
}
