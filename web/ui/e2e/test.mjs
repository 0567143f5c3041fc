// Browser test of Stamp's webmail, run by web/ui's TestBrowser:
//   node test.mjs <baseURL>
// It logs in as alice@example.test, reads a plain and an HTML message,
// downloads an attachment, sends a message with an attachment to
// bob@example.test, waits for mail delivered live (over the WebSocket, then
// over long polling with the socket blocked), searches, uses the unread
// filter and keyboard shortcuts, and saves screenshots to
// $STAMP_TEST_ARTIFACTS (default: a new temp dir; the path is printed).
//
// Coordination with the Go test is over stdio: the script prints
// "STAMP-DELIVER <subject>" and waits for a line "ok" once the message is
// delivered. No test-only endpoint exists in the server.

import { chromium } from 'playwright-core';
import { mkdtemp, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import assert from 'node:assert/strict';

const base = process.argv[2];
if (!base) {
  console.error('usage: node test.mjs <baseURL>');
  process.exit(2);
}
const artifacts = process.env.STAMP_TEST_ARTIFACTS || await mkdtemp(join(tmpdir(), 'stamp-e2e-'));
await mkdir(artifacts, { recursive: true });
console.log(`artifacts: ${artifacts}`);

const input = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function deliverLive(subject) {
  console.log(`STAMP-DELIVER ${subject}`);
  const { value, done } = await input.next();
  assert.ok(!done && value === 'ok', `the Go side did not deliver ${subject}: ${value}`);
}

const step = (name) => console.log(`step: ${name}`);
const TIMEOUT = 15_000;

const args = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');

// playwright-core's launch gives Chromium a fresh temporary --user-data-dir.
const browser = await chromium.launch({
  executablePath: process.env.STAMP_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args,
});
let failed = false;
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.on('console', (m) => {
    const text = m.text();
    // Expected: the 401s of the session probe before login and of the wrong
    // password, the refused load of the seeded tracker image (port 9), and
    // Chromium's notes that this script's own evaluate() calls ran in the
    // message frame, whose sandbox blocks scripts.
    const expected = text.includes('status of 401') || text.includes('ERR_UNSAFE_PORT') || text.includes('127.0.0.1:9')
      || (text.startsWith(`Blocked script execution in '${base}/v1/messages/`) && text.includes("the 'allow-scripts' permission is not set"));
    if (m.type() === 'error' && !expected) problems.push(`console: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  step('login page');
  await page.goto(base);
  await page.locator('#login-form').waitFor();
  await page.screenshot({ path: join(artifacts, 'login.png') });

  step('wrong password is refused');
  await page.fill('#login-user', 'alice@example.test');
  await page.fill('#login-pass', 'wrong password');
  await page.click('#login-form button[type=submit]');
  await page.locator('#login-error', { hasText: 'Wrong email address or password' }).waitFor();

  step('login');
  await page.fill('#login-pass', 'correct horse battery');
  await page.click('#login-form button[type=submit]');
  const rows = page.locator('#message-list > li');
  await rows.first().waitFor();
  await page.locator('#me', { hasText: 'alice@example.test' }).waitFor();
  const inboxButton = page.locator('#folder-list button', { hasText: 'Inbox' });
  assert.match(await inboxButton.innerText(), /Inbox\s*5/, 'inbox shows 5 unread');
  assert.equal(await rows.count(), 6, 'six messages in the inbox');
  await page.screenshot({ path: join(artifacts, 'inbox.png') });

  step('read a plain text message');
  await rows.filter({ hasText: 'Welcome to Stamp' }).locator('button').click();
  await page.locator('#message-view .message-text', { hasText: 'this is the first message' }).waitFor();
  await page.locator('#reader [data-action="toggle-seen"]', { hasText: 'Mark unread' }).waitFor();
  await page.locator('#folder-list button', { hasText: /Inbox\s*4/ }).waitFor();

  step('read an HTML message: sanitized, sandboxed, styled, remote images blocked');
  await rows.filter({ hasText: 'Quarterly report' }).locator('button').click();
  const frame = page.locator('iframe.message-frame');
  await frame.waitFor();
  assert.equal(await frame.getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox',
    'the message frame may open popups only: no scripts, no same origin');
  assert.match(await frame.getAttribute('src'), /^\/v1\/messages\/\d+\/html$/, 'the frame loads the HTML endpoint');
  const body = page.frameLocator('iframe.message-frame').locator('body');
  await body.locator('h1', { hasText: 'Revenue is up' }).waitFor();
  assert.equal(await body.locator('script').count(), 0, 'no script in the message');
  assert.equal(await body.locator('[onclick]').count(), 0, 'no event handlers in the message');
  assert.equal(await body.locator('img[src^="http"]').count(), 0, 'remote image blocked');
  const styled = body.locator('p[title="styled"]');
  assert.equal(await styled.evaluate((e) => getComputedStyle(e).color), 'rgb(200, 0, 0)', 'inline style color applies');
  assert.equal(await styled.evaluate((e) => getComputedStyle(e).fontWeight), '700', 'inline style font-weight applies');
  assert.equal(await styled.evaluate((e) => getComputedStyle(e).position), 'static', 'position: fixed was removed');
  assert.equal(await body.locator('td', { hasText: 'Q3' }).evaluate((e) => getComputedStyle(e).backgroundColor),
    'rgb(230, 236, 250)', 'table cell background applies');
  assert.equal(await body.locator('p', { hasText: 'Numbers attached' }).evaluate((e) => getComputedStyle(e).display),
    'block', 'the message\'s <style> element was removed');
  assert.equal(await body.evaluate((e) => getComputedStyle(e).marginTop), '12.8px', 'mail.css base style applies');
  await page.locator('.remote-banner').waitFor();
  await page.screenshot({ path: join(artifacts, 'message.png') });

  step('a link in the message opens a new window without opener or referrer');
  const link = body.locator('a', { hasText: 'Read the full report' });
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer nofollow');
  const [popup] = await Promise.all([context.waitForEvent('page'), link.click()]);
  await popup.waitForLoadState('domcontentloaded');
  assert.equal(popup.url(), `${base}/landing?from=mail`, 'the popup went to the link');
  assert.equal(await popup.evaluate(() => window.opener), null, 'no opener');
  assert.equal(await popup.evaluate(() => document.referrer), '', 'no referrer');
  assert.equal(await popup.evaluate(() => window.origin), new URL(base).origin, 'the popup escaped the sandbox');
  await popup.close();

  step('show remote images');
  await page.click('#show-images');
  await page.frameLocator('iframe.message-frame').locator('img[src^="http://127.0.0.1:9/"]').waitFor({ state: 'attached' });
  assert.match(await frame.getAttribute('src'), /\/html\?remote=1$/, 'the frame asks for remote images');
  assert.equal(await page.locator('.remote-banner').count(), 0, 'banner gone once images are shown');

  step('download an attachment');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('a.attachment', { hasText: 'report.csv' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'report.csv');
  const csv = await readFile(await download.path(), 'utf8');
  assert.match(csv, /quarter,revenue\r?\nQ3,42/, 'attachment bytes');

  step('conversation view');
  await page.click('#reader [data-action="thread"]');
  await page.locator('#message-view ol.thread li', { hasText: 'Carol' }).waitFor();

  step('flag with the keyboard, help overlay');
  await page.keyboard.press('Escape');
  await page.locator('#reader').waitFor({ state: 'hidden' });
  await page.keyboard.press('s');
  await page.locator('#message-list li.selected.flagged').waitFor();
  await page.keyboard.press('?');
  await page.locator('#help-dialog[open]').waitFor();
  await page.screenshot({ path: join(artifacts, 'help.png') });
  await page.keyboard.press('Escape');
  await page.locator('#help-dialog').waitFor({ state: 'hidden' });
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  await page.keyboard.press('o');
  await page.locator('#message-subject').waitFor();

  step('compose and send with an attachment');
  await page.keyboard.press('Escape');
  await page.keyboard.press('c');
  await page.locator('#compose-dialog[open]').waitFor();
  await page.fill('#compose-to', 'Bob <bob@example.test>');
  await page.fill('#compose-subject', 'Lunch on Friday?');
  await page.fill('#compose-text', 'Shall we meet at noon?\nThe menu is attached.');
  await page.setInputFiles('#compose-files', { name: 'menu.txt', mimeType: 'text/plain', buffer: Buffer.from('soup\nbread\n') });
  await page.locator('#compose-attachments li', { hasText: 'menu.txt' }).waitFor();
  await page.screenshot({ path: join(artifacts, 'compose.png') });
  await page.click('#compose-send');
  await page.locator('#toast', { hasText: 'Message sent' }).waitFor();
  await page.locator('#compose-dialog').waitFor({ state: 'hidden' });

  step('reply prefills recipient and subject');
  await rows.filter({ hasText: 'Welcome to Stamp' }).locator('button').click();
  await page.locator('#message-view .message-text').waitFor();
  await page.keyboard.press('r');
  await page.locator('#compose-dialog[open]').waitFor();
  assert.equal(await page.inputValue('#compose-to'), 'team@remote.test');
  assert.equal(await page.inputValue('#compose-subject'), 'Re: Welcome to Stamp');
  await page.click('#compose-cancel');

  step('new mail arrives live over the WebSocket');
  await page.locator('body[data-live="socket"]').waitFor();
  await deliverLive('Live over WebSocket');
  await rows.filter({ hasText: 'Live over WebSocket' }).waitFor();
  await page.locator('#folder-list button', { hasText: /Inbox\s*4/ }).waitFor();

  step('new mail arrives live over long polling when the socket fails');
  await page.routeWebSocket(/\/v1\/events/, (ws) => ws.close());
  await page.reload();
  await rows.first().waitFor();
  await page.locator('body[data-live="poll"]').waitFor();
  await page.waitForTimeout(300); // let the first poll reach the server
  await deliverLive('Live over long polling');
  await rows.filter({ hasText: 'Live over long polling' }).waitFor();
  await page.locator('#folder-list button', { hasText: /Inbox\s*5/ }).waitFor();

  step('search with operators');
  await page.keyboard.press('/');
  await page.keyboard.type('subject:quarterly has:attachment');
  await page.keyboard.press('Enter');
  await page.locator('#list-title', { hasText: 'Search: subject:quarterly' }).waitFor();
  await rows.filter({ hasText: 'Quarterly report' }).waitFor();
  assert.equal(await rows.count(), 1, 'one search result');
  await page.screenshot({ path: join(artifacts, 'search.png') });
  await page.fill('#search-input', 'from:news@remote.test');
  await page.keyboard.press('Enter');
  await page.locator('#list-title', { hasText: 'from:news' }).waitFor();
  await rows.filter({ hasText: 'Old newsletter' }).waitFor();

  step('unread filter');
  await inboxButton.click();
  await rows.filter({ hasText: 'Old newsletter' }).waitFor();
  await page.check('#unread-filter');
  await page.locator('#message-list > li', { hasText: 'Old newsletter' }).waitFor({ state: 'detached' });
  await rows.filter({ hasText: 'Live over long polling' }).waitFor();
  assert.equal(await page.locator('#message-list > li:not(.unread)').count(), 0, 'only unread messages listed');
  await page.uncheck('#unread-filter');
  await rows.filter({ hasText: 'Old newsletter' }).waitFor();

  step('paging with load more');
  await page.locator('#folder-list button', { hasText: 'Archive' }).click();
  await page.locator('#list-title', { hasText: 'Archive' }).waitFor();
  await rows.filter({ hasText: 'Archived 01' }).waitFor();
  assert.equal(await rows.count(), 50, 'first page holds 50');
  await page.click('#load-more');
  await rows.filter({ hasText: 'Archived 55' }).waitFor();
  assert.equal(await rows.count(), 56, 'both pages');
  const subjects = await page.locator('#message-list .msg-subject').allInnerTexts();
  assert.equal(new Set(subjects).size, 56, 'no duplicates across pages');
  assert.ok(await page.locator('#load-more').isHidden(), 'no more pages');

  step('inline (cid:) image shows in the sandboxed frame');
  await rows.filter({ hasText: 'Inline picture' }).locator('button').click();
  // The server writes the part in as a data: URL (the sandboxed frame's own
  // requests would carry no SameSite=Strict cookie).
  const logo = page.frameLocator('iframe.message-frame').locator('img[alt="logo"][src^="data:image/png"]');
  await logo.waitFor();
  await logo.evaluate((img) => img.complete || new Promise((ok) => { img.onload = ok; img.onerror = ok; }));
  assert.equal(await logo.evaluate((img) => img.naturalWidth), 4, `inline image decoded: ${await logo.evaluate((img) => img.outerHTML)}`);
  await page.screenshot({ path: join(artifacts, 'inline-image.png') });

  step('move and delete');
  await inboxButton.click();
  await rows.filter({ hasText: 'Digest number 2' }).locator('button').click();
  await page.click('#reader [data-action="move"]');
  await page.locator('#move-dialog[open]').waitFor();
  await page.selectOption('#move-select', { label: 'Archive' });
  await page.click('#move-dialog button[value="move"]');
  await page.locator('#toast', { hasText: 'Moved to Archive' }).waitFor();
  await page.locator('#message-list > li', { hasText: 'Digest number 2' }).waitFor({ state: 'detached' });
  await rows.filter({ hasText: 'Digest number 1' }).locator('button').click();
  await page.locator('#message-subject', { hasText: 'Digest number 1' }).waitFor();
  await page.keyboard.press('#');
  await page.locator('#toast', { hasText: 'Message deleted' }).waitFor();
  await page.locator('#message-list > li', { hasText: 'Digest number 1' }).waitFor({ state: 'detached' });
  await page.locator('#folder-list button', { hasText: 'Trash' }).click();
  await rows.filter({ hasText: 'Digest number 1' }).waitFor();
  await inboxButton.click();
  await rows.first().waitFor();

  step('phone width');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(artifacts, 'phone.png') });
  assert.ok(await page.locator('#folders').evaluate((e) => e.getBoundingClientRect().right <= 0), 'folders off screen');
  await page.click('#menu-button');
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(artifacts, 'phone-folders.png') });
  await page.locator('#folder-list button', { hasText: 'Inbox' }).click();
  await rows.filter({ hasText: 'Quarterly report' }).locator('button').click();
  await page.locator('#list-pane').waitFor({ state: 'hidden' });
  await page.frameLocator('iframe.message-frame').locator('h1', { hasText: 'Revenue is up' }).waitFor();
  await page.screenshot({ path: join(artifacts, 'phone-message.png') });
  await page.click('#back-button');
  await page.locator('#list-pane').waitFor({ state: 'visible' });

  step('sign out');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.click('#logout-button');
  await page.locator('#login-form').waitFor();

  assert.deepEqual(problems, [], 'no console errors or CSP violations');
  console.log('e2e: all steps passed');
} catch (e) {
  failed = true;
  console.error(e && e.stack ? e.stack : e);
  if (problems.length) console.error(`browser problems:\n${problems.join('\n')}`);
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages[0]) await pages[0].screenshot({ path: join(artifacts, 'failure.png') });
  } catch { /* best effort */ }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
