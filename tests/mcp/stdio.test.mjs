// stdio.test.mjs — the official MCP SDK client against `agentkv mcp` over
// stdio: version negotiation for every revision the client supports, the
// tool list and its schemas, every tool with valid arguments (results
// checked against the store through the CLI), bad arguments as isError
// results that change nothing, resources, and the system_prompt prompt.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import Ajv from 'ajv';
import {
  LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';

import {
  SPEC_TOOLS, akv, akvOk, connectStdio, json, sha256, tempDir, text,
} from './lib.mjs';
import { defineToolSuite } from './suite.mjs';

test('negotiates every protocol version the SDK client supports', async (t) => {
  const d = tempDir();
  t.after(() => d.remove());
  for (const version of SUPPORTED_PROTOCOL_VERSIONS) {
    const { client, negotiated } = await connectStdio({ store: d.store, version });
    assert.equal(negotiated(), version, `offered ${version}`);
    const { tools } = await client.listTools();
    assert.equal(tools.length, SPEC_TOOLS.length);
    const r = await client.callTool({ name: 'cache_stats', arguments: {} });
    assert.ok(!r.isError, text(r));
    console.log(`stdio: client offered ${version}, negotiated ${negotiated()}`);
    await client.close();
  }
  // Without rewriting, the client offers its newest revision.
  const { client, negotiated } = await connectStdio({ store: d.store });
  assert.equal(negotiated(), LATEST_PROTOCOL_VERSION);
  console.log(`stdio: SDK default offer ${LATEST_PROTOCOL_VERSION}, negotiated ${negotiated()}`);
  assert.equal(client.getServerVersion().name, 'agentkv');
  assert.ok(client.getServerCapabilities().tools);
  assert.ok(client.getServerCapabilities().resources);
  assert.ok(client.getServerCapabilities().prompts);
  await client.close();
});

test('tools/list: the tools of SPEC.md §7 and §9 in a fixed order, valid schemas', async (t) => {
  const d = tempDir();
  t.after(() => d.remove());
  const { client } = await connectStdio({ store: d.store });
  t.after(() => client.close());
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((x) => x.name), SPEC_TOOLS);
  const ajv = new Ajv({ strict: true, allowUnionTypes: true });
  for (const tool of tools) {
    assert.equal(tool.inputSchema.type, 'object', tool.name);
    assert.equal(typeof tool.description, 'string');
    assert.ok(tool.description.length > 20, tool.name);
    // A valid JSON Schema compiles; every required name is a property.
    ajv.compile(tool.inputSchema);
    for (const r of tool.inputSchema.required ?? []) {
      assert.ok(r in tool.inputSchema.properties, `${tool.name}: ${r}`);
    }
    for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint']) {
      assert.equal(typeof tool.annotations[hint], 'boolean', `${tool.name} ${hint}`);
    }
    if (tool.name.startsWith('get_') || tool.name.startsWith('list_') ||
        ['kv_get', 'kv_list', 'cache_stats', 'search_instructions'].includes(tool.name)) {
      assert.equal(tool.annotations.readOnlyHint, true, tool.name);
    } else {
      assert.equal(tool.annotations.readOnlyHint, false, tool.name);
    }
  }
  const scope = tools.find((x) => x.name === 'kv_put').inputSchema.properties.scope;
  assert.deepEqual(scope.enum, ['system', 'instructions', 'project', 'task', 'artifacts']);
  assert.deepEqual(tools.find((x) => x.name === 'put_artifact').inputSchema.required,
    ['key', 'value']);
  // The order is the same on every call.
  const again = await client.listTools();
  assert.deepEqual(again.tools, tools);
});

test('agentkv tools prints the same definitions as tools/list', async (t) => {
  const d = tempDir();
  t.after(() => d.remove());
  const { client } = await connectStdio({ store: d.store });
  t.after(() => client.close());
  const { tools } = await client.listTools();
  const mcp = JSON.parse(akvOk(d.store, ['tools', '--format', 'mcp']).text);
  assert.deepEqual(mcp, tools);
  const openai = JSON.parse(akvOk(d.store, ['tools', '--format', 'openai']).text);
  assert.deepEqual(openai, tools.map((x) => ({
    type: 'function',
    function: { name: x.name, description: x.description, parameters: x.inputSchema },
  })));
  const anthropic = JSON.parse(akvOk(d.store, ['tools', '--format', 'anthropic']).text);
  assert.deepEqual(anthropic, tools.map((x) => ({
    name: x.name, description: x.description, input_schema: x.inputSchema,
  })));
  const dflt = JSON.parse(akvOk(d.store, ['tools']).text);
  assert.deepEqual(dflt, openai);
  const bad = akv(d.store, ['tools', '--format', 'yaml']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^agentkv: invalid_argument: /);
});

