// openapi.test.mjs — the client's types say what docs/openapi.yaml says:
// the properties of Meta, ScopeStats, MemoryCommand and the error body
// (names, which are required, and their JSON types), the scope names, and
// one error class per error code. Read from src/index.ts with the
// TypeScript compiler's own parser, so a field added on one side only
// fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import YAML from 'yaml';

import * as akv from '../dist/index.js';

const root = new URL('../../../', import.meta.url);
const spec = YAML.parse(readFileSync(new URL('docs/openapi.yaml', root), 'utf8'));
const schemas = spec.components.schemas;
const src = ts.createSourceFile('index.ts',
  readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8'), ts.ScriptTarget.ES2022, true);

// interface NAME's properties: name -> { optional, type } with the type
// reduced to the JSON type it stands for.
function iface(name) {
  let found;
  src.forEachChild((n) => { if (ts.isInterfaceDeclaration(n) && n.name.text === name) found = n; });
  assert.ok(found, `interface ${name} in src/index.ts`);
  const out = {};
  for (const m of found.members) {
    if (!ts.isPropertySignature(m)) continue;
    const t = m.type.getText(src);
    out[m.name.getText(src)] = { optional: !!m.questionToken, type: jsonType(t) };
  }
  return out;
}
function jsonType(t) {
  if (/^number$/.test(t)) return 'number';
  if (/^string \| null$/.test(t)) return 'string|null';
  if (/^(string|Scope)$/.test(t) || /^'[^']*'( \| '[^']*')*$/.test(t)) return 'string';
  if (/^Record<string, unknown>$/.test(t)) return 'object';
  if (/^\[number, number\]$/.test(t)) return 'array';
  return t;
}
function schemaType(p) {
  if (p.$ref === '#/components/schemas/Scope' || p.enum) return 'string';
  if (Array.isArray(p.type)) return p.type.join('|');
  return { integer: 'number', number: 'number' }[p.type] ?? p.type;
}
function compare(tsName, schema) {
  const got = iface(tsName);
  const want = Object.fromEntries(Object.entries(schema.properties).map(([k, p]) => [k, {
    optional: !(schema.required ?? []).includes(k) && tsName !== 'ScopeStats',
    type: schemaType(p),
  }]));
  assert.deepEqual(got, want, `${tsName} against docs/openapi.yaml`);
}

test('Meta is the Meta schema', () => compare('Meta', schemas.Meta));
test('ScopeStats is the ScopeStats schema', () => compare('ScopeStats', schemas.ScopeStats));
test('MemoryCommand is the MemoryCommand schema', () => {
  compare('MemoryCommand', schemas.MemoryCommand);
});
test('the error body and the error classes', () => {
  compare('ErrorBody', {
    properties: schemas.Error.properties.error.properties, required: [],
  });
  for (const code of schemas.Error.properties.error.properties.code.enum) {
    const cls = Object.values(akv).find((c) => typeof c === 'function' &&
      c.prototype instanceof akv.AgentKVError && new c('x').code === code);
    assert.ok(cls, `an error class for ${code}`);
  }
});
test('the scopes are the Scope enum', () => {
  assert.deepEqual([...akv.SCOPES], schemas.Scope.enum);
});
