// Drive a notebook in a running JupyterLab and report what the page shows, as one JSON object on stdout
// (progress lines on stderr).
//   --mode explore (09_explore): run all cells; check the k-anonymity figure (traces on their axes, legend clear of
//     the axis titles, hover text), move its k slider; check the UMAP explorer (marker legend, class list without
//     scrolling), press the temperature slider's arrow key three times (one redraw expected), pick one class (the
//     sample-size note); then reload the page (the widgets must come back as they were) and re-run the two widget
//     cells (a complete, styled figure that matches the controls).
//   --mode runall (any notebook, e.g. the tutorial): run all cells, report error outputs, screenshot every figure.
//   --mode gallery (08a_release): run all cells; read the audit gallery widget (rows, images decoded, red rows), move
//     its slider three steps to the right (three more rows expected) and screenshot it.
// usage: node check_lab.js --url http://127.0.0.1:PORT/lab/tree/NB.ipynb?token=T --shots DIR [--timeout ms] [--mode explore|runall|gallery]
const path = require('path');
const { launch, watch, arg } = require('./common');

const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);
const KANON = 'k-Same, k=';
const UMAP = 'UMAP';

// ---------------------------------------------------------------------------------------------------------------
// reading the page

// What the first plot whose title contains `needle` shows (null when there is none yet).
async function plotInfo(page, needle) {
  return page.evaluate((needle) => {
    const el = [...document.querySelectorAll('.js-plotly-plot')].find(
      (e) => e.layout && e.layout.title && String(e.layout.title.text || '').includes(needle) && e._fullData);
    if (!el) return null;
    const fl = el._fullLayout;
    return { title: fl.title.text, subtitle: (fl.title.subtitle && fl.title.subtitle.text) || '',
             bg: fl.plot_bgcolor, n_traces: el.data.length, svg: !!el.querySelector('svg.main-svg'),
             axes: el._fullData.map((t) => `${t.xaxis}${t.yaxis}`),
             names: el._fullData.map((t) => t.name),
             legend: [...el.querySelectorAll('.legend .traces .legendtext')].map((t) => t.textContent),
             data: JSON.stringify(el.data.map((t) => [t.x, t.y])) };
  }, needle);
}

// Per subplot: traces in the figure's data and trace groups drawn in the SVG; plus the legend's overlaps.
async function layoutReport(page, needle) {
  return page.evaluate((needle) => {
    const el = [...document.querySelectorAll('.js-plotly-plot')].find(
      (e) => e.layout && e.layout.title && String(e.layout.title.text || '').includes(needle));
    if (!el) return null;
    const per = {}, drawn = {};
    for (const t of el._fullData) per[`${t.xaxis}${t.yaxis}`] = (per[`${t.xaxis}${t.yaxis}`] || 0) + 1;
    for (const sp of Object.keys(per)) drawn[sp] = el.querySelectorAll(`.subplot.${sp} .scatterlayer .trace`).length;
    const box = (e) => { const r = e.getBoundingClientRect(); return { x0: r.left, y0: r.top, x1: r.right, y1: r.bottom }; };
    const hit = (a, b) => Math.min(a.x1, b.x1) > Math.max(a.x0, b.x0) && Math.min(a.y1, b.y1) > Math.max(a.y0, b.y0);
    const legend = el.querySelector('.legend .bg') || el.querySelector('.legend');
    const others = [...el.querySelectorAll('.infolayer [class*="title"] text, .draglayer .nsewdrag')]
      .filter((e) => !e.closest('.legend'))
      .map((e) => ({ what: e.getAttribute('class') + (e.textContent ? `: ${e.textContent.slice(0, 40)}` : ''), b: box(e) }));
    const lb = legend ? box(legend) : null;
    const x = (ax) => { const t = el.querySelector(`.infolayer .g-${ax}title text`); return t ? t.textContent : null; };
    return { per_subplot: per, drawn, legend_box: lb, overlaps: lb ? others.filter((o) => hit(lb, o.b)).map((o) => o.what) : ['no legend'],
             axis_titles: { x: x('x'), x2: x('x2'), x3: x('x3'), y2: x('y2') } };
  }, needle);
}

