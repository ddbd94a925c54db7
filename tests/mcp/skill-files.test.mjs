// skill-files.test.mjs — a skill folder (SKILL.md plus supporting files:
// Markdown, a script, a binary image, names that need percent-encoding) goes
// seed → MCP → files byte for byte: the v2 client's SkillsClient lists the
// skill, verifies every file of its manifest (size, sha256 digest) over
// stdio and HTTP under 2026-07-28, and the files it reads are written back
// and compared with the folder. The manifest's digests are the stored
// SHA-256; the supporting files are no instruction sets (list_instructions,
// resources/list); the 2025 revisions read the same files as ordinary
// resources; the bundled default sets, seeded, are valid skills; hostile
// file URIs are clean errors.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import {
  MODERN, akvOk, connectHttpModern, connectStdio, connectStdioModern, createToken,
  envelope, json, rawServer, sha256, startServer, tempDir,
} from './lib.mjs';

const FILES = {
  'SKILL.md': '---\nname: forms\ndescription: Fill PDF forms, see references/fields.md.\nlicense: MIT\n---\n'
    + '# Forms\n\nRead [the fields](references/fields.md) first.\n',
  'references/fields.md': '# Fields\n\nName, date, signature.\n',
  'references/Q&A notes.md': '# Q&A\n\nAsk first.\n',
  'scripts/fill.py': 'print("fill")\n',
  'assets/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80]),
  'notes/caf\u00e9.txt': 'A UTF-8 file name.\n',
};
const TYPES = {
  'SKILL.md': 'text/markdown',
  'references/fields.md': 'text/markdown',
  'references/Q&A notes.md': 'text/markdown',
  'scripts/fill.py': 'text/plain',
  'assets/logo.png': 'application/octet-stream',
  'notes/caf\u00e9.txt': 'text/plain',
};
const DEFAULTS = ['document-creation', 'presentation', 'research', 'web-development'];

// Every file below dir, as relative path -> bytes.
function readTree(dir, sub = '') {
  const out = {};
  for (const name of readdirSync(path.join(dir, sub))) {
    const rel = sub ? `${sub}/${name}` : name;
    if (statSync(path.join(dir, rel)).isDirectory()) Object.assign(out, readTree(dir, rel));
    else out[rel] = readFileSync(path.join(dir, rel));
  }
  return out;
}

let d;
let sets;
before(() => {
  d = tempDir();
  sets = path.join(d.dir, 'sets');
  for (const [rel, content] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(sets, 'forms', rel)), { recursive: true });
    writeFileSync(path.join(sets, 'forms', rel), content);
  }
  akvOk(d.store, ['seed', '--global']);
  akvOk(d.store, ['--sandbox', '_global', 'seed', sets]);
});
after(() => d.remove());

function storedSha(key) {
  return JSON.parse(akvOk(d.store, ['--sandbox', '_global', 'get', '--meta', 'instructions', key]).text).sha256;
}

// Lists the skills, reads every file of forms' manifest through the client
// (which verifies size and digest) and writes them into a new folder.
async function roundTrip(client, label) {
  const { SkillsClient } = await import('@modelcontextprotocol/client/ext/skills');
  const skills = new SkillsClient(client);
  const { skills: list, invalid } = await skills.list();
  assert.deepEqual(invalid, []);
  assert.deepEqual(list.map((s) => s.frontmatter.name), ['document-creation', 'forms', 'presentation', 'research', 'web-development']);
  const forms = list.find((s) => s.frontmatter.name === 'forms');
  assert.equal(forms.uri, 'skill://forms/SKILL.md');
  assert.equal(forms.resources[0].uri, forms.uri);
  const out = path.join(d.dir, `out-${label}`);
  for (const r of forms.resources) {
    const rel = decodeURIComponent(r.uri.slice('skill://forms/'.length));
    assert.ok(rel in FILES, `unexpected file ${r.uri}`);
    assert.equal(r.mimeType, TYPES[rel], rel);
    assert.equal(r.digest, `sha256:${storedSha(rel === 'SKILL.md' ? 'forms' : `forms/${rel}`)}`, rel);
    const file = await skills.read(forms, r.uri);
    assert.equal(file.verified, true, rel);
    mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
    writeFileSync(path.join(out, rel), file.bytes);
  }
  // A relative reference, as SKILL.md links it, resolves to the same file.
  assert.equal(Buffer.from((await skills.read(forms, 'references/fields.md')).bytes).toString(), FILES['references/fields.md']);
  assert.deepEqual(readTree(out), readTree(path.join(sets, 'forms')));
  // The default sets are skills too, read back as their files.
  for (const name of DEFAULTS) {
    const skill = list.find((s) => s.frontmatter.name === name);
    const file = await skills.read(skill);
    assert.equal(file.text, readFileSync(path.join(process.env.AKV_SOURCE_DIR, 'instructions', `${name}.md`), 'utf8'));
  }
}

