// Drives code-server (real VS Code 1.139) in headless Chromium against the paperlens extension:
//   1. open drafts/survey.tex (Quick Open) and wait for the status bar "paperlens: N papers"
//   2. hover the mouse over \cite{vaswani2017attention}: the card names "Attention Is All You Need"
//   3. type \cite{ on a new line + Ctrl+Space: the list offers vaswani2017attention
//   4. F1 "paperlens: Search Papers", type "gaze estimation webcams": "Lightweight Gaze Estimation"
//      (brandt2023lightweight) is offered; Enter opens papers/gaze-lite.txt
// Saves a PNG per step in OUTDIR and exits non-zero on the first failed check, printing what it saw.
// usage: node e2e.js URL OUTDIR      (playwright-core from NODE_PATH; /usr/bin/chromium)
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const URL = process.argv[2];
const OUT = process.argv[3] || path.join(os.tmpdir(), 'paperlens-e2e-out');
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const seen = {};

class CheckFailed extends Error {}
function check(ok, what, saw) {
  if (!ok) throw new CheckFailed(`${what}\n  saw: ${JSON.stringify(saw, null, 2)}`);
  log(`ok: ${what}`);
}

(async () => {
  if (!URL) throw new Error('usage: node e2e.js URL OUTDIR');
  fs.mkdirSync(OUT, { recursive: true });
  const profile = process.env.PAPERLENS_E2E_PROFILE || fs.mkdtempSync(path.join(os.tmpdir(), 'paperlens-chrome-'));
  fs.rmSync(profile, { recursive: true, force: true });
  fs.mkdirSync(profile, { recursive: true });
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let rc = 1;
  let step = 'start';
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on('pageerror', (e) => log('pageerror:', e.message));
  const shot = async (name) => {
    const file = path.join(OUT, `${name}.png`);
    await page.screenshot({ path: file });
    log('screenshot', file);
  };
  try {
    // -- workbench ------------------------------------------------------------------------------
    step = 'workbench';
    await page.goto(URL);
    await page.locator('.monaco-workbench').waitFor({ timeout: 90000 });
    await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 60000 });
    log('workbench loaded');
    await page.locator('.monaco-workbench').click({ position: { x: 640, y: 400 } }).catch(() => {});

    // -- 1. open drafts/survey.tex, wait for the index ---------------------------------------
    step = 'open survey.tex';
    await page.keyboard.press('Control+P');
    const qi = page.locator('.quick-input-widget input');
    await qi.waitFor({ timeout: 15000 });
    await qi.fill('survey.tex');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'survey.tex' }).first().waitFor({ timeout: 15000 });
    await page.keyboard.press('Enter');
    await page.locator('.monaco-editor .view-lines .view-line', { hasText: 'vaswani2017attention' }).first().waitFor({ timeout: 30000 });
    log('editor shows drafts/survey.tex');

    step = 'status bar';
    const statusItem = page.locator('.statusbar-item', { hasText: /paperlens: \d+ papers?/ }).first();
    try {
      await statusItem.waitFor({ timeout: 120000 });
    } catch (e) {
      seen.statusbar = await page.locator('.statusbar-item').allInnerTexts();
      throw new CheckFailed(`the status bar never showed "paperlens: N papers"\n  saw: ${JSON.stringify(seen.statusbar)}`);
    }
    // the first status may be read while indexing still runs: wait for a count > 0
    let statusText = '';
    for (let i = 0; i < 120; i++) {
      statusText = (await statusItem.innerText()).trim();
      const n = Number((/(\d+) papers?/.exec(statusText) || [])[1] || 0);
      if (n > 0) break;
      await page.waitForTimeout(500);
    }
    seen.status = statusText;
    const papers = Number((/(\d+) papers?/.exec(statusText) || [])[1] || 0);
    check(papers > 0, `status bar shows indexed papers ("${statusText}")`, statusText);
    await shot('01-status');

    // -- 2. hover a citation key ---------------------------------------------------------------
    step = 'hover';
    const keyRect = async (key) => page.evaluate((key) => {
      for (const line of document.querySelectorAll('.monaco-editor .view-lines .view-line')) {
        const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        let n;
        while ((n = walker.nextNode())) {
          const i = n.data.replace(/\u00a0/g, ' ').indexOf(key); // Monaco renders spaces as &nbsp;
          if (i < 0) continue;
          const r = document.createRange();
          r.setStart(n, i);
          r.setEnd(n, i + key.length);
          const b = r.getBoundingClientRect();
          return { x: b.x, y: b.y, width: b.width, height: b.height };
        }
      }
      return null;
    }, key);
    const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: 'Attention Is All You Need' }).first();
    let hoverText = null;
    for (let i = 0; i < 30 && !hoverText; i++) {
      const box = await keyRect('vaswani2017attention');
      if (!box) throw new CheckFailed('vaswani2017attention is not on screen');
      await page.mouse.move(box.x + box.width + 300, box.y + 250); // away, to reset the hover
      await page.waitForTimeout(150);
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      try {
        await hover.waitFor({ state: 'visible', timeout: 2500 });
        hoverText = (await hover.innerText()).trim();
      } catch (_) {
        const any = await page.locator('.monaco-hover:not(.hidden)').allInnerTexts().catch(() => []);
        log(`hover attempt ${i + 1}: no paper card yet${any.length ? ` (saw ${JSON.stringify(any)})` : ''}`);
      }
    }
    seen.hover = hoverText;
    check(hoverText && hoverText.includes('Attention Is All You Need'), 'hover card on vaswani2017attention names "Attention Is All You Need"', hoverText);
    log('HOVER:', JSON.stringify(hoverText.slice(0, 300)));
    await shot('02-hover');
    await page.mouse.move(5, 5);
    await page.keyboard.press('Escape');

    // -- 3. complete \cite{ on a new line ----------------------------------------------------------
    step = 'completion';
    const box = await keyRect('self-attention and now underlies');
    if (!box) throw new CheckFailed('line "self-attention and now underlies ..." is not on screen');
    await page.mouse.click(box.x + 5, box.y + box.height / 2);
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('See \\cite{', { delay: 30 });
    const suggest = page.locator('.suggest-widget .monaco-list-row', { hasText: 'vaswani2017attention' }).first();
    let labels = [];
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Control+Space');
      try {
        await suggest.waitFor({ state: 'visible', timeout: 3000 });
      } catch (_) {
        log(`completion attempt ${i + 1}: vaswani2017attention not offered yet`);
        continue;
      }
      labels = await page.locator('.suggest-widget .monaco-list-row .label-name').allInnerTexts();
      break;
    }
    seen.completion = labels;
    log('COMPLETION:', JSON.stringify(labels));
    check(labels.includes('vaswani2017attention'), 'completion after \\cite{ offers vaswani2017attention', labels);
    check(labels.includes('devlin2019bert'), 'completion after \\cite{ offers devlin2019bert', labels);
    await page.waitForTimeout(300);
    await shot('03-completion');
    // Ctrl+Space again toggles the details pane (the paper card as documentation); not checked
    await page.keyboard.press('Control+Space');
    const details = page.locator('.suggest-details-container .suggest-details, .suggest-widget .details').first();
    if (await details.waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false)) {
      await page.waitForTimeout(300);
      seen.completionDetails = (await details.innerText().catch(() => '')).slice(0, 300);
      log('COMPLETION DETAILS:', JSON.stringify(seen.completionDetails));
      await shot('03b-completion-details');
    }
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');

    // -- 4. paperlens: Search Papers -----------------------------------------------------------------
    step = 'search papers';
    await page.keyboard.press('F1');
    await qi.waitFor({ state: 'visible', timeout: 10000 });
    await page.keyboard.type('paperlens: Search Papers', { delay: 10 });
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Search Papers' }).first().waitFor({ timeout: 15000 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'Search Papers' }).first().waitFor({ timeout: 15000 });
    await page.keyboard.type('gaze estimation webcams', { delay: 25 });
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Lightweight Gaze Estimation' }).first();
    let rows = [];
    try {
      await row.waitFor({ timeout: 20000 });
    } catch (_) { /* reported below */ }
    await page.waitForTimeout(300);
    rows = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
    seen.search = rows;
    log('SEARCH ROWS:', JSON.stringify(rows.map((r) => r.replace(/\s+/g, ' ').slice(0, 160))));
    await shot('04-search');
    const gaze = rows.find((r) => r.includes('Lightweight Gaze Estimation'));
    check(Boolean(gaze), 'Search Papers offers "Lightweight Gaze Estimation"', rows);
    check(gaze.includes('brandt2023lightweight'), 'the result names its key brandt2023lightweight', gaze);
    await row.click();
    const tab = page.locator('.tabs-container .tab.active', { hasText: 'gaze-lite.txt' });
    try {
      await tab.waitFor({ timeout: 15000 });
    } catch (_) {
      seen.tabs = await page.locator('.tabs-container .tab').allInnerTexts();
      throw new CheckFailed(`accepting the result did not open papers/gaze-lite.txt\n  saw tabs: ${JSON.stringify(seen.tabs)}`);
    }
    check(true, 'accepting the result opens papers/gaze-lite.txt');
    await page.waitForTimeout(300);
    await shot('05-search-opened');

    // -- 5. paperlens: Show Paper Summary on the key under the cursor --------------------------
    step = 'show summary';
    const runCommand = async (title) => {
      // a Quick Pick still fading out counts as visible: wait until it is gone, then until the
      // palette's own input has the focus, so the title is never typed into the editor
      await qi.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
      await page.keyboard.press('F1');
      await qi.waitFor({ state: 'visible', timeout: 10000 });
      await page.waitForFunction(() => document.activeElement
        && document.activeElement.closest('.quick-input-widget') !== null, null, { timeout: 10000 });
      await page.keyboard.type(title, { delay: 10 });
      await page.locator('.quick-input-list .monaco-list-row', { hasText: title.replace(/^paperlens: /, '') }).first().waitFor({ timeout: 15000 });
      await page.keyboard.press('Enter');
    };
    await page.locator('.tabs-container .tab', { hasText: 'survey.tex' }).first().click();
    await page.locator('.monaco-editor .view-lines .view-line', { hasText: 'vaswani2017attention' }).first().waitFor({ timeout: 15000 });
    let kr = await keyRect('vaswani2017attention');
    await page.mouse.click(kr.x + kr.width / 2, kr.y + kr.height / 2);
    await runCommand('paperlens: Show Paper Summary');
    const cardTab = page.locator('.tabs-container .tab', { hasText: 'vaswani2017attention' }).first();
    try {
      await cardTab.waitFor({ timeout: 15000 });
    } catch (_) {
      seen.tabs = await page.locator('.tabs-container .tab').allInnerTexts();
      throw new CheckFailed(`Show Paper Summary opened no card\n  saw tabs: ${JSON.stringify(seen.tabs)}`);
    }
    seen.summaryTab = (await cardTab.innerText()).trim();
    await page.waitForTimeout(1500); // let the markdown preview render
    check(true, `Show Paper Summary opened "${seen.summaryTab}"`);
    await shot('06-summary');

    // -- 6. paperlens: Insert Citation in the syntax of the file -------------------------------
    step = 'insert citation';
    await page.locator('.tabs-container .tab', { hasText: 'survey.tex' }).first().click();
    const lineTexts = () => page.evaluate(() => [...document.querySelectorAll('.monaco-editor .view-lines .view-line')]
      .map((l) => l.textContent.replace(/\u00a0/g, ' ')));
    kr = await keyRect('residual shortcuts keep deep stacks trainable');
    if (!kr) throw new CheckFailed('line "residual shortcuts keep deep stacks trainable" is not on screen');
    await page.mouse.click(kr.x + 5, kr.y + kr.height / 2); // the line's end may be under the scrollbar
    await page.keyboard.press('End');
    await page.keyboard.type(' ');
    await runCommand('paperlens: Insert Citation');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'Insert Citation' }).first().waitFor({ timeout: 15000 });
    await page.keyboard.type('residual learning', { delay: 25 });
    const paperRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'he2016deep' }).first();
    try {
      await paperRow.waitFor({ timeout: 15000 });
    } catch (_) {
      seen.insertRows = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
      throw new CheckFailed(`Insert Citation did not offer he2016deep\n  saw: ${JSON.stringify(seen.insertRows)}`);
    }
    seen.insertRows = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
    await shot('07-insert-citation-pick');
    await paperRow.click();
    let inserted = '';
    for (let i = 0; i < 20 && !inserted; i++) {
      inserted = (await lineTexts()).find((l) => l.includes('trainable \\cite{he2016deep}')) || '';
      if (!inserted) await page.waitForTimeout(250);
    }
    seen.inserted = inserted || (await lineTexts()).find((l) => l.includes('trainable'));
    check(Boolean(inserted), 'Insert Citation inserted \\cite{he2016deep} in the LaTeX file', seen.inserted);
    await page.waitForTimeout(700); // let the Quick Pick fade out
    await shot('07-insert-citation');

    // -- 7. a Python without paperlens: the extension restarts, says how to fix it ------------
    const machineSettings = process.env.PAPERLENS_E2E_MACHINE_SETTINGS;
    const noPaperlens = process.env.PAPERLENS_E2E_PYTHON_WITHOUT_PAPERLENS;
    if (machineSettings && noPaperlens) {
      step = 'python without paperlens';
      const before = JSON.parse(fs.readFileSync(machineSettings, 'utf8'));
      fs.writeFileSync(machineSettings, JSON.stringify({ ...before, 'paperlens.server.pythonPath': noPaperlens }, null, 2));
      const toast = page.locator('.notification-toast', { hasText: 'is not installed' }).first();
      try {
        await toast.waitFor({ timeout: 30000 });
      } catch (_) {
        seen.toasts = await page.locator('.notification-toast').allInnerTexts();
        throw new CheckFailed(`no error notification after pythonPath changed to ${noPaperlens}\n  saw: ${JSON.stringify(seen.toasts)}`);
      }
      seen.importError = (await toast.innerText()).trim();
      check(/pip install paperlens/.test(seen.importError), 'changing paperlens.server.pythonPath restarts the server; a Python without paperlens gets an error with the fix', seen.importError);
      const stopped = await page.locator('.statusbar-item', { hasText: 'paperlens: stopped' }).first().waitFor({ timeout: 10000 }).then(() => true, () => false);
      check(stopped, 'the status bar says "paperlens: stopped"', await page.locator('.statusbar-item').allInnerTexts());
      await page.waitForTimeout(700); // let the notification slide in
      await shot('08-no-paperlens');
      await toast.locator('.monaco-button', { hasText: 'Open Setting' }).first().click();
      const setting = page.locator('.settings-editor .setting-item-contents', { hasText: 'Python that runs the server' }).first();
      const opened = await setting.waitFor({ timeout: 15000 }).then(() => true, () => false);
      check(opened, 'the "Open Setting" button shows paperlens.server.pythonPath in the Settings editor', await page.locator('.tabs-container .tab').allInnerTexts());
      await page.waitForTimeout(500);
      await shot('09-open-setting');
    }
    rc = 0;
  } catch (e) {
    log(`FAILED at step "${step}": ${e instanceof CheckFailed ? e.message : e.stack || e}`);
    await shot('failure').catch(() => {});
  } finally {
    fs.writeFileSync(path.join(OUT, 'result.json'), JSON.stringify({ ok: rc === 0, step, seen }, null, 2));
    await ctx.close().catch(() => {});
    if (!process.env.PAPERLENS_E2E_PROFILE) fs.rmSync(profile, { recursive: true, force: true });
    log('done rc=' + rc);
    process.exit(rc);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
