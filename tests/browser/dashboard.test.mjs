// dashboard.test.mjs — the dashboard at / in a real browser: Debian's
// chromium driven by playwright-core (pinned in package-lock.json) against
// the real `agentkv serve` on a free loopback port and a temporary store.
//
// Covers: the security headers of the page and its assets; signing in with
// an admin token and seeing every sandbox and the five scopes with usage;
// the key browser down to a preview; a key named like an HTML element and a
// value holding </script> shown as text, with no dialog and no element
// made of them; delete with confirmation (admin); an agent token that sees
// only its own sandbox and no delete control; no console error anywhere.
// A screenshot of the admin view is saved (AKV_DASHBOARD_SCREENSHOT names
// the file; scripts/dashboard-screenshot.sh writes docs/dashboard.png).
//
// AGENTKV names the binary under test (ctest sets it).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

const AGENTKV = process.env.AGENTKV;
if (!AGENTKV) throw new Error('AGENTKV must name the agentkv binary');
const CHROMIUM = process.env.AKV_CHROMIUM || '/usr/bin/chromium';

const XSS_KEY = '<img src=x onerror=alert(1)>';
const XSS_VALUE = 'before </script><script>alert(2)</script> after\n';

const dir = mkdtempSync(path.join(tmpdir(), 'agentkv-browser-'));
const store = path.join(dir, 'store');
// Small quotas, so that the usage bars have something to show.
const config = path.join(dir, 'agentkv.ini');
writeFileSync(config, '[scope.system]\nquota = 1KiB\n[scope.instructions]\nquota = 64KiB\n' +
  '[scope.project]\nquota = 8KiB\n[scope.task]\nquota = 16KiB\n[scope.artifacts]\nquota = 72KiB\n');
let server, url, browser, admin, agent;
let serverErr = '';
const consoleErrors = [];
const dialogs = [];

