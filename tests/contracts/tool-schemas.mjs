// tool-schemas.mjs — every tool schema agentkv publishes, compiled by Ajv in
// strict mode (draft-07 and 2020-12): the inputSchema of each tool that a
// real `agentkv mcp` answers to tools/list, and the parameters of every JSON
// format `agentkv tools --format …` prints. Strict mode rejects what
// stricter clients reject (a type array such as ["string","integer"],
// unknown keywords, required names without a property). It also checks that
// the ttl schema takes what the server takes ("45s", "24h", "3600",
// "never") and that the server still accepts an integer ttl from clients
// that read the older schema.
//
// AGENTKV names the binary under test. Node's test runner prints the
// results; any failure exits non-zero.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';

import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';

const AGENTKV = process.env.AGENTKV;
if (!AGENTKV) throw new Error('AGENTKV must name the agentkv binary');

const validators = {
  'draft-07': () => new Ajv({ strict: true, allErrors: true }),
  '2020-12': () => new Ajv2020({ strict: true, allErrors: true }),
};

function compileStrict(schema, where) {
  for (const [draft, make] of Object.entries(validators)) {
    try {
      make().compile(schema);
    } catch (e) {
      assert.fail(`${where}: Ajv strict (${draft}) rejects the schema: ${e.message}`);
    }
  }
}

function tools(format) {
  const r = spawnSync(AGENTKV, ['tools', '--format', format], { encoding: 'utf8' });
  assert.equal(r.status, 0, `agentkv tools --format ${format}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// Where each format keeps a tool's name and its argument schema.
const FORMATS = {
  openai: (t) => [t.function.name, t.function.parameters],
  'openai-responses': (t) => [t.name, t.parameters],
  anthropic: (t) => [t.name, t.input_schema],
  mcp: (t) => [t.name, t.inputSchema],
};

// Newline-delimited JSON-RPC to a real `agentkv mcp` on a fresh store;
// returns the responses by id.
function mcpSession(messages) {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentkv-contracts-'));
  try {
    const input = [
      { jsonrpc: '2.0', id: 0, method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {},
                  clientInfo: { name: 'contracts', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      ...messages,
    ].map((m) => JSON.stringify(m)).join('\n') + '\n';
    const r = spawnSync(AGENTKV, ['mcp', '--dir', path.join(dir, 'store')],
                        { input, encoding: 'utf8' });
    assert.equal(r.status, 0, `agentkv mcp: ${r.stderr}`);
    const byId = new Map();
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const m = JSON.parse(line);
      byId.set(m.id, m);
    }
    return byId;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every format of agentkv tools compiles under Ajv strict', () => {
  const names = tools('mcp').map((t) => t.name);
  assert.ok(names.length >= 15, `only ${names.length} tools`);
  for (const [format, pick] of Object.entries(FORMATS)) {
    const list = tools(format);
    assert.deepEqual(list.map((t) => pick(t)[0]), names, `${format}: tool names`);
    for (const t of list) {
      const [name, schema] = pick(t);
      assert.equal(schema.type, 'object', `${format} ${name}: schema type`);
      compileStrict(schema, `${format} ${name}`);
    }
  }
});

test('the OpenAI Responses format is flat', () => {
  for (const t of tools('openai-responses')) {
    assert.deepEqual(Object.keys(t).sort(), ['description', 'name', 'parameters', 'type']);
    assert.equal(t.type, 'function');
  }
});

test('tools/list of a running server compiles under Ajv strict', () => {
  const res = mcpSession([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]);
  const list = res.get(1)?.result?.tools;
  assert.ok(Array.isArray(list) && list.length >= 15, JSON.stringify(res.get(1)));
  for (const t of list) {
    compileStrict(t.inputSchema, `tools/list ${t.name} inputSchema`);
    if (t.outputSchema)
      compileStrict(t.outputSchema, `tools/list ${t.name} outputSchema`);
  }
});

test('no schema uses a type array', () => {
  const walk = (node, where) => {
    if (node && typeof node === 'object') {
      if (Array.isArray(node.type)) assert.fail(`${where}: type ${JSON.stringify(node.type)}`);
      for (const [k, v] of Object.entries(node)) walk(v, `${where}/${k}`);
    }
  };
  for (const format of Object.keys(FORMATS)) walk(tools(format), format);
});

test('the ttl schema takes what the server takes', () => {
  const withTtl = tools('mcp').filter((t) => t.inputSchema.properties.ttl);
  assert.ok(withTtl.length >= 2, 'kv_put and put_artifact take a ttl');
  const good = ['45s', '15m', '24h', '7d', '3600', '0', 'never'];
  const bad = ['1h30m', 'forever', '-5', '24H', '', ' 24h', 'never '];
  for (const t of withTtl) {
    const validate = new Ajv2020({ strict: true }).compile(t.inputSchema.properties.ttl);
    for (const v of good) assert.ok(validate(v), `${t.name}: ttl ${JSON.stringify(v)} refused`);
    for (const v of bad) assert.ok(!validate(v), `${t.name}: ttl ${JSON.stringify(v)} taken`);
  }
  // The server agrees with the schema on every string, and still takes an
  // integer number of seconds.
  const calls = [...good, ...bad, 3600].map((ttl, i) => ({
    jsonrpc: '2.0', id: 10 + i, method: 'tools/call',
    params: { name: 'kv_put', arguments: { scope: 'task', key: `k${i}`, value: 'v', ttl } },
  }));
  const res = mcpSession(calls);
  calls.forEach((c, i) => {
    const r = res.get(c.id)?.result;
    assert.ok(r, `no result for ttl ${JSON.stringify(c.params.arguments.ttl)}`);
    const refused = r.isError === true;
    const expectRefused = i >= good.length && i < good.length + bad.length;
    assert.equal(refused, expectRefused,
                 `server on ttl ${JSON.stringify(c.params.arguments.ttl)}: ${JSON.stringify(r.content)}`);
  });
});
