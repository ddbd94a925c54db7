// examples.test.mjs — examples/quickstart.mjs run against a real server
// (server.mjs), as the README says to run it, so that it cannot rot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

import { startServer } from './server.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv.stop(); });

test('examples/quickstart.mjs', async () => {
  const example = fileURLToPath(new URL('../examples/quickstart.mjs', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [example], {
    env: { ...process.env, AGENTKV_URL: srv.url, AGENTKV_TOKEN: srv.admin, AGENTKV_SANDBOX: 'ts-example' },
  });
  assert.deepEqual(stdout.trimEnd().split('\n'), [
    'plan: 1. read the issue',
    'stale write refused',
    'facts: uses LMDB and Redis',
    'project keys: facts',
    'toolu_1 ok - File created successfully at: /memories/prefs.md',
    'toolu_2 ok - The memory file has been edited.',
    'toolu_3 error - Error: The path /memories/missing.md does not exist. Please provide a valid path.',
    'memory file: tone: brief',
  ]);
});