describe(`skill files over stdio, protocol ${MODERN} (v2 client)`, () => {
  test('seed -> MCP -> files, byte for byte', async () => {
    const { client } = await connectStdioModern({ store: d.store, sandbox: 'sb1' });
    await roundTrip(client, 'stdio');
    await client.close();
  });
});

describe(`skill files over HTTP, protocol ${MODERN} (v2 client)`, () => {
  test('seed -> MCP -> files, byte for byte, with an agent token', async () => {
    const token = createToken(d.store, 'agent', 'sb1');
    const srv = await startServer(d.store);
    const { client } = await connectHttpModern({ url: srv.url, token });
    await roundTrip(client, 'http');
    await client.close();
    assert.equal(await srv.stop(), 0);
  });
});

describe('skill files under the 2025 revisions (v1 SDK)', () => {
  test('ordinary resources; not instruction sets', async () => {
    const { client } = await connectStdio({ store: d.store, sandbox: 'sb1' });
    const md = await client.readResource({ uri: 'skill://forms/SKILL.md' });
    assert.equal(md.contents[0].text, FILES['SKILL.md']);
    const fields = await client.readResource({ uri: 'skill://forms/references/fields.md' });
    assert.equal(fields.contents[0].text, FILES['references/fields.md']);
    assert.equal(fields.contents[0].mimeType, 'text/markdown');
    const qa = await client.readResource({ uri: 'skill://forms/references/Q%26A%20notes.md' });
    assert.equal(qa.contents[0].text, FILES['references/Q&A notes.md']);
    const logo = await client.readResource({ uri: 'skill://forms/assets/logo.png' });
    assert.deepEqual(Buffer.from(logo.contents[0].blob, 'base64'), FILES['assets/logo.png']);

    // Supporting files are files of the skill, never instruction sets.
    const names = json(await client.callTool({ name: 'list_instructions', arguments: {} }));
    const listed = names.items.map((i) => i.name);
    assert.deepEqual(listed.sort(), ['document-creation', 'forms', 'presentation', 'research', 'web-development']);
    const { resources } = await client.listResources();
    assert.deepEqual(resources.map((r) => r.uri).sort(), listed.map((n) => `agentkv://instructions/${n}`).sort());
    const prompt = await client.getPrompt({ name: 'system_prompt', arguments: {} });
    assert.ok(!prompt.messages[0].content.text.includes('forms/'));
    await client.close();
  });
});

