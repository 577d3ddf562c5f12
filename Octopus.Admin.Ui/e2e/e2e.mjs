// End-to-end run of the admin panel in headless Chromium against a real gateway and a mock upstream:
// sign in, change the default password, create a channel on the mock upstream, a group and an API key, send a
// relay request, find it on the Logs page and in the Dashboard totals, then load every page at desktop and
// 375 px in light and dark theme with no console errors, saving screenshots to docs/screenshots/.
//
//   node e2e/e2e.mjs                         real binary: $OCTOPUS_BIN, else ../artifacts/octopus, else `dotnet run`
//   node e2e/e2e.mjs --gateway mock          e2e/mock-gateway.mjs instead (panel work without the Admin API)
//   options: --no-screenshots  --screenshots DIR  --headed  --keep (leave the data dir)
// Needs Debian's chromium (CHROMIUM_PATH overrides /usr/bin/chromium). Talks to 127.0.0.1 only; every wait is bounded.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { startMockUpstream } from './mock-upstream.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const uiDir = resolve(import.meta.dirname, '..');
const repo = resolve(uiDir, '..');
const gatewayKind = opt('--gateway', 'binary');
const shotsDir = resolve(opt('--screenshots', join(repo, 'docs', 'screenshots')));
const takeShots = !args.includes('--no-screenshots');
const NEW_PASSWORD = 'e2e-Password-1';

const results = [];
let failed = 0;
function check(name, ok, detail = '') {
  results.push({ name, ok });
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ' — ' + detail : ''}`);
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function until(what, fn, { timeoutMs = 20000, everyMs = 250 } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`);
}

