// Open a static HTML page (file:// or http://) in headless Chromium, report what it shows as JSON on stdout and save
// a full-page screenshot: the audit gallery's rows, images (and how many decoded) and red rows; plotly figures;
// console errors.
// usage: node check_page.js --url file:///…/gallery.html --shot OUT.png
const { launch, watch, arg } = require('./common');

(async () => {
  const url = arg('url'), shotPath = arg('shot', '');
  const { context, close } = await launch({ width: 1300, height: 900 });
  const out = {};
  try {
    const page = await context.newPage();
    out.console = watch(page);
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForTimeout(1500);
    Object.assign(out, await page.evaluate(() => {
      const t = document.querySelector('.fv-audit');
      const imgs = t ? [...t.querySelectorAll('img')] : [];
      return { title: document.title, rows: t ? t.querySelectorAll('tr').length - 1 : 0, images: imgs.length,
               decoded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length, red: t ? t.querySelectorAll('.bad').length : 0,
               plots: [...document.querySelectorAll('.js-plotly-plot')].filter((e) => e.querySelector('svg.main-svg')).length,
               text: document.body.innerText.slice(0, 2000) };
    }));
    if (shotPath) await page.screenshot({ path: shotPath, fullPage: true });
  } catch (e) {
    out.exception = String(e && e.stack || e);
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(2); });
