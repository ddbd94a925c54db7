// server.mjs — starts a real `agentkv serve` ($AGENTKV names the binary) on a
// free loopback port with a temporary store, for the tests of the TypeScript
// client and of the LangGraph integration (clients/langgraph).
//
//   const srv = await startServer({ config: '[scope.artifacts]\nquota = 4KiB\n' });
//   srv.url, srv.admin (the admin token the server printed), srv.dir
//   await srv.stop()   // SIGTERM; rejects unless the server exits 0
//
// With { dir } it serves that directory's store (kept by stop()), so a
// second process can reach the state a first one left.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function startServer({ config = '', dir } = {}) {
  const AGENTKV = process.env.AGENTKV;
  if (!AGENTKV) throw new Error('AGENTKV must name the agentkv binary');
  const own = dir === undefined;
  if (own) dir = mkdtempSync(join(tmpdir(), 'agentkv-ts.'));
  writeFileSync(join(dir, 'agentkv.ini'), config);
  const proc = spawn(AGENTKV, ['--dir', join(dir, 'store'), 'serve', '--listen', '127.0.0.1:0',
    '--no-seed', '--config', join(dir, 'agentkv.ini')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const { url, admin } = await new Promise((resolve, reject) => {
    proc.stderr.on('data', (d) => {
      log += d;
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (!m) return;
      // A first run prints the token it creates (before it listens); a
      // later run on the same store reads the copy that run saved.
      const t = /admin token: (akv_[A-Za-z0-9_-]+)/.exec(log);
      resolve({ url: m[1], admin: t ? t[1] : readFileSync(join(dir, 'store', 'admin-token'), 'utf8').trim() });
    });
    proc.on('exit', (code) => reject(new Error(`agentkv serve exited ${code}: ${log}`)));
  });
  proc.stderr.resume();
  return {
    url, admin, dir,
    async stop() {
      const exited = new Promise((resolve) => proc.on('exit', resolve));
      proc.kill('SIGTERM');
      const code = await exited;
      if (own) rmSync(dir, { recursive: true, force: true });
      if (code !== 0) throw new Error(`agentkv serve exited ${code}`);
    },
  };
}
