// Open every page of the built docs site in headless Chromium and report what a reader would see.
// usage: node check_docs.js --base http://127.0.0.1:PORT/ --pages a.html,b.html --shots DIR
// Prints one JSON object: {pages: {page: {status, errors, sidebar, plots, reprs, title}}}.
const path = require('path');
const { launch, watch, arg } = require('./common');

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
          const reprs = (text.match(/\b(VBox|HBox|FigureWidget|IntSlider|SelectionSlider)\(/g) || [])
            .concat(text.includes('Loading widget') ? ['Loading widget...'] : []);
          const emptyPlots = [...document.querySelectorAll('.plotly-graph-div')].filter((el) => !el.querySelector('svg.main-svg')).length;
          const mermaid = { blocks: document.querySelectorAll('pre.mermaid').length,
                            rendered: document.querySelectorAll('pre.mermaid svg').length,
                            errors: [...document.querySelectorAll('pre.mermaid')].filter((el) =>
                              el.querySelector('svg[aria-roledescription="error"]') || /Syntax error/.test(el.textContent)).length };
          return { title: document.title, sidebar: links, plots, reprs, empty_plot_boxes: emptyPlots, chars: text.length, mermaid };
        }));
        if (shots && (name === 'index.html' || name.startsWith('explore'))) {
          await page.screenshot({ path: path.join(shots, `docs_${name.replace(/\.html$/, '')}.png`), fullPage: false });
        }
        if (shots && name.includes('explore')) {
          const plots = await page.$$('.js-plotly-plot');
          for (let i = 0; i < plots.length; i++) {
            await plots[i].scrollIntoViewIfNeeded(); await page.waitForTimeout(300);
            await plots[i].screenshot({ path: path.join(shots, i ? `docs_explore_plot${i + 1}.png` : 'docs_explore_plot.png') });
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