// Hover the mouse over point `point` of the trace named `name` on subplot `xa`/`ya`; return the hover label's lines.
async function hoverLines(page, needle, name, xa, ya, point) {
  const pos = await page.evaluate(([needle, name, xa, ya, point]) => {
    const el = [...document.querySelectorAll('.js-plotly-plot')].find(
      (e) => e.layout && e.layout.title && String(e.layout.title.text || '').includes(needle));
    const t = el && el._fullData.find((d) => d.name === name && d.xaxis === xa);
    if (!t) return null;
    const X = el._fullLayout[xa.replace('x', 'xaxis')], Y = el._fullLayout[ya.replace('y', 'yaxis')];
    el.scrollIntoView({ block: 'center' });        // the mouse can only hover what is on screen
    const r = el.getBoundingClientRect();
    return { x: r.left + X._offset + X.l2p(t.x[point]), y: r.top + Y._offset + Y.l2p(t.y[point]), text: t.text && t.text[point] };
  }, [needle, name, xa, ya, point]);
  if (!pos) return { lines: null, why: `no trace ${name} on ${xa}` };
  await page.waitForTimeout(300);
  await page.mouse.move(pos.x - 30, pos.y - 30);
  await page.mouse.move(pos.x, pos.y, { steps: 5 });
  await page.waitForTimeout(800);
  const lines = await page.evaluate(() => {
    const t = document.querySelector('.hoverlayer .hovertext text.nums');
    if (!t) return null;
    const spans = [...t.querySelectorAll('tspan.line')];
    return spans.length ? spans.map((s) => s.textContent) : [t.textContent];
  });
  await page.mouse.move(5, 5);
  return { point_text: pos.text, at: [Math.round(pos.x), Math.round(pos.y)], lines };
}

const errorOutputs = (page) => page.evaluate(() => [...document.querySelectorAll(
  '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')].map((e) => e.innerText)
  .filter((t) => /Traceback|Error\b/.test(t)));

const widgetProblems = (page) => page.evaluate(() => [...document.querySelectorAll('.jp-OutputArea-output')]
  .map((e) => e.innerText).filter((t) => /model not found|Error displaying widget|Loading widget/.test(t)).map((t) => t.slice(0, 200)));

// The output area holding the widget with a slider labelled `label`.
const widgetOutput = (page, label) => page.locator('.jp-OutputArea-output', {
  has: page.locator('.widget-slider .widget-label', { hasText: new RegExp(`^${label}$`) }) }).first();

async function sliderReadout(page, label) {
  const slider = page.locator('.widget-slider', { has: page.locator('.widget-label', { hasText: new RegExp(`^${label}$`) }) }).first();
  return (await slider.locator('.widget-readout').innerText().catch(() => '')).trim();
}

async function pressSlider(page, label, presses, gapMs = 0) {
  const slider = page.locator('.widget-slider', { has: page.locator('.widget-label', { hasText: new RegExp(`^${label}$`) }) }).first();
  await slider.scrollIntoViewIfNeeded();
  const before = await sliderReadout(page, label);
  await slider.locator('.noUi-handle').first().focus();
  for (let i = 0; i < presses; i++) { await page.keyboard.press('ArrowRight'); if (gapMs) await page.waitForTimeout(gapMs); }
  await page.waitForTimeout(300);
  return { label, presses, readout_before: before, readout_after: await sliderReadout(page, label) };
}

async function waitFor(page, fn, timeout, every = 500) {
  const t0 = Date.now();
  let v;
  while (Date.now() - t0 < timeout) { v = await fn(); if (v && v.ok) return { ...v, seconds: (Date.now() - t0) / 1000 }; await page.waitForTimeout(every); }
  return { ...(v || {}), ok: false, seconds: (Date.now() - t0) / 1000 };
}

// ---------------------------------------------------------------------------------------------------------------
// driving the notebook

async function openNotebook(page, url, step) {
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120000 });
  await page.waitForSelector('.jp-NotebookPanel .jp-Cell', { timeout: 120000, state: 'attached' });
  // a "Select Kernel" dialog appears when the notebook names no kernel: accept the default (Python 3)
  const accept = page.locator('.jp-Dialog .jp-mod-accept');
  if (await accept.isVisible({ timeout: 5000 }).catch(() => false)) { await accept.click(); step('kernel dialog accepted'); }
  await page.waitForSelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', { timeout: 120000 })
    .catch(() => log('kernel not reported idle after 120 s; going on'));
}

// State of the code cells' prompts and of error outputs.
const cellState = (page) => page.evaluate(() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map((p) => p.innerText.trim());
  const errs = [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map((e) => e.innerText).filter((t) => /Traceback|Error\b/.test(t));
  return { prompts, errs, busy: prompts.filter((p) => p.includes('*')).length, done: prompts.filter((p) => /\[\d+\]/.test(p)).length };
});

