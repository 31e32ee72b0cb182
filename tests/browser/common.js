// Shared launcher for the featvae browser checks: Debian's /usr/bin/chromium driven by playwright-core.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.FEATVAE_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
              '--no-first-run', '--disable-dev-shm-usage'];

// A persistent context on a fresh, throw-away profile directory (playwright refuses --user-data-dir in args).
async function launch({ width = 1400, height = 900 } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'featvae-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width, height },
  });
  const close = async () => {
    try { await context.close(); } finally { fs.rmSync(profile, { recursive: true, force: true }); }
  };
  return { context, close };
}

// Console errors and uncaught page errors, collected per page.
function watch(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console.error: ${m.text()} @ ${JSON.stringify(m.location())}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()} (${r.failure() && r.failure().errorText})`));
  return errors;
}

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

module.exports = { launch, watch, arg };
