// Open every page of the built docs site in headless Chromium and report what a reader would see.
// usage: node check_docs.js --base http://127.0.0.1:PORT/ --pages a.html,b.html --shots DIR
// Prints one JSON object: {pages: {page: {status, errors, sidebar, plots, reprs, title, links, ids, layout, shots}}}:
// `links` are the same-origin URLs the page refers to (a[href], [src], link[href]) after its scripts ran, `ids`
// the anchors it offers, `layout` what does not fit the text column (see `layout()` below), `shots` the
// screenshots written (index, explore's plots, every figure and table of the tutorial).
const path = require('path');
const { launch, watch, arg } = require('./common');

// What a reader sees of wide content in the text column: content past the column's right edge that no scroll
// box lets them reach ("cut"), <pre> blocks wider than their box that do not scroll, table cells holding one
// number that wrap onto several lines, cells with less than 8 px of padding (columns that run together), and
// the tables wider than the column (they must sit in a scroll box).
function layout() {
  const main = document.querySelector('main.content') || document.body;
  const right = main.getBoundingClientRect().right;
  const scrolls = (e) => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
  const inScrollBox = (el) => { for (let e = el; e && e !== main; e = e.parentElement) if (scrolls(e)) return true; return false; };
  const describe = (el) => `${el.tagName.toLowerCase()}.${String(el.className).split(' ').join('.')}: ${el.textContent.trim().slice(0, 60).replace(/\s+/g, ' ')}`;
  const cut = [];
  for (const el of main.querySelectorAll('*')) {
    if (el.closest('.katex-mathml, svg')) continue;   // KaTeX's MathML copy is visually hidden; SVG boxes are the plot's business
    const b = el.getBoundingClientRect();
    if (!b.width || b.right <= right + 1 || inScrollBox(el.parentElement)) continue;
    const p = el.parentElement;
    if (p && p !== main && p.getBoundingClientRect().right > right + 1) continue;   // report the outermost only
    cut.push(describe(el));
  }
  const pre = [...main.querySelectorAll('pre')].filter((el) => el.scrollWidth > el.clientWidth + 1 && !scrolls(el)).map(describe);
  const number = /^[-−+]?(\d[\d,]*(\.\d*)?|\.\d+)(\s*±\s*\d[\d,]*(\.\d*)?)?\s*%?$/;
  let numbers = 0; const wrapped = [], tight = [];
  for (const c of main.querySelectorAll('table td, table th')) {
    if (!(c.checkVisibility ? c.checkVisibility() : c.getClientRects().length)) continue;   // not shown (a collapsed <details>)
    const s = getComputedStyle(c);
    if (parseFloat(s.paddingLeft) + parseFloat(s.paddingRight) < 8 && c.textContent.trim()) tight.push(describe(c));
    if (!number.test(c.textContent.trim())) continue;
    numbers++;
    const r = document.createRange(); r.selectNodeContents(c);
    const lines = new Set([...r.getClientRects()].filter((q) => q.width > 0).map((q) => Math.round(q.top))).size;
    if (lines > 1) wrapped.push(describe(c));
  }
  const wide = [...main.querySelectorAll('table')].filter((t) => t.getBoundingClientRect().width > main.clientWidth + 1);
  return { cut, unscrollable_pre: pre, numeric_cells: numbers, wrapped_numbers: wrapped, tight_cells: tight.slice(0, 20),
           n_tight: tight.length, wide_tables: wide.length, wide_tables_unscrollable: wide.filter((t) => !inScrollBox(t.parentElement)).map(describe) };
}

// Scroll the scroll box of an output (the output itself or the table's box inside it) to its 'start' or 'end';
// false when nothing in it scrolls.
function scrollTable(box, to) {
  return box.evaluate((el, to) => {
    const s = [el, ...el.querySelectorAll('*')].find((e) => e.scrollWidth > e.clientWidth + 1 &&
      ['auto', 'scroll'].includes(getComputedStyle(e).overflowX));
    if (s) s.scrollLeft = to === 'end' ? s.scrollWidth : 0;
    return !!s;
  }, to);
}

// Screenshot `el` (scrolled into view) to DIR/name.png and record it.
async function shoot(page, el, dir, name, rec) {
  await el.scrollIntoViewIfNeeded(); await page.waitForTimeout(300);
  await el.screenshot({ path: path.join(dir, name) }); rec.shots.push(name);
}

