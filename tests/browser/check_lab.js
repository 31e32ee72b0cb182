// Drive 09_explore in a running JupyterLab: run all cells, move the k and temperature sliders,
// and report whether the plotly figures' data changed (read from the page), plus any error outputs.
// usage: node check_lab.js --url http://127.0.0.1:PORT/lab/tree/09_explore.ipynb?token=T --shots DIR [--timeout ms]
// Prints one JSON object on stdout; progress lines on stderr.
const path = require('path');
const { launch, watch, arg } = require('./common');

const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);

// JSON of the data of the first plot whose title contains `needle` (null when there is none yet).
async function plotData(page, needle) {
  return page.evaluate((needle) => {
    const el = [...document.querySelectorAll('.js-plotly-plot')].find(
      (e) => e.layout && e.layout.title && String(e.layout.title.text || '').includes(needle));
    if (!el) return null;
    return { title: el.layout.title.text, n_traces: el.data.length,
             data: JSON.stringify(el.data.map((t) => [t.x, t.y])), svg: !!el.querySelector('svg.main-svg') };
  }, needle);
}

async function waitChange(page, needle, before, timeout) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeout) {
    const now = await plotData(page, needle);
    if (now && now.data !== before.data) return { changed: true, after: now, seconds: (Date.now() - t0) / 1000 };
    await page.waitForTimeout(500);
  }
  return { changed: false, after: await plotData(page, needle), seconds: (Date.now() - t0) / 1000 };
}

async function moveSlider(page, label, presses) {
  const slider = page.locator('.widget-slider', { has: page.locator('.widget-label', { hasText: new RegExp(`^${label}$`) }) }).first();
  await slider.scrollIntoViewIfNeeded();
  const readout = async () => (await slider.locator('.widget-readout').innerText().catch(() => '')).trim();
  const before = await readout();
  const handle = slider.locator('.noUi-handle').first();
  await handle.focus();
  for (let i = 0; i < presses; i++) await page.keyboard.press('ArrowRight');
  await page.waitForTimeout(300);
  return { label, readout_before: before, readout_after: await readout() };
}

(async () => {
  const url = arg('url');
  const shots = arg('shots', '');
  const timeout = Number(arg('timeout', '420000'));
  const out = { steps: [] };
  const step = (name, extra = {}) => { out.steps.push({ name, t: new Date().toISOString(), ...extra }); log(name, JSON.stringify(extra).slice(0, 300)); };
  const { context, close } = await launch({ width: 1500, height: 1000 });
  const page = await context.newPage();
  out.console = watch(page);
  try {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120000 });
    await page.waitForSelector('.jp-NotebookPanel .jp-Cell', { timeout: 120000 });
    // a "Select Kernel" dialog appears when the notebook names no kernel: accept the default (Python 3)
    const accept = page.locator('.jp-Dialog .jp-mod-accept');
    if (await accept.isVisible({ timeout: 5000 }).catch(() => false)) { await accept.click(); step('kernel dialog accepted'); }
    await page.waitForFunction(() => document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length > 10, null, { timeout: 60000 });
    await page.waitForSelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', { timeout: 120000 })
      .catch(() => log('kernel not reported idle after 120 s; running anyway'));
    step('notebook open', { cells: await page.locator('.jp-NotebookPanel .jp-Cell').count() });

    await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Run$/ }).click();
    await page.locator('.lm-Menu-item', { has: page.locator('.lm-Menu-itemLabel', { hasText: /^Run All Cells$/ }) }).click();
    step('run all cells clicked');

    // finished when no prompt shows [*] or [ ] and every code cell has an execution count
    const t0 = Date.now();
    let state;
    while (Date.now() - t0 < timeout) {
      await page.waitForTimeout(2000);
      state = await page.evaluate(() => {
        const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map((p) => p.innerText.trim());
        const errs = [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
          .map((e) => e.innerText).filter((t) => /Traceback|Error\b/.test(t));
        return { prompts, errs, busy: prompts.filter((p) => p.includes('*')).length,
                 done: prompts.filter((p) => /\[\d+\]/.test(p)).length };
      });
      if (state.errs.length) break;
      if (state.busy === 0 && state.done === state.prompts.length) break;
    }
    out.run_seconds = (Date.now() - t0) / 1000;
    out.cells = state;
    out.error_outputs = state.errs;
    step('cells executed', { seconds: out.run_seconds, done: state.done, of: state.prompts.length, errors: state.errs.length });
    if (state.errs.length || state.busy) throw new Error(state.errs.length ? 'error output in a cell' : 'cells still running at timeout');

    // the trade-off widget: k slider
    await page.waitForFunction(() => document.querySelectorAll('.js-plotly-plot svg.main-svg').length >= 2, null, { timeout: 60000 });
    const kBefore = await plotData(page, 'k-Same, k=');
    const kMove = await moveSlider(page, 'k', 1);
    out.k = { before_title: kBefore && kBefore.title, n_traces: kBefore && kBefore.n_traces, ...kMove,
              ...(kBefore ? await waitChange(page, 'k-Same, k=', kBefore, 60000) : { changed: false }) };
    out.k.after_title = out.k.after && out.k.after.title; delete out.k.after;
    step('k slider moved', out.k);
    if (shots) {
      const box = page.locator('.jp-OutputArea-output', { has: page.locator('.widget-slider .widget-label', { hasText: /^k$/ }) }).first();
      await box.screenshot({ path: path.join(shots, 'jupyterlab_kanon.png') }).catch((e) => log('kanon shot failed', e.message));
    }

    // the UMAP explorer: temperature slider (the CVAE is the first released set, so it is enabled)
    const tBefore = await plotData(page, 'UMAP');
    const tMove = await moveSlider(page, 'temperature', 1);
    out.temperature = { before_title: tBefore && tBefore.title, n_traces: tBefore && tBefore.n_traces, ...tMove,
                        ...(tBefore ? await waitChange(page, 'UMAP', tBefore, 180000) : { changed: false }) };
    out.temperature.after_title = out.temperature.after && out.temperature.after.title; delete out.temperature.after;
    step('temperature slider moved', out.temperature);
    await page.waitForTimeout(1000);
    if (shots) {
      const box = page.locator('.jp-OutputArea-output', { has: page.locator('.widget-slider .widget-label', { hasText: /^temperature$/ }) }).first();
      await box.scrollIntoViewIfNeeded();
      await box.screenshot({ path: path.join(shots, 'jupyterlab_explorer.png') }).catch((e) => log('explorer shot failed', e.message));
    }
    // errors after the interaction (a failing callback prints into the output area)
    out.error_outputs = await page.evaluate(() => [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map((e) => e.innerText).filter((t) => /Traceback|Error\b/.test(t)));
    await page.keyboard.press('Control+s');
    await page.waitForTimeout(1500);
  } catch (e) {
    out.exception = String(e && e.stack || e);
    log('FAILED:', out.exception);
  } finally {
    if (shots) await page.screenshot({ path: path.join(shots, 'jupyterlab_window.png') }).catch(() => {});
    await close();
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(2); });