async function clickRunAll(page) {
  await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Run$/ }).click();
  await page.locator('.lm-Menu-item', { has: page.locator('.lm-Menu-itemLabel', { hasText: /^Run All Cells$/ }) }).click();
}

async function runAll(page, timeout, step) {
  // a notebook that has just opened can ignore the command (its session is not ready yet): try again until a cell starts
  for (let attempt = 1; ; attempt++) {
    await page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: '.ipynb' }).first().click().catch(() => {});
    await clickRunAll(page);
    const started = await waitFor(page, async () => {
      const s = await cellState(page);
      return { ok: s.busy > 0 || s.done > 0 };
    }, 20000);
    step('run all cells clicked', { attempt, started: started.ok });
    if (started.ok || attempt === 5) break;
  }
  // finished when no prompt shows [*] and every code cell has an execution count (or an error output appeared)
  const t0 = Date.now();
  let state;
  while (Date.now() - t0 < timeout) {
    await page.waitForTimeout(2000);
    state = await cellState(page);
    if (state.errs.length) break;
    if (state.prompts.length && state.busy === 0 && state.done === state.prompts.length) break;
  }
  return { seconds: (Date.now() - t0) / 1000, ...state };
}

// Run the one code cell whose source contains `code` (click into it, Shift+Enter); wait until it is done.
async function rerunCell(page, code, timeout) {
  const cell = page.locator('.jp-CodeCell', { has: page.locator('.jp-InputArea-editor', { hasText: code }) }).first();
  await cell.scrollIntoViewIfNeeded();
  const prompt = async () => (await cell.locator('.jp-InputPrompt').innerText()).trim();
  const before = await prompt();
  await cell.locator('.jp-InputArea-editor').click();
  await page.keyboard.press('Shift+Enter');
  const t0 = Date.now();
  while (Date.now() - t0 < timeout) {
    await page.waitForTimeout(500);
    const p = await prompt();
    if (p !== before && /\[\d+\]/.test(p)) return { before, after: p, seconds: (Date.now() - t0) / 1000 };
  }
  return { before, after: await prompt(), timed_out: true };
}

async function save(page) {
  await page.keyboard.press('Control+s');
  await page.waitForTimeout(1500);
}

async function shot(locator, file) {
  await locator.scrollIntoViewIfNeeded().catch(() => {});
  await locator.screenshot({ path: file }).catch((e) => log('screenshot failed', file, e.message));
}

// ---------------------------------------------------------------------------------------------------------------
// the two modes

async function checkKanon(page, out, shots, step) {
  const before = await plotInfo(page, KANON);
  const layout = await layoutReport(page, KANON);
  const hover = await hoverLines(page, KANON, 'k-Same agnostic', 'x2', 'y2', 2);
  const move = await pressSlider(page, 'k', 1);
  const changed = await waitFor(page, async () => {
    const now = await plotInfo(page, KANON);
    return { ok: !!now && now.data !== before.data && now.title.includes(`k=${move.readout_after} `), after: now };
  }, 60000);
  out.kanon = { before_title: before.title, subtitle: before.subtitle, bg: before.bg, axes: before.axes, names: before.names,
                layout, hover, ...move, changed: changed.ok, seconds: changed.seconds,
                after_title: changed.after && changed.after.title };
  step('k-anonymity figure checked, k slider moved', { changed: changed.ok, overlaps: layout.overlaps, hover: hover.lines });
  if (shots) await shot(widgetOutput(page, 'k'), path.join(shots, 'jupyterlab_kanon.png'));
}

// Count the plots drawn into the explorer's output from now on (each redraw puts a new plot into the page).
const countRedraws = (page) => page.evaluate(() => {
  const area = [...document.querySelectorAll('.jp-OutputArea-output')].find((o) =>
    [...o.querySelectorAll('.widget-slider .widget-label')].some((l) => l.textContent === 'temperature'));
  window.__featvaeRedraws = 0;
  const seen = new WeakSet([...area.querySelectorAll('.js-plotly-plot')]);
  new MutationObserver(() => {
    for (const p of area.querySelectorAll('.js-plotly-plot')) if (!seen.has(p)) { seen.add(p); window.__featvaeRedraws += 1; }
  }).observe(area, { childList: true, subtree: true });
});

