// mcp-configs.mjs — the client configurations of docs/mcp.md are ready to
// copy: every JSON block parses; every stdio server entry (JSON, and the
// command after `claude mcp add … --`) names the store with --dir and an
// absolute path; run as written (with the binary under test in place of
// /usr/local/bin/agentkv and a temporary store in place of the example
// path) it answers initialize and lists the tools.
//
// AGENTKV names the binary under test; AKV_SOURCE_DIR the source tree.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';

const AGENTKV = process.env.AGENTKV;
const SRC = process.env.AKV_SOURCE_DIR;
if (!AGENTKV || !SRC) throw new Error('AGENTKV and AKV_SOURCE_DIR must be set');

const doc = readFileSync(path.join(SRC, 'docs/mcp.md'), 'utf8');
const section = doc.slice(doc.indexOf('## Registering agentkv with a client'),
                          doc.indexOf('\n## Protocol'));
const blocks = (lang) =>
  [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);

// Runs a documented stdio server: initialize, then tools/list.
function runServer(command, args) {
  assert.equal(command, '/usr/local/bin/agentkv', 'command is the installed binary');
  const i = args.indexOf('--dir');
  assert.ok(i >= 0, `no --dir in ${JSON.stringify(args)}`);
  assert.ok(path.isAbsolute(args[i + 1]), `--dir ${args[i + 1]} is not absolute`);
  const dir = mkdtempSync(path.join(tmpdir(), 'agentkv-mcpconf-'));
  try {
    const argv = args.map((a, k) => (k === i + 1 ? path.join(dir, 'store') : a));
    const input = [
      { jsonrpc: '2.0', id: 1, method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {},
                  clientInfo: { name: 'docs', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    ].map((m) => JSON.stringify(m)).join('\n') + '\n';
    const r = spawnSync(AGENTKV, argv, { input, encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, `agentkv ${argv.join(' ')}: ${r.stderr}`);
    const res = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(res.find((m) => m.id === 1)?.result?.serverInfo?.name, 'agentkv');
    assert.ok(res.find((m) => m.id === 2)?.result?.tools?.length >= 15, 'tools/list');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every JSON configuration parses and its stdio server runs', () => {
  const json = blocks('json');
  assert.ok(json.length >= 4, `only ${json.length} JSON blocks`);
  let stdio = 0;
  for (const text of json) {
    const conf = JSON.parse(text);
    const server = conf.mcpServers?.agentkv;
    assert.ok(server, `no mcpServers.agentkv in ${text}`);
    if (server.command) {
      runServer(server.command, server.args);
      stdio++;
    } else {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:8420\/mcp$/);
      assert.match(server.headers?.Authorization ?? '', /^Bearer /);
    }
  }
  assert.ok(stdio >= 3, `only ${stdio} stdio configurations`);
});

test('claude mcp add runs the documented command', () => {
  const adds = blocks('sh').map((b) => b.replace(/\\\n\s*/g, ''))
    .flatMap((b) => b.split('\n')).filter((l) => l.startsWith('claude mcp add'));
  assert.ok(adds.length >= 2, 'claude mcp add lines');
  let stdio = 0;
  for (const line of adds) {
    const dash = line.indexOf(' -- ');
    if (dash < 0) {
      assert.match(line, /--transport http agentkv http:\/\/127\.0\.0\.1:8420\/mcp/);
      continue;
    }
    const [command, ...args] = line.slice(dash + 4).trim().split(/\s+/);
    runServer(command, args);
    stdio++;
  }
  assert.ok(stdio >= 1, 'a stdio claude mcp add');
});