// The whole tool surface under each revision, so that no revision-specific
// framing (structuredContent, annotations) breaks the client's parsing.
for (const version of SUPPORTED_PROTOCOL_VERSIONS) {
  describe(`every tool over stdio, protocol ${version}`, () => {
    defineToolSuite({
      async open(store, sandbox) {
        const { client } = await connectStdio({ store, sandbox, version });
        return { client, close: () => client.close() };
      },
    });
  });
}

describe('bad arguments are isError results that change nothing', () => {
  let d; let client;
  before(async () => {
    d = tempDir();
    const config = d.file('small.ini', '[store]\nmax_value_size = 1KiB\n[scope.task]\nquota = 1500\n');
    ({ client } = await connectStdio({ store: d.store, config }));
    const r = await client.callTool({ name: 'kv_put', arguments: { scope: 'task', key: 'keep', value: 'x'.repeat(1000) } });
    assert.ok(!r.isError, text(r));
  });
  after(async () => { await client.close(); d.remove(); });

  const cases = [
    ['missing field', 'put_artifact', { value: 'x' }, /^invalid_argument: .*"key"/],
    ['missing field', 'kv_get', { scope: 'task' }, /^invalid_argument: .*"key"/],
    ['missing field', 'put_project_summary', {}, /^invalid_argument: .*"summary"/],
    ['wrong type', 'put_artifact', { key: 5, value: 'x' }, /^invalid_argument: .*"key".*string/],
    ['wrong type', 'put_artifact', { key: 'k', value: { a: 1 } }, /^invalid_argument: .*"value"/],
    ['wrong type', 'put_artifact', { key: 'k', value: 'v', metadata: 'm' }, /^invalid_argument: .*"metadata"/],
    ['wrong type', 'kv_list', { scope: 'task', limit: 'ten' }, /^invalid_argument: .*"limit"/],
    ['wrong type', 'kv_put', { scope: 'task', key: 'k', value: 'v', ttl: true }, /^invalid_argument: .*"ttl"/],
    ['bad duration', 'kv_put', { scope: 'task', key: 'k', value: 'v', ttl: 'forever' }, /^invalid_argument: .*"ttl"/],
    ['negative ttl', 'kv_put', { scope: 'task', key: 'k', value: 'v', ttl: -5 }, /^invalid_argument: .*"ttl"/],
    ['unknown scope', 'kv_get', { scope: 'bogus', key: 'k' }, /^invalid_argument: .*scope/],
    ['unknown scope', 'kv_put', { scope: 'Task', key: 'k', value: 'v' }, /^invalid_argument: .*scope/],
    ['unknown scope', 'cache_stats', { scope: 'everything' }, /^invalid_argument: .*scope/],
    ['invalid key', 'get_artifact', { key: '../etc/passwd' }, /^invalid_argument: /],
    ['invalid key', 'kv_put', { scope: 'task', key: 'a//b', value: 'v' }, /^invalid_argument: /],
    ['invalid key', 'kv_put', { scope: 'task', key: '/lead', value: 'v' }, /^invalid_argument: /],
    ['invalid key', 'kv_put', { scope: 'task', key: 'back\\slash', value: 'v' }, /^invalid_argument: /],
    ['invalid key', 'kv_put', { scope: 'task', key: '', value: 'v' }, /^invalid_argument: /],
    ['invalid key', 'kv_put', { scope: 'task', key: 'k'.repeat(256), value: 'v' }, /^invalid_argument: /],
    ['unknown argument', 'get_artifact', { key: 'k', extra: 1 }, /^invalid_argument: .*"extra"/],
    ['bad metadata', 'put_artifact', { key: 'k', value: 'v', content_type: 'text/\u0001' }, /^invalid_argument: /],
    ['oversized value', 'put_artifact', { key: 'big', value: 'x'.repeat(1025) }, /^value_too_large: /],
    ['oversized value', 'kv_put', { scope: 'project', key: 'big', value: 'é'.repeat(600) }, /^value_too_large: /],
    ['over quota', 'kv_put', { scope: 'task', key: 'more', value: 'y'.repeat(1000) }, /^quota_exceeded: /],
  ];
  for (const [what, name, args, re] of cases) {
    test(`${what}: ${name} ${JSON.stringify(args).slice(0, 60)}`, async () => {
      const before = akvOk(d.store, ['export', '--all-sandboxes'], undefined, { bulk: true }).text;
      const r = await client.callTool({ name, arguments: args });
      assert.equal(r.isError, true, text(r));
      assert.match(text(r), re);
      assert.equal(akvOk(d.store, ['export', '--all-sandboxes'], undefined, { bulk: true }).text, before);
    });
  }

  test('an unknown tool is a protocol error (-32602), as MCP specifies', async () => {
    await assert.rejects(client.callTool({ name: 'drop_database', arguments: {} }),
      (e) => e.code === -32602);
  });
});