async function checkExplorer(page, out, shots, step) {
  const before = await plotInfo(page, UMAP);
  const select = await page.evaluate(() => {
    const s = [...document.querySelectorAll('.widget-select-multiple select')][0];
    return s && { options: s.options.length, size: s.size, scrolls: s.scrollHeight > s.clientHeight + 1 };
  });
  await countRedraws(page);
  const move = await pressSlider(page, 'temperature', 3, 150);   // three presses in a row: one re-sample expected
  const settled = await waitFor(page, async () => {
    const now = await plotInfo(page, UMAP);
    return { ok: !!now && now.title.includes(`temperature ${Number(move.readout_after)})`), after: now };
  }, 180000);
  await page.waitForTimeout(5000);                               // time for any queued re-sample to show up
  const redraws = await page.evaluate(() => window.__featvaeRedraws);
  out.explorer = { before_title: before.title, bg: before.bg, legend: before.legend, select, ...move,
                   changed: settled.ok && settled.after.data !== before.data, seconds: settled.seconds,
                   after_title: settled.after && settled.after.title, redraws };
  step('explorer: temperature pressed 3 times', { redraws, after: out.explorer.after_title });
  if (shots) await shot(widgetOutput(page, 'temperature'), path.join(shots, 'jupyterlab_explorer.png'));
  // one class only: fewer points than the sample size asks for, which the status line must say
  const area = widgetOutput(page, 'temperature');
  await area.locator('.widget-select-multiple select').selectOption({ index: 0 });
  const note = await waitFor(page, async () => {
    const text = (await area.locator('.widget-html').first().innerText().catch(() => '')).trim();
    return { ok: /has no effect/.test(text), text };
  }, 60000);
  out.explorer.one_class_note = note.text;
  out.explorer.one_class = await plotInfo(page, UMAP);
  step('explorer: one class picked', { note: note.text });
}

async function checkReload(page, out, shots, step) {
  const want = { kanon: await plotInfo(page, KANON), umap: await plotInfo(page, UMAP),
                 k: await sliderReadout(page, 'k'), temperature: await sliderReadout(page, 'temperature') };
  await save(page);
  await page.reload({ waitUntil: 'domcontentloaded', timeout: 120000 });
  await page.waitForSelector('.jp-NotebookPanel .jp-Cell', { timeout: 120000, state: 'attached' });
  const back = await waitFor(page, async () => {
    const kanon = await plotInfo(page, KANON), umap = await plotInfo(page, UMAP);
    return { ok: !!(kanon && kanon.svg && umap && umap.svg), kanon, umap };
  }, 180000, 1000);
  const same = (a, b) => !!(a && b) && a.title === b.title && a.bg === b.bg && a.n_traces === b.n_traces && a.data === b.data;
  out.reload = { came_back: back.ok, seconds: back.seconds, problems: await widgetProblems(page),
                 kanon_same: same(want.kanon, back.kanon), umap_same: same(want.umap, back.umap),
                 k: await sliderReadout(page, 'k'), temperature: await sliderReadout(page, 'temperature'), want_k: want.k,
                 want_temperature: want.temperature, kanon_title: back.kanon && back.kanon.title,
                 umap_title: back.umap && back.umap.title, kanon_bg: back.kanon && back.kanon.bg, umap_bg: back.umap && back.umap.bg };
  step('page reloaded', out.reload);
  if (shots) await page.screenshot({ path: path.join(shots, 'jupyterlab_reloaded.png') }).catch(() => {});
  // re-run the two widget cells: fresh widgets, drawn complete
  const runs = { umap: await rerunCell(page, 'w_umap = show(', 300000), kanon: await rerunCell(page, 'w_kanon = show(', 120000) };
  const fresh = await waitFor(page, async () => {
    const kanon = await plotInfo(page, KANON), umap = await plotInfo(page, UMAP);
    return { ok: !!(kanon && umap && kanon.svg && umap.svg && umap.data !== want.umap.data), kanon, umap };
  }, 120000, 1000);
  out.rerun = { runs, ok: fresh.ok, kanon: fresh.kanon && { title: fresh.kanon.title, bg: fresh.kanon.bg, n_traces: fresh.kanon.n_traces },
                umap: fresh.umap && { title: fresh.umap.title, bg: fresh.umap.bg, n_traces: fresh.umap.n_traces },
                want_n_traces: { kanon: want.kanon && want.kanon.n_traces, umap: want.umap && want.umap.n_traces },
                k: await sliderReadout(page, 'k'), temperature: await sliderReadout(page, 'temperature'),
                problems: await widgetProblems(page) };
  step('widget cells re-run', out.rerun);
}

