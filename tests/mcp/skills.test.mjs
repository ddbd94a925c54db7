// skills.test.mjs — instruction sets as MCP Skills (io.modelcontextprotocol/
// skills): the v2 client's SkillsClient lists, gets and reads skills over
// stdio and HTTP under 2026-07-28 and verifies every byte against the
// entries (size, sha256 digest, front matter); digests are checked against
// the stored SHA-256 as the CLI reports it; which sets are skills and which
// are not; the overlay of sandbox and _global; pagination; the 2025
// revisions (v1 SDK) reach the same skills; hostile URIs and cursors.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  MODERN, akvOk, connectHttpModern, connectStdio, connectStdioModern, createToken,
  envelope, rawServer, sha256, startServer, tempDir,
} from './lib.mjs';

const SKILLS = 'io.modelcontextprotocol/skills';

const PDF = '---\nname: pdf-tools\ndescription: "Fill in PDF forms: fields, checkboxes"\n'
  + 'version: 1.2\nlicense: MIT\nbeta: true\nmax: 0x10\nnote:\n---\n# PDF tools\n\nUse pdftk.\n';
const PDF_FM = {
  name: 'pdf-tools', description: 'Fill in PDF forms: fields, checkboxes',
  version: 1.2, license: 'MIT', beta: true, max: 16, note: null,
};
const OWN = '---\r\nname: slides\r\ndescription: \'Decks, the sandbox\'\'s own way\'\r\n---\r\nOwn slides.\r\n';
const GLOBAL_SLIDES = '---\nname: slides\ndescription: Decks\n---\nGlobal slides.\n';

// Sets that stay instruction sets only, and why.
const NOT_SKILLS = {
  plain_name: '---\nname: plain_name\ndescription: underscore\n---\nx\n',
  'no-front-matter': '# Just a body\n',
  'other-name': '---\nname: something-else\ndescription: d\n---\nx\n',
  'no-description': '---\nname: no-description\n---\nx\n',
  'yaml-comment': '---\nname: yaml-comment\ndescription: a # b\n---\nx\n',
};

function put(store, sandbox, name, content) {
  akvOk(store, ['--sandbox', sandbox, 'put', 'instructions', name, '--type', 'text/markdown', '-'], content,
    { bulk: true });
}

function storedSha(store, sandbox, name) {
  return JSON.parse(akvOk(store, ['--sandbox', sandbox, 'get', '--meta', 'instructions', name]).text).sha256;
}

let d;
before(() => {
  d = tempDir();
  put(d.store, '_global', 'pdf-tools', PDF);
  put(d.store, '_global', 'slides', GLOBAL_SLIDES);
  put(d.store, 'sb1', 'slides', OWN);
  for (const [name, content] of Object.entries(NOT_SKILLS)) put(d.store, '_global', name, content);
});
after(() => d.remove());

async function checkSkills(client) {
  const { SkillsClient } = await import('@modelcontextprotocol/client/ext/skills');
  const skills = new SkillsClient(client);
  assert.equal(skills.supported, true);
  const { skills: list, invalid } = await skills.list();
  assert.deepEqual(invalid, []);
  assert.deepEqual(list.map((s) => s.uri), ['skill://pdf-tools/SKILL.md', 'skill://slides/SKILL.md']);

  const pdf = list[0];
  assert.deepEqual(pdf.frontmatter, PDF_FM);
  assert.equal(pdf.resources.length, 1);
  assert.equal(pdf.resources[0].uri, pdf.uri);
  assert.equal(pdf.resources[0].size, Buffer.byteLength(PDF));
  assert.equal(pdf.resources[0].digest, `sha256:${storedSha(d.store, 'sb1', 'pdf-tools')}`);
  assert.equal(pdf.resources[0].digest, `sha256:${sha256(Buffer.from(PDF))}`);
  // read() checks size, digest and front matter against the entry.
  const file = await skills.read(pdf);
  assert.equal(file.text, PDF);
  assert.equal(file.verified, true);
  assert.equal(file.body, '# PDF tools\n\nUse pdftk.\n');

  // The sandbox's own set wins over _global's.
  const { skill: slides } = await skills.get('skill://slides/SKILL.md');
  assert.equal(slides.frontmatter.description, "Decks, the sandbox's own way");
  assert.equal(slides.resources[0].digest, `sha256:${sha256(Buffer.from(OWN))}`);
  assert.equal((await skills.read(slides)).text, OWN);

  for (const name of Object.keys(NOT_SKILLS)) {
    await assert.rejects(skills.get(`skill://${name}/SKILL.md`), (e) => e.code === -32602, name);
  }
}

