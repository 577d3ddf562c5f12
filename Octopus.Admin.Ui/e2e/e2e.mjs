// End-to-end run of the admin panel in headless Chromium against the real gateway and a mock upstream:
// sign in and change the default password, save settings (proxy set and cleared, a local price source, body
// capture), sync prices and override one, create a channel on the mock upstream (test it, sync its models), a group
// and an API key, send relay requests with that key (JSON, SSE, an upstream failure and an unknown model), find them
// on the Logs page (filters, detail with attempts and bodies) and in the Dashboard totals, export and re-import a
// backup, then load every page at desktop and 375 px in light and dark theme with no console errors and no sideways
// scrolling, saving screenshots to docs/screenshots/.
//
//   node e2e/e2e.mjs                  real gateway: $OCTOPUS_BIN (the AOT binary), else the Release build run with
//                                     `dotnet Octopus/bin/Release/net10.0/octopus.dll`
//   node e2e/e2e.mjs --gateway mock   e2e/mock-gateway.mjs instead (panel work without the gateway)
//   options: --no-screenshots  --screenshots DIR  --headed  --keep (leave the data dir)
// Needs Debian's chromium (CHROMIUM_PATH overrides /usr/bin/chromium). Talks to 127.0.0.1 only; every wait is
// bounded, and the whole run stops itself after RUN_TIMEOUT_MS.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { FAIL_PROMPT, startMockUpstream } from './mock-upstream.mjs';

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
const UPSTREAM_KEY = 'sk-upstream-e2e-0123456789';
const RUN_TIMEOUT_MS = 240_000;
const DESKTOP = { width: 1280, height: 800 };
const MOBILE = { width: 375, height: 812 };
// Per /work/.library/env/machines/dotnet.md: no background traffic off the machine (its network is closed).
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const results = [];
let failed = 0;
function check(name, ok, detail = '') {
  results.push({ name, ok, detail });
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ' — ' + detail : ''}`);
  return ok;
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
  // A first start must ask for the password change: never inherit a preset admin password.
  delete env.OCTOPUS_ADMIN_PASSWORD;
  let cmd, cmdArgs;
  if (gatewayKind === 'mock') {
    cmd = process.execPath;
    cmdArgs = [join(import.meta.dirname, 'mock-gateway.mjs'), '--port', String(port)];
  } else {
    const dll = join(repo, 'Octopus', 'bin', 'Release', 'net10.0', 'octopus.dll');
    const start = ['start', '--config', join(dataDir, 'config.json')];
    if (process.env.OCTOPUS_BIN) {
      cmd = process.env.OCTOPUS_BIN;
      cmdArgs = start;
    } else if (existsSync(dll)) {
      cmd = 'dotnet';
      cmdArgs = [dll, ...start];
    } else {
      throw new Error(`no gateway: set OCTOPUS_BIN or run \`dotnet build Octopus/Octopus.csproj -c Release\` (${dll} is missing)`);
    }
  }
  const child = spawn(cmd, cmdArgs, { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((r) => child.once('exit', r));
  return { child, exited, output: () => output };
}

/** Stops the gateway: SIGTERM, then SIGKILL after 10 s. */
async function stopGateway(gateway) {
  if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) return;
  gateway.child.kill('SIGTERM');
  const timer = setTimeout(() => gateway.child.kill('SIGKILL'), 10000);
  await gateway.exited;
  clearTimeout(timer);
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'octopus-e2e-'));
  const profileDir = mkdtempSync(join(tmpdir(), 'octopus-e2e-chromium-'));
  const upstream = await startMockUpstream(0, { key: UPSTREAM_KEY });
  const upstreamBase = `http://127.0.0.1:${upstream.port}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let gateway;
  let context;
  const watchdog = setTimeout(() => {
    console.error(`e2e: still running after ${RUN_TIMEOUT_MS / 1000} s, giving up`);
    gateway?.child.kill('SIGKILL');
    process.exit(2);
  }, RUN_TIMEOUT_MS);
  const started = Date.now();
  try {
    gateway = startGateway(port, dataDir);
    await until('the gateway to answer /healthz', async () => {
      if (gateway.child.exitCode !== null) throw new Error(`gateway exited with ${gateway.child.exitCode}`);
      return (await fetch(base + '/healthz')).ok;
    }, { timeoutMs: 60000, everyMs: 250 });
    check('gateway starts', true, `${gatewayKind} on ${base}`);

    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: !args.includes('--headed'),
      args: args.includes('--headed') ? CHROMIUM_ARGS.filter((a) => a !== '--headless') : CHROMIUM_ARGS,
      viewport: DESKTOP,
      locale: 'en-US',
      timezoneId: 'UTC',
      acceptDownloads: true,
    });
    context.setDefaultTimeout(10000);
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(`${page.url()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
    const tid = (id) => page.getByTestId(id);
    /** Waits (bounded) until no finite animation runs, so a drawer is not caught half open. */
    const settle = () =>
      page
        .waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getComputedTiming().iterations === Infinity), null, { timeout: 3000 })
        .catch(() => {});
    const shot = async (name) => {
      if (!takeShots) return;
      await settle();
      await page.screenshot({ path: join(shotsDir, `${name}.png`) });
    };
    const setTheme = (mode) => page.evaluate((t) => localStorage.setItem('octopus.theme', t), mode);
    /** The Admin API with the panel's own token, for checks the page does not show. */
    const adminGet = async (path) => {
      const token = await page.evaluate(() => JSON.parse(localStorage.getItem('octopus.session') ?? '{}').token);
      const res = await fetch(base + '/api/v1' + path, { headers: { Authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const closeToasts = async () => {
      for (let i = 0; i < 10 && (await page.locator('.toast').count()) > 0; i++) await page.locator('.toast button').first().click({ timeout: 2000 }).catch(() => {});
    };
    /** Runs an action that must end in a success notice (an error notice fails with its text); returns the text. */
    const expectOk = async (what, action) => {
      await closeToasts();
      await action();
      const toast = page.locator('.toast').first();
      await toast.waitFor({ timeout: 15000 });
      const kind = await toast.getAttribute('data-testid');
      const text = ((await toast.textContent()) ?? '').trim();
      if (kind !== 'toast-ok') throw new Error(`${what}: ${text}`);
      await closeToasts();
      return text;
    };
    if (takeShots) mkdirSync(shotsDir, { recursive: true });

    // ---- sign in and the forced password change
    await page.goto(base + '/');
    await tid('login-form').waitFor();
    await setTheme('light');
    await page.reload();
    await tid('login-form').waitFor();
    await shot('login-desktop-light');
    await page.setViewportSize(MOBILE);
    await shot('login-mobile-light');
    await page.setViewportSize(DESKTOP);
    await tid('login-password').fill('admin');
    await tid('login-submit').click();
    await tid('forced-password-change').waitFor();
    check('default password forces a change', true);
    await shot('password-change-desktop-light');
    await tid('password-old').fill('admin');
    await tid('password-new').fill(NEW_PASSWORD);
    await tid('password-repeat').fill(NEW_PASSWORD);
    await tid('password-submit').click();
    await tid('nav').waitFor();
    check('password changed, panel opens', true);
    const me = await adminGet('/auth/me');
    check('gateway no longer asks for a password change', me.must_change_password === false);

    // ---- settings: a proxy set and cleared again ("" not null), a local price source, body capture
    await tid('nav-settings').click();
    await tid('setting-proxy').fill('http://127.0.0.1:9');
    await expectOk('save a proxy', () => tid('settings-save').click());
    await tid('setting-proxy').fill('');
    await expectOk('clear the proxy', () => tid('settings-save').click());
    check('settings: proxy cleared', (await adminGet('/settings')).proxy === '');
    await tid('setting-log-retention').fill('14');
    await tid('setting-body-capture').selectOption('all');
    await tid('setting-price-source').fill(`${upstreamBase}/models-dev.json`);
    await expectOk('save settings', () => tid('settings-save').click());
    await page.reload();
    check(
      'settings change persists',
      (await tid('setting-log-retention').inputValue()) === '14' &&
        (await tid('setting-body-capture').inputValue()) === 'all' &&
        (await tid('setting-price-source').inputValue()) === `${upstreamBase}/models-dev.json`,
    );

    // ---- prices: sync from the local source, override one, reset it (DELETE → 204)
    await tid('nav-prices').click();
    await expectOk('sync prices', () => tid('price-sync').click());
    const priceRows = tid('price-row');
    await until('synced prices listed', async () => (await priceRows.count()) >= 5);
    check('prices synced from the price source', true, `${await priceRows.count()} rows`);
    const gpt4o = priceRows.filter({ has: page.locator('td.model', { hasText: /^\W*gpt-4o$/ }) });
    await gpt4o.getByTestId('price-edit').click();
    await tid('price-output').fill('7');
    await expectOk('override a price', () => tid('price-save').click());
    const overridden = (await adminGet('/prices')).find((p) => p.model === 'gpt-4o');
    check('price override saved', overridden?.source === 'user' && overridden.output === 7 && overridden.synced?.output === 10);
    await gpt4o.getByTestId('price-reset').click();
    await expectOk('reset a price', () => tid('confirm-ok').click());
    const restored = (await adminGet('/prices')).find((p) => p.model === 'gpt-4o');
    check('price override reset to the synced price', restored?.source === 'synced' && restored.output === 10);
    await tid('price-new').click();
    await tid('price-model').fill('openrouter/e2e-model');
    await tid('price-input').fill('1');
    await tid('price-output').fill('2');
    await expectOk('add a price for a model with a slash', () => tid('price-save').click());
    const slashed = (await adminGet('/prices')).find((p) => p.model.includes('e2e-model'));
    check('price for a model name with a slash', slashed?.model === 'openrouter/e2e-model' && slashed.source === 'user', slashed?.model);

    // ---- channel on the mock upstream: create, test, sync its models
    await tid('nav-channels').click();
    await tid('channel-new').first().click();
    await tid('channel-name').fill('mock-openai');
    await tid('channel-type').selectOption('openai');
    await tid('channel-base-urls').fill(`${upstreamBase}/v1`);
    await tid('channel-keys-input').fill(UPSTREAM_KEY);
    await tid('channel-models').fill('gpt-4o-mini');
    await tid('channel-save').click();
    const card = tid('channel-card').filter({ hasText: 'mock-openai' });
    await card.waitFor();
    check('channel created', true);
    await closeToasts();
    await card.getByTestId('channel-test').click();
    const testResult = await card.getByTestId('channel-test-result').textContent({ timeout: 15000 });
    check('channel test reaches the mock upstream', /\bms\b|\bs\b/.test(testResult ?? '') && (await card.getByTestId('channel-test-error').count()) === 0, `result: ${testResult}`);
    await card.getByTestId('channel-edit').click();
    const syncToast = await expectOk('sync channel models', () => tid('channel-sync-models').click());
    check('channel models synced from the upstream', syncToast.includes('2 models (2 added, 0 removed)'), syncToast.trim());
    await tid('channel-upstream-models').waitFor();
    if (takeShots) await shot('channel-editor-desktop-light');
    await tid('channel-save').click();
    await tid('channel-save').waitFor({ state: 'detached' });
    await closeToasts();
    const channel = (await adminGet('/channels')).find((c) => c.name === 'mock-openai');
    check('channel keeps its key and stores synced models', channel?.keys.length === 1 && channel.synced_models.join() === 'gpt-4o-mini,gpt-4o', JSON.stringify(channel?.synced_models));

    // ---- group
    await tid('nav-groups').click();
    await tid('group-new').first().click();
    await tid('group-name').fill('gpt-4o-mini');
    await tid('group-add-member').click();
    await tid('member-model').first().fill('gpt-4o-mini');
    await tid('group-save').click();
    await tid('group-card').filter({ hasText: 'gpt-4o-mini' }).waitFor();
    check('group created', true);

    // ---- API keys: one kept, one deleted again (DELETE → 204)
    await tid('nav-keys').click();
    await tid('key-new').first().click();
    await tid('key-name').fill('e2e');
    await tid('key-budget').fill('5');
    await tid('key-save').click();
    const secret = (await tid('key-secret').textContent())?.trim() ?? '';
    check('API key secret shown once', secret.startsWith('sk-') && secret.length > 20);
    await tid('key-created-done').click();
    await tid('key-new').first().click();
    await tid('key-name').fill('temporary');
    await tid('key-save').click();
    await tid('key-created-done').click();
    await tid('key-row').filter({ hasText: 'temporary' }).getByTestId('key-delete').click();
    await tid('confirm-ok').click();
    await until('the deleted key to leave the list', async () => (await tid('key-row').count()) === 1);
    check('API key deleted', (await adminGet('/api-keys')).map((k) => k.name).join() === 'e2e');
    await closeToasts();

    // ---- relay requests with that key: JSON, SSE, and a model no group serves
    const relay = (body) =>
      fetch(base + '/v1/chat/completions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${secret}` },
        body: JSON.stringify(body),
      });
    const plain = await relay({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    const plainBody = await plain.json().catch(() => null);
    check('relay request succeeds', plain.status === 200 && plainBody?.choices?.[0]?.message?.content === 'Hello from the mock upstream.', `status ${plain.status}`);
    const streamed = await relay({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream please' }] });
    const sse = await streamed.text();
    check('streamed relay request succeeds', streamed.status === 200 && sse.includes('the mock upstream.') && sse.trimEnd().endsWith('data: [DONE]'), `status ${streamed.status}`);
    const broken = await relay({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: FAIL_PROMPT }] });
    await broken.text();
    check('upstream failure reaches the client', broken.status >= 500, `status ${broken.status}`);
    const unknown = await relay({ model: 'no-such-model', messages: [{ role: 'user', content: 'hello' }] });
    await unknown.text();
    check('unknown model is refused', unknown.status === 404, `status ${unknown.status}`);
    const SENT = 4;
    // Stats count requests that reached a group; the unknown model is only a log line.
    const ROUTED = 3;

    // ---- they show on the Logs page (the log writer batches: refresh until all are there)
    await tid('nav-logs').click();
    await until('the requests on the Logs page', async () => {
      await tid('logs-refresh').click();
      await page.waitForTimeout(150);
      return (await tid('log-row').count()) === SENT;
    });
    check('requests listed in Logs', true, `${SENT} rows`);
    const rowStatuses = async () => (await tid('log-row').locator('.badge').allTextContents()).filter((s) => /^\d{3}$/.test(s.trim())).map((s) => s.trim());
    await tid('log-row').filter({ hasText: 'SSE' }).first().click();
    await tid('log-detail').waitFor();
    await tid('log-attempts').waitFor();
    const detailStatus = (await tid('log-detail-status').textContent())?.trim();
    const attempts = await tid('log-attempts').locator('li').count();
    const bodies = (await tid('log-body').allTextContents()).join('\n');
    check('log detail shows status, attempt and captured bodies', detailStatus === '200' && attempts === 1 && bodies.includes('stream please'), `status ${detailStatus}, ${attempts} attempt(s), body ${bodies.length} chars`);
    await shot('log-detail-desktop-light');
    await page.keyboard.press('Escape');
    await tid('log-detail').waitFor({ state: 'detached' });
    const filterStatus = async (value) => {
      if (!(await tid('log-filter-status').isVisible())) await page.locator('.filters-toggle').click();
      await tid('log-filter-status').selectOption(value);
      await until(`the ${value || 'all'} filter to apply`, async () => new URL(page.url()).searchParams.get('status') === (value || null));
      await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
      await page.waitForTimeout(200);
      return rowStatuses();
    };
    const okRows = await filterStatus('ok');
    check('logs filter status=ok', okRows.join() === '200,200', okRows.join());
    const errorRows = await filterStatus('error');
    check('logs filter status=error', errorRows.length === 2 && errorRows.includes('404') && errorRows.some((s) => s.startsWith('5')), errorRows.join());
    const codeRows = await filterStatus('429');
    check('logs filter by exact code', codeRows.length === 0 && (await tid('logs-empty').count()) === 1, codeRows.join());
    await filterStatus('');

    // ---- and in the Dashboard totals (stored rows plus what the aggregator still holds)
    await tid('nav-dashboard').click();
    await until('dashboard totals to count the requests', async () => {
      const text = await tid('total-requests').textContent({ timeout: 5000 });
      if (Number((text ?? '').replace(/[^0-9]/g, '')) === ROUTED) return true;
      await page.reload();
      return false;
    });
    check('dashboard totals count the requests', true, `${ROUTED} requests`);
    const failedText = (await tid('total-requests').locator('xpath=..').textContent()) ?? '';
    check('dashboard shows the failed one', /\b1 failed\b/.test(failedText), failedText.replace(/\s+/g, ' ').trim());
    const summary = await adminGet('/stats/summary');
    check('stats summary counts them with their cost', summary.requests === ROUTED && summary.failed === 1 && summary.cost > 0 && summary.cache_read_tokens === 2048, JSON.stringify(summary));
    const topChannel = (await tid('top-channel').textContent()) ?? '';
    check('dashboard top channels name the channel', topChannel.includes('mock-openai'), topChannel.replace(/\s+/g, ' ').trim());
    const feedRows = await page.getByTestId('live-feed').locator('tbody tr').count();
    check('dashboard live feed lists the requests', feedRows === SENT, `${feedRows} rows`);

    // ---- the channel card counts its traffic (stats/top keys channels by id)
    await tid('nav-channels').click();
    // The two served requests and the one whose attempts all failed on this channel (it counts against the last
    // channel tried); the unknown-model request reached no channel.
    const requests24h = tid('channel-card').filter({ hasText: 'mock-openai' }).getByTestId('channel-requests');
    const served = await until('the channel card to count its requests', async () => ((await requests24h.textContent())?.trim() === '3' ? '3' : null), { timeoutMs: 5000 }).catch(() => requests24h.textContent());
    check('channel card shows its 24 h requests', served === '3', `requests ${served}`);
    // Recent health: the relay's attempts through this channel, two served and one failed.
    const healthText = ((await tid('channel-card').filter({ hasText: 'mock-openai' }).getByTestId('channel-health').textContent()) ?? '').replace(/\s+/g, ' ').trim();
    check('channel card shows recent success rate and last error', /ok of 3\b/.test(healthText) && healthText.includes('Last error'), healthText);

    // ---- key self-service: the key alone opens its own page (no admin session involved)
    await page.goto(base + '/self');
    await tid('self-key').fill(secret);
    await tid('self-submit').click();
    const selfName = (await tid('self-name').textContent({ timeout: 10_000 }))?.trim();
    const selfBudget = ((await tid('self-budget').textContent()) ?? '').replace(/\s+/g, ' ');
    check('key self-service page shows the key and its budget', selfName === 'e2e' && selfBudget.includes('$5.00'), `${selfName}: ${selfBudget}`);
    await shot('self-service-desktop-light');
    await tid('self-signout').click();
    await page.goto(base + '/channels');
    await tid('channel-card').first().waitFor();

    // ---- backup: export with keys, import the same file back (replaces the configuration, keeping ids)
    await tid('nav-settings').click();
    await tid('backup-include-keys').check();
    const [download] = await Promise.all([page.waitForEvent('download'), tid('backup-export').click()]);
    const backupPath = join(dataDir, 'backup.json');
    await download.saveAs(backupPath);
    const backup = JSON.parse(readFileSync(backupPath, 'utf8'));
    check(
      'backup export holds the configuration with key secrets',
      /\.json$/.test(download.suggestedFilename()) && backup.includes_keys === true && backup.channels[0]?.keys[0]?.key === UPSTREAM_KEY &&
        backup.groups.length === 1 && backup.api_keys.map((k) => k.name).join() === 'e2e',
      download.suggestedFilename(),
    );
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), tid('backup-import').click()]);
    await chooser.setFiles(backupPath);
    await expectOk('import the backup', () => tid('confirm-ok').click());
    const afterImport = await adminGet('/channels');
    check('backup import restores the same configuration', afterImport.length === 1 && afterImport[0].id === channel.id && afterImport[0].keys.length === 1 && (await adminGet('/settings')).log_retention_days === 14);

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
    for (const [viewName, viewport] of [
      ['desktop', DESKTOP],
      ['mobile', MOBILE],
    ]) {
      await page.setViewportSize(viewport);
      for (const themeName of ['light', 'dark']) {
        await setTheme(themeName);
        for (const [name, path] of pages) {
          const before = consoleErrors.length;
          await page.goto(base + path);
          await tid('nav').waitFor({ state: 'attached' });
          await page.waitForLoadState('networkidle', { timeout: 10000 }).catch(() => {});
          await page.waitForTimeout(200);
          // Neither the page nor a table inside it may need sideways scrolling.
          const overflow = await page.evaluate(() =>
            Math.max(
              document.documentElement.scrollWidth - window.innerWidth,
              ...[...document.querySelectorAll('.table-wrap')].map((e) => e.scrollWidth - e.clientWidth),
            ),
          );
          const dark = await page.evaluate(() => document.documentElement.dataset.theme ?? document.documentElement.className);
          const errors = consoleErrors.slice(before);
          check(
            `${name} ${viewName} ${themeName}: no console errors${viewName === 'mobile' ? ', no sideways scroll' : ''}`,
            errors.length === 0 && (viewName !== 'mobile' || overflow <= 1) && String(dark).includes(themeName),
            errors.join(' | ') || (overflow > 1 ? `overflows by ${overflow}px` : String(dark).includes(themeName) ? '' : `theme is "${dark}"`),
          );
          await shot(`${name}-${viewName}-${themeName}`);
        }
      }
    }

    // ---- the log detail on a phone, for the record
    await page.goto(base + '/logs');
    await tid('log-row').first().click();
    await tid('log-detail').waitFor();
    await page.waitForTimeout(300);
    await shot('log-detail-mobile-dark');
    check('no console errors in the whole run', consoleErrors.length === 0, consoleErrors.join(' | '));
  } catch (e) {
    check('run completes', false, e.message.split('\n')[0]);
    console.error(e.stack);
    if (gateway) console.error('--- gateway output (tail)\n' + gateway.output().slice(-4000));
  } finally {
    await context?.close().catch(() => {});
    if (gateway) await stopGateway(gateway);
    upstream.server.close();
    clearTimeout(watchdog);
    rmSync(profileDir, { recursive: true, force: true });
    if (!args.includes('--keep')) rmSync(dataDir, { recursive: true, force: true });
    else console.log('data kept in ' + dataDir);
  }
  const passed = results.filter((r) => r.ok).length;
  console.log(`\ne2e: ${passed} passed, ${failed} failed in ${Math.round((Date.now() - started) / 1000)} s`);
  writeFileSync(join(tmpdir(), 'octopus-e2e-last.json'), JSON.stringify(results, null, 2));
  process.exit(failed ? 1 : 0);
}

main();