function akv(args, input) {
  const r = spawnSync(AGENTKV, ['--dir', store, '--config', config, ...args], { input });
  if (r.status !== 0)
    throw new Error(`agentkv ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout.toString('utf8').trim();
}

function put(sandbox, scope, key, value, extra = []) {
  akv(['--sandbox', sandbox, 'put', scope, key, '-', ...extra], value);
}

// Starts `agentkv serve` on 127.0.0.1:0 and resolves to its URL.
function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(AGENTKV, ['--dir', store, '--config', config, 'serve', '--listen', '127.0.0.1:0', '--no-seed'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => {
      err += d.toString();
      serverErr = err;
      const m = /listening on (http:\/\/[^ ]+)/.exec(err);
      if (m && !url) { url = m[1]; resolve(p); }
    });
    p.on('exit', (code) => { if (!url) reject(new Error(`serve exited ${code}: ${err}`)); });
  });
}

// A fresh browser page that records console errors, page errors and
// dialogs (a dialog would mean stored text ran as script).
async function newPage(label) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${label}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`${label}: ${e.message}`));
  page.on('dialog', (d) => { dialogs.push(`${label}: ${d.message()}`); d.dismiss(); });
  return page;
}

async function signIn(page, token) {
  await page.goto(url + '/');
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
  // The end of the first refresh: everything on the page is filled in.
  await page.waitForFunction(() => document.getElementById('updated').textContent !== '');
}

async function sandboxNames(page) {
  return page.$$eval('#sb-list .sb-name', (els) => els.map((e) => e.textContent));
}

async function selectSandbox(page, sb) {
  await page.locator('#sb-list button', { hasText: sb }).first().click();
  await page.waitForFunction((s) => document.getElementById('usage-sb').textContent === s, sb);
  await page.waitForSelector('#usage-body tr');
}

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (make deps installs chromium)`);
  admin = akv(['token', 'create', '--role', 'admin', '--label', 'dashboard test']);
  agent = akv(['--sandbox', 'sb-alpha', 'token', 'create', '--role', 'agent', '--label', 'agent']);
  akv(['seed', '--global']);
  put('sb-alpha', 'system', 'persona.md', 'You review pull requests for agentkv.\n', ['--type', 'text/markdown']);
  // A sandbox's own instruction set, next to _global's bundled ones.
  mkdirSync(path.join(dir, 'sets'));
  writeFileSync(path.join(dir, 'sets', 'house-style.md'),
    '---\nname: house-style\ndescription: Load when you write C for this team: C11, -Werror, one helper per job.\nversion: 2\n---\n# House style\n\nC11, warnings are errors.\n');
  akv(['--sandbox', 'sb-alpha', 'seed', path.join(dir, 'sets')]);
  put('sb-alpha', 'project', 'summary.md', '# Project\nA durable cache for agents.\n'.repeat(40), ['--type', 'text/markdown']);
  put('sb-alpha', 'task', 'plan.json', JSON.stringify({ step: 3, todo: ['tests', 'docs'] }), ['--type', 'application/json']);
  put('sb-alpha', 'task', XSS_KEY, XSS_VALUE, ['--type', 'text/html']);
  put('sb-alpha', 'task', 'scratch/delete-me', 'temporary\n');
  for (let i = 0; i < 30; i++)
    put('sb-alpha', 'artifacts', `reports/r${String(i).padStart(2, '0')}.md`, `report ${i}\n`.repeat(200), ['--type', 'text/markdown']);
  put('sb-beta', 'task', 'secret-of-beta', 'beta only\n');
  // Reads, so that hits and misses are not zero.
  akv(['--sandbox', 'sb-alpha', 'get', 'task', 'plan.json']);
  spawnSync(AGENTKV, ['--dir', store, '--sandbox', 'sb-alpha', 'get', 'task', 'missing']);
  server = await startServer();
  // One write over the task quota, refused: the server counts it.
  const big = await fetch(url + '/v1/sandboxes/sb-alpha/kv/task/too-big', {
    method: 'PUT', body: 'x'.repeat(20 * 1024), headers: { Authorization: 'Bearer ' + admin } });
  assert.equal((await big.json()).error.code, 'quota_exceeded');
  // An agent fetches one instruction set twice: the fetch count shows 2.
  for (let i = 0; i < 2; i++) {
    const r = await fetch(url + '/v1/sandboxes/sb-alpha/kv/instructions/research',
      { headers: { Authorization: 'Bearer ' + agent } });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('the page and its assets carry the security headers, with no token', async () => {
  const r = await fetch(url + '/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  const html = await r.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script in the page');
  const js = await fetch(url + '/ui/app.js');
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  assert.match(js.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  const etag = js.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{64}"$/);
  const again = await fetch(url + '/ui/app.js', { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  const css = await fetch(url + '/ui/app.css', { method: 'HEAD' });
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type'), /^text\/css/);
  const missing = await fetch(url + '/ui/nope.js');
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type'), /^application\/json/);
  assert.equal((await missing.json()).error.code, 'not_found');
});

test('an admin sees every sandbox, the five scopes with usage, and the catalog', async () => {
  const page = await newPage('admin');
  await signIn(page, admin);
  const names = await sandboxNames(page);
  for (const sb of ['_global', 'sb-alpha', 'sb-beta']) assert.ok(names.includes(sb), `${sb} listed: ${names}`);
  await selectSandbox(page, 'sb-alpha');
  const scopes = await page.$$eval('#usage-body tr', (rows) => rows.map((r) => r.dataset.scope));
  assert.deepEqual(scopes, ['system', 'instructions', 'project', 'task', 'artifacts']);
  const task = await page.textContent('#usage-body tr[data-scope=task]');
  assert.match(task, /\d+ B of 16 KiB · \d+\.\d%/, 'bytes against the quota, and % used');
  assert.equal(await page.locator('#usage-body [role=meter]').count(), 5, 'one usage bar per scope');
  // Admins read /metrics: quota rejections and integrity failures are shown.
  await page.waitForFunction(() => /^\d/.test(document.getElementById('sum-integrity').textContent));
  assert.equal(await page.textContent('#sum-quota'), '1');
  assert.equal(await page.textContent('#usage-body tr[data-scope=task] td:last-child'), '1');
  // The catalog merges _global's bundled sets and the sandbox's own.
  await page.waitForSelector('#instr-body tr');
  const instr = await page.textContent('#instr-body');
  assert.match(instr, /house-style/);
  assert.match(instr, /Load when you write C for this team/);
  // Fetch counts come from /metrics: a number (0 before any fetch).
  const fetches = await page.$$eval('#instr-body tr td:last-child', (t) => t.map((x) => x.textContent));
  assert.ok(fetches.length >= 5 && fetches.every((f) => /^\d+$/.test(f)), `fetch counts: ${fetches}`);
  const research = page.locator('#instr-body tr', { hasText: 'research' });
  assert.equal(await research.locator('td:last-child').textContent(), '2');
  await page.waitForSelector('#prompt .saving');
  assert.match(await page.textContent('#prompt'), /Reduction: \d+(\.\d)?%/);
  await page.close();
});

test('the key browser pages, filters, previews, and shows hostile text as text', async () => {
  const page = await newPage('browser');
  await signIn(page, admin);
  await selectSandbox(page, 'sb-alpha');
  // Paging: 30 artifacts at 25 a page.
  await page.selectOption('#keys-scope', 'artifacts');
  await page.waitForFunction(() => document.querySelectorAll('#keys-body tr[data-key]').length === 25);
  await page.click('#keys-next');
  await page.waitForFunction(() => document.querySelectorAll('#keys-body tr[data-key]').length === 5);
  await page.click('#keys-prev');
  await page.waitForFunction(() => document.querySelectorAll('#keys-body tr[data-key]').length === 25);
  // Prefix filter.
  await page.fill('#keys-prefix', 'reports/r1');
  await page.click('#keys-form button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#keys-body tr[data-key]').length === 10);
  // The hostile key: listed as text, no element made of it, no dialog.
  await page.fill('#keys-prefix', '');
  await page.selectOption('#keys-scope', 'task');
  const row = page.locator('#keys-body tr[data-key]', { hasText: XSS_KEY });
  await row.waitFor();
  assert.equal(await row.locator('td.key').textContent(), XSS_KEY);
  assert.equal(await page.locator('main img').count(), 0, 'no <img> from stored text');
  await row.click();
  await page.waitForFunction(() => document.getElementById('entry-preview').textContent.includes('after'));
  assert.equal(await page.textContent('#entry-key'), XSS_KEY);
  assert.equal(await page.textContent('#entry-preview'), XSS_VALUE);
  assert.equal(await page.locator('#entry-preview script').count(), 0);
  assert.match(await page.textContent('#entry-meta'), /text\/html/);
  // Metadata and preview of an ordinary entry.
  await page.locator('#keys-body tr[data-key]', { hasText: 'plan.json' }).click();
  await page.waitForFunction(() => document.getElementById('entry-preview').textContent.includes('"step":3'));
  assert.match(await page.textContent('#entry-meta'), /application\/json/);
  assert.deepEqual(dialogs, [], 'no dialog opened');
  await page.close();
});

test('an admin deletes an entry after confirming', async () => {
  const page = await newPage('delete');
  await signIn(page, admin);
  await selectSandbox(page, 'sb-alpha');
  await page.selectOption('#keys-scope', 'task');
  await page.locator('#keys-body tr[data-key]', { hasText: 'scratch/delete-me' }).click();
  await page.waitForSelector('#entry-delete:not([hidden])');
  await page.click('#entry-delete');
  await page.waitForSelector('#entry-confirm:not([hidden])');
  // Cancel first: nothing is deleted.
  await page.click('#entry-delete-no');
  assert.equal(await page.isHidden('#entry-confirm'), true);
  let r = await fetch(url + '/v1/sandboxes/sb-alpha/kv/task/scratch/delete-me',
    { method: 'HEAD', headers: { Authorization: 'Bearer ' + admin } });
  assert.equal(r.status, 200, 'still there after Cancel');
  await page.click('#entry-delete');
  await page.click('#entry-delete-yes');
  await page.waitForFunction(() => !document.querySelector('#keys-body tr[data-key="scratch/delete-me"]'));
  r = await fetch(url + '/v1/sandboxes/sb-alpha/kv/task/scratch/delete-me',
    { method: 'HEAD', headers: { Authorization: 'Bearer ' + admin } });
  assert.equal(r.status, 404, 'deleted');
  await page.close();
});

test('an agent token sees only its own sandbox, and no delete control', async () => {
  const page = await newPage('agent');
  await signIn(page, agent);
  assert.deepEqual(await sandboxNames(page), ['sb-alpha']);
  assert.match(await page.textContent('#status'), /Agent token/);
  await page.waitForSelector('#usage-body tr[data-scope=artifacts]');
  assert.equal(await page.locator('#usage-body tr').count(), 5);
  assert.equal(await page.textContent('#sum-quota'), 'admin only');
  await page.selectOption('#keys-scope', 'task');
  await page.locator('#keys-body tr[data-key]', { hasText: 'plan.json' }).click();
  await page.waitForFunction(() => document.getElementById('entry-preview').textContent.includes('"step":3'));
  assert.equal(await page.isHidden('#entry-delete'), true);
  const body = await page.textContent('body');
  assert.doesNotMatch(body, /sb-beta|secret-of-beta/);
  await page.close();
});

test('the screenshot of the admin view', async () => {
  const page = await newPage('screenshot');
  await signIn(page, admin);
  await selectSandbox(page, 'sb-alpha');
  await page.selectOption('#keys-scope', 'artifacts');
  // The rows of the artifacts scope, not those of the scope shown before
  // (the list is replaced when its fetch returns).
  await page.waitForSelector('#keys-body tr[data-key^="reports/"]');
  await page.locator('#keys-body tr[data-key^="reports/"]').nth(1).click();
  await page.waitForFunction(() => document.getElementById('entry-preview').textContent.includes('report'));
  await page.waitForSelector('#prompt .saving');
  await page.evaluate(() => window.scrollTo(0, 0));
  const out = process.env.AKV_DASHBOARD_SCREENSHOT || path.join(dir, 'dashboard.png');
  await page.screenshot({ path: out, fullPage: false });
  assert.ok(existsSync(out));
  await page.close();
});

test('no console error and no dialog in any page', () => {
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(dialogs, []);
});

// Last: the server ends cleanly (under ASan, a leak or error would make
// the exit status non-zero).
test('the server exits 0 on SIGTERM', async () => {
  const code = await new Promise((r) => { server.on('exit', (c, sig) => r(sig || c)); server.kill('SIGTERM'); });
  server = null;
  assert.equal(code, 0, serverErr.slice(-2000));
});