(async () => {
  const base = arg('base');
  const pages = (arg('pages', 'index.html')).split(',').filter(Boolean);
  const shots = arg('shots', '');
  const timeout = Number(arg('timeout', '60000'));
  const { context, close } = await launch({ width: 1400, height: 1000 });
  const out = { pages: {} };
  try {
    for (const name of pages) {
      const page = await context.newPage();
      const errors = watch(page);
      const external = [];
      // the site must be self-contained: every request to another origin is recorded and refused
      await page.route('**/*', (route) => {
        const u = new URL(route.request().url());
        if (u.origin === new URL(base).origin || u.protocol === 'data:' || u.protocol === 'blob:') return route.continue();
        external.push(u.href); return route.abort();
      });
      const rec = { errors, external };
      try {
        const resp = await page.goto(new URL(name, base).href, { waitUntil: 'load', timeout });
        rec.status = resp ? resp.status() : null;
        // plotly draws after load: wait until every plot div has its SVG (or give up after the timeout)
        await page.waitForFunction(() => [...document.querySelectorAll('.js-plotly-plot')].every(
          (el) => el.querySelector('svg.main-svg')), null, { timeout }).catch(() => {});
        await page.waitForFunction(() => [...document.querySelectorAll('pre.mermaid')].every((el) => el.querySelector('svg')),
          null, { timeout: 15000 }).catch(() => {});
        await page.waitForTimeout(300);
        Object.assign(rec, await page.evaluate(() => {
          const side = document.querySelector('#quarto-sidebar, nav.sidebar, .sidebar, aside');
          const links = side ? [...side.querySelectorAll('a[href]')].map((a) => ({ text: a.textContent.trim(), href: a.getAttribute('href') })) : [];
          const plots = [...document.querySelectorAll('.js-plotly-plot')].map((el) => ({
            n_traces: Array.isArray(el.data) ? el.data.length : null,
            svg: !!el.querySelector('svg.main-svg'),
            drawn_traces: el.querySelectorAll('g.trace').length,
            points: el.querySelectorAll('path.point').length,
            title: (el.layout && el.layout.title && el.layout.title.text) || '',
            height: el.getBoundingClientRect().height,
          }));
          const text = document.body.innerText;
          // a widget's text repr in an output (code that merely names FigureWidget(...) is not one)
          const shown = [...document.querySelectorAll('.cell-output')].map((el) => el.innerText).join('\n');
          const reprs = (shown.match(/\b(VBox|HBox|FigureWidget|IntSlider|SelectionSlider)\(/g) || [])
            .concat(shown.includes('Loading widget') ? ['Loading widget...'] : []);
          const emptyPlots = [...document.querySelectorAll('.plotly-graph-div')].filter((el) => !el.querySelector('svg.main-svg')).length;
          const mermaid = { blocks: document.querySelectorAll('pre.mermaid').length,
                            rendered: document.querySelectorAll('pre.mermaid svg').length,
                            errors: [...document.querySelectorAll('pre.mermaid')].filter((el) =>
                              el.querySelector('svg[aria-roledescription="error"]') || /Syntax error/.test(el.textContent)).length };
          const here = location.origin;
          const refs = [...document.querySelectorAll('a[href], link[href], [src]')].map((el) => el.href || el.src)
            .filter((u) => typeof u === 'string' && u.startsWith(here));
          const ids = [...document.querySelectorAll('[id]')].map((el) => el.id)
            .concat([...document.querySelectorAll('a[name]')].map((el) => el.getAttribute('name')));
          const images = document.querySelectorAll('main.content .cell-output-display img').length;
          return { title: document.title, sidebar: links, plots, reprs, empty_plot_boxes: emptyPlots, chars: text.length, mermaid, images,
                   links: [...new Set(refs)], ids: [...new Set(ids)] };
        }));
        rec.layout = await page.evaluate(layout);
        rec.shots = [];
        const stem = name.replace(/\.html$/, '').replace(/^\d+[a-z]*_/, '');   // 11_tutorial.html → tutorial
        if (shots && (name === 'index.html' || stem === 'explore' || stem === 'tutorial')) {
          await page.evaluate(() => window.scrollTo(0, 0));
          await page.screenshot({ path: path.join(shots, `docs_${stem}.png`), fullPage: false }); rec.shots.push(`docs_${stem}.png`);
        }
        if (shots && stem === 'explore') {
          const plots = await page.$$('.js-plotly-plot');
          for (let i = 0; i < plots.length; i++) await shoot(page, plots[i], shots, i ? `docs_explore_plot${i + 1}.png` : 'docs_explore_plot.png', rec);
        }
        if (shots && (stem === 'tutorial' || name === 'index.html')) {
          // every figure (plotly or image) and every results table a reader of the page sees
          const boxes = await page.$$('main.content .cell-output-display');
          let f = 0, tb = 0;
          for (const box of boxes) {
            const kind = await box.evaluate((el) => el.querySelector('.js-plotly-plot, img') ? 'fig' : el.querySelector('table') ? 'table' : '');
            if (kind === 'fig' && stem === 'tutorial') await shoot(page, box, shots, `docs_${stem}_fig${++f}.png`, rec);
            if (kind === 'table') {
              await shoot(page, box, shots, `docs_${stem}_table${++tb}.png`, rec);
              if (await scrollTable(box, 'end')) {   // and its right end, scrolled to
                await page.waitForTimeout(200);
                await shoot(page, box, shots, `docs_${stem}_table${tb}_scrolled.png`, rec);
                await scrollTable(box, 'start');
              }
            }
          }
        }
      } catch (e) {
        rec.exception = String(e && e.stack || e);
      }
      // a browser asks every server for /favicon.ico; its 404 is not an error of the page
      rec.errors = errors.filter((e) => !/favicon\.ico/.test(e));
      out.pages[name] = rec;
      await page.close();
    }
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(2); });