async function explore(page, out, { shots, timeout, step }) {
  const run = await runAll(page, timeout, step);
  out.run_seconds = run.seconds; out.cells = run; out.error_outputs = run.errs;
  step('cells executed', { seconds: run.seconds, done: run.done, of: run.prompts.length, errors: run.errs.length });
  if (run.errs.length || run.busy) throw new Error(run.errs.length ? 'error output in a cell' : 'cells still running at timeout');
  await page.waitForFunction(() => document.querySelectorAll('.js-plotly-plot svg.main-svg').length >= 2, null, { timeout: 120000 });
  await checkKanon(page, out, shots, step);
  await checkExplorer(page, out, shots, step);
  out.error_outputs = await errorOutputs(page);   // a failing callback prints into the output area
  await checkReload(page, out, shots, step);
  out.error_outputs_end = await errorOutputs(page);
  await save(page);
}

async function runall(page, out, { shots, timeout, step }) {
  const run = await runAll(page, timeout, step);
  out.run_seconds = run.seconds; out.cells = run; out.error_outputs = run.errs;
  step('cells executed', { seconds: run.seconds, done: run.done, of: run.prompts.length, errors: run.errs.length });
  await page.waitForTimeout(3000);
  out.plots = await page.evaluate(() => [...document.querySelectorAll('.js-plotly-plot')].map((e) =>
    ({ title: e.layout && e.layout.title && String(e.layout.title.text || ''), n_traces: e.data && e.data.length })));
  if (shots) {
    const plots = page.locator('.jp-OutputArea-output .js-plotly-plot, .jp-OutputArea-output.js-plotly-plot');
    for (let i = 0; i < await plots.count(); i++) await shot(plots.nth(i), path.join(shots, `jupyterlab_tutorial_fig${i + 1}.png`));
  }
  await save(page);
}

// The last audit gallery on the page: rows, images and how many decoded, red (closer than the holdout's p5) rows.
async function readGallery(page) {
  return page.evaluate(() => {
    const t = [...document.querySelectorAll('.jp-OutputArea-output .fv-audit')].pop();
    if (!t) return null;
    const imgs = [...t.querySelectorAll('img')];
    return { rows: t.querySelectorAll('tr').length - 1, images: imgs.length,
             decoded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length, red: t.querySelectorAll('.bad').length };
  });
}

async function gallery(page, out, { shots, timeout, step }) {
  await runall(page, out, { shots: '', timeout, step });
  out.gallery_before = await readGallery(page);
  const box = page.locator('.widget-vbox').filter({ has: page.locator('.fv-audit') }).last();
  const handle = box.locator('.noUi-handle').first();
  await handle.focus().catch((e) => log('slider focus failed', e.message));
  for (let i = 0; i < 3; i++) { await page.keyboard.press('ArrowRight'); await page.waitForTimeout(300); }
  await page.waitForTimeout(1500);
  out.gallery_after = await readGallery(page);
  step('gallery', { before: out.gallery_before, after: out.gallery_after });
  if (shots) await shot(box, path.join(shots, 'jupyterlab_audit_gallery.png'));
  await save(page);
}

(async () => {
  const url = arg('url');
  const shots = arg('shots', '');
  const timeout = Number(arg('timeout', '420000'));
  const mode = arg('mode', 'explore');
  const out = { mode, steps: [] };
  const step = (name, extra = {}) => { out.steps.push({ name, t: new Date().toISOString(), ...extra }); log(name, JSON.stringify(extra).slice(0, 400)); };
  const { context, close } = await launch({ width: 1500, height: 1000 });
  const page = await context.newPage();
  page.on('dialog', (d) => d.accept().catch(() => {}));   // "leave the page?" on a reload with unsaved changes
  out.console = watch(page);
  try {
    await openNotebook(page, url, step);
    step('notebook open', { cells: await page.locator('.jp-NotebookPanel .jp-Cell').count() });
    await ({ runall, gallery, explore }[mode] || explore)(page, out, { shots, timeout, step });
  } catch (e) {
    out.exception = String(e && e.stack || e);
    log('FAILED:', out.exception);
  } finally {
    if (shots) await page.screenshot({ path: path.join(shots, `jupyterlab_window_${mode}.png`) }).catch(() => {});
    await close();
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(2); });