function startGateway(port, dataDir) {
  const env = {
    ...process.env,
    OCTOPUS_SERVER_HOST: '127.0.0.1',
    OCTOPUS_SERVER_PORT: String(port),
    OCTOPUS_DATABASE_TYPE: 'sqlite',
    OCTOPUS_DATABASE_PATH: join(dataDir, 'data.db'),
    OCTOPUS_LOG_LEVEL: 'warn',
  };
  let cmd, cmdArgs;
  if (gatewayKind === 'mock') {
    cmd = process.execPath;
    cmdArgs = [join(import.meta.dirname, 'mock-gateway.mjs'), '--port', String(port)];
  } else {
    // $OCTOPUS_BIN (the AOT binary), else the Release build (`dotnet build Octopus/Octopus.csproj -c Release`).
    const dll = join(repo, 'Octopus', 'bin', 'Release', 'net10.0', 'octopus.dll');
    const config = ['start', '--config', join(dataDir, 'config.json')];
    if (process.env.OCTOPUS_BIN) {
      cmd = process.env.OCTOPUS_BIN;
      cmdArgs = config;
    } else if (existsSync(dll)) {
      cmd = 'dotnet';
      cmdArgs = [dll, ...config];
    } else {
      throw new Error(`no gateway: set OCTOPUS_BIN or run \`dotnet build Octopus/Octopus.csproj -c Release\` (${dll} is missing)`);
    }
  }
  const child = spawn(cmd, cmdArgs, { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return { child, output: () => output };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'octopus-e2e-'));
  const upstream = await startMockUpstream(0, { key: 'sk-upstream-e2e' });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const gateway = startGateway(port, dataDir);
  let browser;
  try {
    await until('the gateway to answer /healthz', async () => (await fetch(base + '/healthz')).ok, { timeoutMs: 120000, everyMs: 500 });
    check('gateway starts', true, `${gatewayKind} on ${base}`);

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: !args.includes('--headed'),
      args: ['--no-sandbox'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', acceptDownloads: true });
    const page = await context.newPage();
    const consoleErrors = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(`${page.url()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
    const tid = (id) => page.getByTestId(id);

    // ---- sign in and the forced password change
    await page.goto(base + '/');
    await tid('login-password').fill('admin');
    await tid('login-submit').click();
    await tid('forced-password-change').waitFor({ timeout: 10000 });
    check('default password forces a change', true);
    await tid('password-old').fill('admin');
    await tid('password-new').fill(NEW_PASSWORD);
    await tid('password-repeat').fill(NEW_PASSWORD);
    await tid('password-submit').click();
    await tid('nav').waitFor({ timeout: 10000 });
    check('password changed, panel opens', true);

    // ---- channel on the mock upstream
    await tid('nav-channels').click();
    await tid('channel-new').first().click();
    await tid('channel-name').fill('mock-openai');
    await tid('channel-type').selectOption('openai');
    await tid('channel-base-urls').fill(`http://127.0.0.1:${upstream.port}/v1`);
    await tid('channel-keys-input').fill('sk-upstream-e2e');
    await tid('channel-models').fill('gpt-4o-mini');
    await tid('channel-save').click();
    const card = tid('channel-card').filter({ hasText: 'mock-openai' });
    await card.waitFor({ timeout: 10000 });
    check('channel created', true);
    await card.getByTestId('channel-test').click();
    const testResult = await card.getByTestId('channel-test-result').textContent({ timeout: 15000 });
    check('channel test reaches the mock upstream', !/^\s*(!|\d{3}|0)\s*$/.test(testResult ?? ''), `result: ${testResult}`);

    // ---- group
    await tid('nav-groups').click();
    await tid('group-new').first().click();
    await tid('group-name').fill('gpt-4o-mini');
    await tid('group-add-member').click();
    await tid('member-model').first().fill('gpt-4o-mini');
    await tid('group-save').click();
    await tid('group-card').filter({ hasText: 'gpt-4o-mini' }).waitFor({ timeout: 10000 });
    check('group created', true);

    // ---- API key
    await tid('nav-keys').click();
    await tid('key-new').first().click();
    await tid('key-name').fill('e2e');
    await tid('key-budget').fill('5');
    await tid('key-save').click();
    const secret = (await tid('key-secret').textContent({ timeout: 10000 }))?.trim() ?? '';
    check('API key secret shown once', secret.length > 10);
    await tid('key-created-done').click();

    // ---- a relay request with that key
    const relay = await fetch(base + '/v1/chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${secret}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    });
    const relayBody = await relay.json().catch(() => null);
    check('relay request succeeds', relay.status === 200 && !!relayBody?.choices?.[0]?.message?.content, `status ${relay.status}`);

    // ---- it shows on the Logs page (the log writer may batch: refresh until it appears)
    await tid('nav-logs').click();
    await until('the request on the Logs page', async () => {
      await tid('logs-refresh').click();
      return (await tid('log-row').count()) > 0;
    });
    await tid('log-row').first().click();
    await tid('log-detail').waitFor({ timeout: 10000 });
    const status = await tid('log-detail-status').textContent();
    check('request listed in Logs with its detail', status?.trim() === '200', `status ${status}`);
    await page.keyboard.press('Escape');

    // ---- and in the Dashboard totals
    await tid('nav-dashboard').click();
    await until('dashboard totals to count the request', async () => {
      await page.reload();
      const text = await tid('total-requests').textContent({ timeout: 5000 });
      return Number((text ?? '').replace(/[^0-9]/g, '')) >= 1;
    });
    check('dashboard totals count the request', true);

    // ---- a settings change is saved and read back
    await tid('nav-settings').click();
    await tid('setting-log-retention').fill('14');
    await tid('settings-save').click();
    await tid('toast-ok').first().waitFor({ timeout: 10000 });
    await page.reload();
    check('settings change persists', (await tid('setting-log-retention').inputValue({ timeout: 10000 })) === '14');

    // ---- every page, desktop and phone, light and dark
    const pages = [
      ['dashboard', '/'],
      ['channels', '/channels'],
      ['groups', '/groups'],
      ['keys', '/keys'],
      ['prices', '/prices'],
      ['logs', '/logs'],
      ['settings', '/settings'],
    ];
    if (takeShots) mkdirSync(shotsDir, { recursive: true });
    for (const [viewName, viewport] of [
      ['desktop', { width: 1280, height: 800 }],
      ['mobile', { width: 375, height: 812 }],
    ]) {
      await page.setViewportSize(viewport);
      for (const themeName of ['light', 'dark']) {
        await page.evaluate((t) => localStorage.setItem('octopus.theme', t), themeName);
        for (const [name, path] of pages) {
          const before = consoleErrors.length;
          await page.goto(base + path);
          await page.waitForLoadState('networkidle', { timeout: 15000 }).catch(() => {});
          await page.waitForTimeout(300);
          // Neither the page nor a table inside it may need sideways scrolling.
          const overflow = await page.evaluate(() =>
            Math.max(
              document.documentElement.scrollWidth - window.innerWidth,
              ...[...document.querySelectorAll('.table-wrap')].map((e) => e.scrollWidth - e.clientWidth),
            ),
          );
          const errors = consoleErrors.slice(before);
          check(`${name} ${viewName} ${themeName}: no console errors${viewName === 'mobile' ? ', no sideways scroll' : ''}`, errors.length === 0 && (viewName !== 'mobile' || overflow <= 1), errors.join(' | ') || (overflow > 1 ? `overflows by ${overflow}px` : ''));
          if (takeShots) await page.screenshot({ path: join(shotsDir, `${name}-${viewName}-${themeName}.png`), fullPage: viewName === 'desktop' });
        }
      }
    }

    // ---- the sign-in page itself, for the record
    if (takeShots) {
      const fresh = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await fresh.goto(base + '/');
      await fresh.evaluate(() => localStorage.clear());
      await fresh.reload();
      await fresh.getByTestId('login-form').waitFor();
      await fresh.screenshot({ path: join(shotsDir, 'login-desktop-light.png') });
      await fresh.setViewportSize({ width: 375, height: 812 });
      await fresh.screenshot({ path: join(shotsDir, 'login-mobile-light.png') });
    }
  } catch (e) {
    check('run completes', false, e.message);
    console.error(gateway.output().slice(-4000));
  } finally {
    await browser?.close().catch(() => {});
    gateway.child.kill('SIGTERM');
    upstream.server.close();
    if (!args.includes('--keep')) rmSync(dataDir, { recursive: true, force: true });
    else console.log('data kept in ' + dataDir);
  }
  const passed = results.filter((r) => r.ok).length;
  console.log(`\ne2e: ${passed} passed, ${failed} failed`);
  writeFileSync(join(tmpdir(), 'octopus-e2e-last.json'), JSON.stringify(results, null, 2));
  process.exit(failed ? 1 : 0);
}

main();