describe(`skills over stdio, protocol ${MODERN} (v2 client)`, () => {
  test('list, get and verified reads', async () => {
    const { client } = await connectStdioModern({ store: d.store, sandbox: 'sb1' });
    assert.deepEqual(client.getDiscoverResult().capabilities.extensions, { [SKILLS]: {} });
    await checkSkills(client);
    await client.close();
  });
});

describe(`skills over HTTP, protocol ${MODERN} (v2 client)`, () => {
  test('list, get and verified reads with an agent token', async () => {
    const token = createToken(d.store, 'agent', 'sb1');
    const srv = await startServer(d.store);
    const { client } = await connectHttpModern({ url: srv.url, token });
    await checkSkills(client);
    await client.close();
    assert.equal(await srv.stop(), 0);
  });
});

describe('skills under the 2025 revisions (v1 SDK)', () => {
  test('capability, skills/list and skill:// resources', async () => {
    const { client } = await connectStdio({ store: d.store, sandbox: 'sb1' });
    assert.deepEqual(client.getServerCapabilities().extensions, { [SKILLS]: {} });
    const read = await client.readResource({ uri: 'skill://pdf-tools/SKILL.md' });
    assert.equal(read.contents[0].text, PDF);
    assert.equal(read.contents[0].mimeType, 'text/markdown');
    await client.close();
  });
});

describe('skills, raw', () => {
  test('pagination is complete and deterministic', async () => {
    const t = tempDir();
    const names = [];
    for (let i = 0; i < 57; i++) names.push(`s-${String(i).padStart(2, '0')}`);
    for (const name of names) put(t.store, 'default', name, `---\nname: ${name}\ndescription: set ${name}\n---\nbody\n`);
    const s = rawServer(t.store);
    const seen = [];
    let cursor;
    let pages = 0;
    do {
      s.send({ jsonrpc: '2.0', id: ++pages, method: 'skills/list', params: { ...(cursor && { cursor }), _meta: envelope() } });
      const r = await s.next();
      assert.equal(r.result.resultType, 'complete');
      assert.equal(r.result.cacheScope, 'private');
      seen.push(...r.result.skills.map((e) => e.frontmatter.name));
      cursor = r.result.nextCursor;
    } while (cursor);
    assert.equal(pages, 2);
    assert.deepEqual(seen, names);
    assert.equal(await s.close(), 0);
    t.remove();
  });

  test('hostile URIs and cursors are clean errors', async () => {
    const s = rawServer(d.store);
    s.send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '0' } } });
    await s.next();
    const bad = [
      ['skills/get', { uri: 'skill://../SKILL.md' }],
      ['skills/get', { uri: 'skill://pdf-tools/../slides/SKILL.md' }],
      ['skills/get', { uri: 'skill://pdf-tools/SKILL.md/' }],
      ['skills/get', { uri: 'skill://PDF-tools/SKILL.md' }],
      ['skills/get', { uri: 'skill://pdf--tools/SKILL.md' }],
      ['skills/get', { uri: 'skill://pdf-tools\u0000/SKILL.md' }],
      ['skills/get', { uri: 'agentkv://instructions/pdf-tools' }],
      ['skills/get', { uri: `skill://${'a'.repeat(65)}/SKILL.md` }],
      ['skills/get', { uri: 42 }],
      ['skills/get', {}],
      ['resources/read', { uri: 'skill://pdf-tools/references/x.md' }],
      ['resources/read', { uri: 'skill://plain_name/SKILL.md' }],
      ['resources/read', { uri: 'skill://' }],
      ['skills/list', { cursor: '9'.repeat(100000) }],
      ['skills/list', { cursor: '999999999' }],
      ['skills/list', { cursor: '-1' }],
      ['skills/list', { cursor: '' }],
      ['skills/list', { cursor: 3 }],
    ];
    let id = 0;
    for (const [method, params] of bad) {
      s.send({ jsonrpc: '2.0', id: ++id, method, params });
      const r = await s.next();
      assert.equal(r.id, id);
      assert.equal(r.error?.code, -32602, `${method} ${JSON.stringify(params).slice(0, 80)}: ${JSON.stringify(r)}`);
    }
    // The legacy session still works, and lists the skills (sandbox
    // default sees _global's slides).
    s.send({ jsonrpc: '2.0', id: 99, method: 'skills/list', params: {} });
    const r = await s.next();
    assert.deepEqual(r.result.skills.map((e) => e.uri), ['skill://pdf-tools/SKILL.md', 'skill://slides/SKILL.md']);
    assert.equal(r.result.skills[1].frontmatter.description, 'Decks');
    assert.equal(await s.close(), 0);
  });
});