describe('skill files, raw', () => {
  test('a sandbox skill never shows or serves _global files', async () => {
    const t = tempDir();
    akvOk(t.store, ['--sandbox', '_global', 'seed', sets]);
    akvOk(t.store, ['--sandbox', 'sb1', 'put', 'instructions', 'forms', '-'], '---\nname: forms\ndescription: own\n---\nOwn.\n');
    const s = rawServer(t.store, ['--sandbox', 'sb1']);
    s.send({ jsonrpc: '2.0', id: 1, method: 'skills/get', params: { uri: 'skill://forms/SKILL.md', _meta: envelope() } });
    const r = await s.next();
    assert.deepEqual(r.result.skill.resources.map((x) => x.uri), ['skill://forms/SKILL.md']);
    s.send({ jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'skill://forms/references/fields.md', _meta: envelope() } });
    assert.equal((await s.next()).error?.code, -32602);
    assert.equal(await s.close(), 0);
    t.remove();
  });

  test('hostile file URIs are clean errors', async () => {
    const s = rawServer(d.store);
    const bad = [
      'skill://forms/../forms/references/fields.md',
      'skill://forms/references/../../x',
      'skill://forms/%2e%2e/presentation/SKILL.md',
      'skill://forms/references/%2E%2E/%2e%2e/research/SKILL.md',
      'skill://forms/references%2ffields.md',
      'skill://forms/references%2Ffields.md',
      'skill://forms/references/fields.md%00',
      'skill://forms/references/fields.md?x=1',
      'skill://forms/references/fields.md#top',
      'skill://forms/references//fields.md',
      'skill://forms/./references/fields.md',
      'skill://forms/%',
      'skill://forms/%zz',
      'skill://forms/',
      'skill://forms',
      'skill:///forms/SKILL.md',
      'skill://forms/references/missing.md',
      'skill://forms/references\\fields.md',
      `skill://forms/${'a/'.repeat(200)}x`,
      `skill://forms/${'%41'.repeat(100000)}`,
      `skill://${'f'.repeat(100000)}/SKILL.md`,
      'skill://research/../forms/references/fields.md',
    ];
    let id = 0;
    for (const uri of bad) {
      for (const method of ['resources/read', 'skills/get']) {
        s.send({ jsonrpc: '2.0', id: ++id, method, params: { uri, _meta: envelope() } });
        const r = await s.next();
        assert.equal(r.id, id);
        assert.equal(r.error?.code, -32602, `${method} ${uri.slice(0, 80)}: ${JSON.stringify(r).slice(0, 300)}`);
      }
    }
    // A supporting file is not a skill of its own.
    s.send({ jsonrpc: '2.0', id: ++id, method: 'skills/get', params: { uri: 'skill://forms/references/fields.md', _meta: envelope() } });
    assert.equal((await s.next()).error?.code, -32602);
    // The server goes on serving.
    s.send({ jsonrpc: '2.0', id: ++id, method: 'resources/read', params: { uri: 'skill://forms/references/fields.md', _meta: envelope() } });
    const ok = await s.next();
    assert.equal(ok.result.contents[0].text, FILES['references/fields.md']);
    assert.equal(sha256(Buffer.from(ok.result.contents[0].text)), storedSha('forms/references/fields.md'));
    assert.equal(await s.close(), 0);
  });
});

describe('system_prompt points at skills for clients that load them', () => {
  const SKILLS_CAPS = { extensions: { 'io.modelcontextprotocol/skills': {} } };
  let t;
  before(() => {
    t = tempDir();
    akvOk(t.store, ['--sandbox', '_global', 'seed', sets]);
    // Not a skill: an underscore name, written by hand.
    akvOk(t.store, ['--sandbox', '_global', 'put', 'instructions', 'by_hand', '-'], '---\nname: by_hand\ndescription: Hand-made.\n---\nx\n');
  });
  after(() => t.remove());

  function catalogLines(r) {
    assert.ok(r.result, JSON.stringify(r).slice(0, 300));
    return r.result.messages[0].content.text.split('\n').filter((l) => l.startsWith('- '));
  }
  const SKILL_LINES = [/^- get_instruction\("by_hand"\) \(v1, \d+ tokens\)$/, /^- skill:\/\/forms\/SKILL\.md \(v1, \d+ tokens\): Fill PDF forms/];
  const PLAIN_LINES = [/^- get_instruction\("by_hand"\) /, /^- get_instruction\("forms"\) /];

  async function check(init, meta, want) {
    const s = rawServer(t.store);
    let id = 0;
    if (init) {
      s.send({ jsonrpc: '2.0', id: ++id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: init, clientInfo: { name: 'x', version: '0' } } });
      await s.next();
      s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    }
    s.send({ jsonrpc: '2.0', id: ++id, method: 'prompts/get', params: { name: 'system_prompt', ...(meta && { _meta: meta }) } });
    const r = await s.next();
    const lines = catalogLines(r);
    assert.equal(lines.length, want.length, lines.join('\n'));
    want.forEach((re, i) => assert.match(lines[i], re));
    const text = r.result.messages[0].content.text;
    assert.equal(text.includes('skill:// URI is an MCP skill'), want === SKILL_LINES);
    assert.equal(await s.close(), 0);
  }

  test('2025 session whose client declared the extension', () => check(SKILLS_CAPS, null, SKILL_LINES));
  test('2025 session whose client did not', () => check({}, null, PLAIN_LINES));
  test(`${MODERN} request declaring it in _meta`, () => check(null, envelope({ 'io.modelcontextprotocol/clientCapabilities': SKILLS_CAPS }), SKILL_LINES));
  test(`${MODERN} request without it`, () => check(null, envelope(), PLAIN_LINES));
  test('a 2026 request without the extension on a session that declared it', () => check(SKILLS_CAPS, envelope(), PLAIN_LINES));
  test('the CLI prompt build names get_instruction', () => {
    const out = akvOk(t.store, ['prompt', 'build']).text;
    assert.match(out, /^- get_instruction\("forms"\) /m);
    assert.doesNotMatch(out, /skill:\/\//);
  });
});
