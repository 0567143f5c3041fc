// Browser test of Stamp's webmail, run by web/ui's TestBrowser:
//   node test.mjs <baseURL>
// It logs in as alice@example.test and uses the webmail as a person would,
// at desktop (1280x800) and phone (390x844) sizes: reading plain, HTML
// and newsletter mail, conversations, compose (autosave to Drafts,
// discard, drafts reopened, undo send, a session ending mid-message),
// live mail over the WebSocket and long polling, search operators,
// multi-select and bulk actions with undo, folders (tree, create, rename,
// delete, drag and drop), settings, the phone drawer and Back, the PWA
// shell offline, and logout closing another tab's WebSocket. axe-core
// checks login, list, message, compose and settings in light and dark at
// both sizes. Screenshots of every screen go to $STAMP_TEST_ARTIFACTS.
//
// Features whose API another part of the server provides (rules and
// vacation, identities, Spam/Not spam reporting, export) are tested when
// the endpoint exists and skipped with a loud SKIPPED line when it
// answers 404.
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
const axeSource = await readFile(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

const input = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function deliverLive(subject, { replyTo = '' } = {}) {
  console.log(replyTo ? `STAMP-REPLY ${replyTo} ${subject}` : `STAMP-DELIVER ${subject}`);
  const { value, done } = await input.next();
  assert.ok(!done && value === 'ok', `the Go side did not deliver ${subject}: ${value}`);
}

const started = Date.now();
const step = (name) => console.log(`step: ${name} (at ${((Date.now() - started) / 1000).toFixed(1)} s)`);
const skipped = (what) => console.log(`SKIPPED: ${what}`);
const TIMEOUT = 15_000;
const PASSWORD = 'correct horse battery';

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
const axeProblems = [];

function watch(page) {
  page.on('console', (m) => {
    const text = m.text();
    // Expected: 401s (the session probe before login, the wrong password,
    // the ended session), 400 of the search without a value, 403 of the
    // wrong current password, 404s of
    // other helpers' endpoints not on this branch, the refused loads of the seeded tracker image (port 9), and
    // the offline reload.
    // 429s: the login slow-down refusing the attacked account's guesses.
    const expected = text.includes('status of 401') || text.includes('status of 429') || text.includes('status of 404') || text.includes('status of 400') || text.includes('status of 403') || text.includes('ERR_UNSAFE_PORT')
      || text.includes('127.0.0.1:9') || text.includes('ERR_INTERNET_DISCONNECTED')
      || (text.startsWith(`Blocked script execution in '${base}/v1/messages/`) && text.includes("the 'allow-scripts' permission is not set"));
    if (m.type() === 'error' && !expected) problems.push(`console: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}

function sizeOf(page) { return page.viewportSize().width < 700 ? 'phone' : 'desktop'; }

async function shot(page, name) {
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(artifacts, `${name}-${sizeOf(page)}.png`) });
}

/** axeCheck runs axe-core (WCAG 2.1 A and AA) on the page in light and dark, with a screenshot of each. */
async function axeCheck(page, name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(100);
    await page.evaluate(axeSource); // through DevTools: the page's CSP does not apply
    const violations = await page.evaluate(async () => {
      const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, iframes: false });
      return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')} ${n.failureSummary.replace(/\s+/g, ' ')}`).join(' | ')}`);
    });
    console.log(`axe ${name} ${sizeOf(page)} ${scheme}: ${violations.length} violations`);
    for (const v of violations) axeProblems.push(`axe ${name} ${sizeOf(page)} ${scheme}: ${v}`);
    if (scheme === 'dark') {
      // The default theme follows the system's colour scheme.
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const [r, g, b] = bg.match(/\d+/g).map(Number);
      if (r + g + b > 3 * 100) axeProblems.push(`${name} ${sizeOf(page)}: dark colour scheme, but the page background is ${bg}`);
      await shot(page, `${name}-dark`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** api calls the server with the page's cookies (and CSRF header for writes). */
async function api(page, method, path, body) {
  const cookies = await page.context().cookies(base);
  const csrf = (cookies.find((c) => c.name === 'stamp_csrf') || {}).value || '';
  const r = await page.request.fetch(`${base}${path}`, {
    method, headers: { 'X-Stamp-CSRF': csrf, Accept: 'application/json' }, data: body === undefined ? undefined : body,
  });
  let json = null;
  try { json = await r.json(); } catch { json = null; }
  return { status: r.status(), json };
}

async function folderId(page, role, name) {
  const r = await api(page, 'GET', '/v1/folders');
  const f = r.json.find((x) => (role ? x.role === role : x.name === name));
  assert.ok(f, `folder ${role || name}`);
  return f.id;
}

async function folderMessages(page, role, name) {
  const id = await folderId(page, role, name);
  return (await api(page, 'GET', `/v1/folders/${id}/messages?limit=200`)).json.messages;
}

async function login(page) {
  await page.goto(base);
  await page.locator('#login-form').waitFor();
  await page.fill('#login-user', 'alice@example.test');
  await page.fill('#login-pass', PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.locator('#message-list > li').first().waitFor();
}

const rowsOf = (page) => page.locator('#message-list > li');
const folderButton = (page, name) => page.locator('#folder-list .folder', { has: page.locator('.folder-name', { hasText: new RegExp(`^${name}$`) }) });
const frameOf = (page) => page.frameLocator('iframe.message-frame').first();

/** frameFit tells how the message frame is sized against its document. */
async function frameFit(page) {
  return page.locator('iframe.message-frame').first().evaluate((f) => {
    const d = f.contentDocument.documentElement;
    const zoom = parseFloat(getComputedStyle(d).zoom || '1') || 1;
    return {
      frameHeight: f.clientHeight, docHeight: Math.ceil(d.getBoundingClientRect().height), scrollHeight: d.scrollHeight,
      innerScroll: d.scrollHeight > f.clientHeight + 2, frameWidth: f.clientWidth, docWidth: d.scrollWidth, zoom, fit: [...d.classList].join(' '),
    };
  });
}

const isPhone = (page) => sizeOf(page) === 'phone';

/** openCompose opens a new message: the c key on the desktop, the Compose button on the phone. */
async function openCompose(page) {
  if (isPhone(page)) await page.click('#compose-button');
  else await page.keyboard.press('c');
  await page.locator('#compose-dialog[open]').waitFor();
}

/** openFolder shows a folder's list; on the phone through the drawer. */
async function openFolder(page, name) {
  if (isPhone(page)) {
    await backToList(page);
    await page.click('#menu-button');
    await page.locator('#drawer-backdrop').waitFor();
  }
  await folderButton(page, name).click();
  await page.locator('#list-title', { hasText: name }).waitFor();
}

/** backToList: on the phone, Back from an open message to the list (the desktop shows both). */
async function backToList(page) {
  if (isPhone(page) && await page.locator('#list-pane').isHidden()) {
    await page.click('#back-button');
    await page.locator('#list-pane').waitFor({ state: 'visible' });
  }
}

/** readerAction presses a message toolbar button, from the overflow menu where the toolbar has no room for it (phone). */
async function readerAction(page, action) {
  const b = page.locator(`#reader .reader-toolbar > [data-action="${action}"]`);
  const item = page.locator(`#more-menu [data-action="${action}"]`);
  // The toolbar is laid out for the message being opened (a Junk message
  // puts Not spam in the toolbar and Reply in the menu): until it is,
  // neither place may have the action yet, so look in both until one does.
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    if (await b.isVisible()) return b.click();
    if (await page.locator('#more-button').isVisible()) {
      if (await page.locator('#more-menu').isHidden()) await page.click('#more-button');
      if (await item.isVisible()) return item.click();
      if (await page.locator('#more-menu').isVisible()) await page.keyboard.press('Escape'); // close the menu, look again
    }
    if (Date.now() > deadline) throw new Error(`reader action ${action}: neither in the toolbar nor in the menu`);
    await page.waitForTimeout(100);
  }
}

/** autosaveDraft: typing in compose and waiting puts one draft in Drafts; closing saves the latest text under the same id. */
async function autosaveDraft(page, subject) {
  await openCompose(page);
  await page.fill('#compose-to', 'Bob <bob@example.test>');
  await page.fill('#compose-subject', subject);
  await page.click('#compose-text');
  await page.keyboard.type('First lines of a long message about the plan.');
  if (!isPhone(page)) {
    await shot(page, 'compose');
    await axeCheck(page, 'compose');
  }
  await page.waitForTimeout(6000); // no click on Save: the autosave runs every few seconds
  let drafts = (await folderMessages(page, 'drafts')).filter((m) => m.subject === subject);
  assert.equal(drafts.length, 1, 'the draft is in Drafts after waiting');
  await page.keyboard.type(' More text after the first save.');
  await page.keyboard.press('Escape'); // closes, saving: nothing is lost
  await page.locator('#compose-dialog').waitFor({ state: 'hidden' });
  await page.locator('#toast', { hasText: 'Draft saved' }).waitFor();
  drafts = (await folderMessages(page, 'drafts')).filter((m) => m.subject === subject);
  assert.equal(drafts.length, 1, 'still one draft after the second save');
  const draftText = (await api(page, 'GET', `/v1/messages/${drafts[0].id}`)).json.text;
  assert.match(draftText, /More text after the first save/, 'the draft holds the latest text');
  assert.match(draftText, /^First lines/, 'what was typed comes before the signature');
}

/** draftReopens: a draft opened from Drafts is editable and is edited in place. */
async function draftReopens(page, subject) {
  const rows = rowsOf(page);
  await openFolder(page, 'Drafts');
  await rows.filter({ hasText: subject }).locator('.msg-button').click();
  await page.locator('#compose-dialog[open]').waitFor();
  assert.equal(await page.inputValue('#compose-subject'), subject);
  await page.fill('#compose-subject', `${subject}, edited`);
  if (isPhone(page)) await shot(page, 'draft-reopened');
  await page.click('#compose-close');
  await page.locator('#compose-dialog').waitFor({ state: 'hidden' });
  await rows.filter({ hasText: `${subject}, edited` }).waitFor();
  const drafts = (await folderMessages(page, 'drafts')).filter((m) => m.subject.startsWith(subject));
  assert.deepEqual(drafts.map((m) => m.subject), [`${subject}, edited`], 'the draft was edited in place');
}

/** fromIdentities: compose offers one From choice per identity of the account. */
async function fromIdentities(page) {
  const idents = await api(page, 'GET', '/v1/identities');
  if (idents.status === 404) {
    skipped('From identities in compose: GET /v1/identities answers 404 on this branch (the routing API of contract 2)');
  } else if ((idents.json.identities || []).length > 1) {
    await openCompose(page);
    await page.locator('#compose-from-field').waitFor();
    assert.equal(await page.locator('#compose-from option').count(), idents.json.identities.length, 'one From choice per identity');
    if (isPhone(page)) {
      const box = await page.locator('#compose-from').boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `the From choice fits the phone screen: ${JSON.stringify(box)}`);
    }
    await page.click('#compose-discard');
    await page.locator('#compose-dialog').waitFor({ state: 'hidden' });
  } else {
    skipped('From identities in compose: the account has a single identity');
  }
}

/** failedLoginsFor: 40 parallel wrong passwords for another account from this browser get only 401 and 429 (slowed down), never anything else. */
async function failedLoginsFor(page, account) {
  const guesses = await page.evaluate(async (username) => {
    const tries = Array.from({ length: 40 }, (_, i) => fetch('/v1/auth/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password: `guess ${i}` }),
    }).then((r) => r.status));
    const statuses = await Promise.all(tries);
    return statuses.reduce((n, s) => ({ ...n, [s]: (n[s] || 0) + 1 }), {});
  }, account);
  console.log(`40 parallel wrong passwords for ${account} from the browser (${sizeOf(page)}): ${JSON.stringify(guesses)}`);
  assert.equal((guesses[401] || 0) + (guesses[429] || 0), 40, `only 401 and 429 for the guesses: ${JSON.stringify(guesses)}`);
  assert.ok(guesses[429] > 0, `the attacked account is slowed down (429): ${JSON.stringify(guesses)}`);
}

/** discardAsksFirst: Discard asks before it throws the message away. */
async function discardAsksFirst(page) {
  await openCompose(page);
  await page.fill('#compose-subject', 'Throw me away');
  await page.fill('#compose-text', 'Not worth keeping.');
  await page.click('#compose-discard');
  await page.locator('#confirm-dialog[open]').waitFor();
  await page.click('#confirm-cancel');
  assert.ok(await page.locator('#compose-dialog[open]').isVisible(), 'cancel keeps the message open');
  assert.equal(await page.inputValue('#compose-text'), 'Not worth keeping.');
  await page.click('#compose-discard');
  await page.click('#confirm-ok');
  await page.locator('#compose-dialog').waitFor({ state: 'hidden' });
  assert.equal((await folderMessages(page, 'drafts')).filter((m) => m.subject === 'Throw me away').length, 0, 'no draft left');
}

/** undoSend: Undo in the "Sending" toast gives the message back, its dropped attachment too. */
async function undoSend(page) {
  await openCompose(page);
  await page.fill('#compose-to', 'bob@example.test');
  await page.fill('#compose-subject', 'Sent too early');
  await page.fill('#compose-text', 'Oops.');
  // Attachments by drag and drop: a file dropped on the dialog.
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['hello\n'], 'dropped-notes.txt', { type: 'text/plain' }));
    const d = document.getElementById('compose-dialog');
    d.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    d.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.locator('#compose-attachments li', { hasText: 'dropped-notes.txt' }).waitFor();
  await page.click('#compose-send');
  await page.locator('#toast', { hasText: 'Sending' }).waitFor();
  await page.click('#toast-action');
  await page.locator('#compose-dialog[open]').waitFor();
  assert.equal(await page.inputValue('#compose-subject'), 'Sent too early', 'undo gives the message back');
  await page.locator('#compose-attachments li', { hasText: 'dropped-notes.txt' }).waitFor();
  await page.click('#compose-discard');
  await page.click('#confirm-ok');
  await page.locator('#compose-dialog').waitFor({ state: 'hidden' });
}

/** searchWithOperators: search operators, highlighted matches, empty and error states, newest first. */
async function searchWithOperators(page) {
  const rows = rowsOf(page);
  const search = async (q) => {
    await page.fill('#search-input', q);
    await page.keyboard.press('Enter');
    await page.locator('#list-title', { hasText: `Search: ${q}` }).waitFor();
    await page.locator('#list-status .loading').waitFor({ state: 'detached' });
  };
  if (isPhone(page)) { await page.fill('#search-input', ''); await page.click('#search-input'); }
  else await page.keyboard.press('/');
  await page.keyboard.type('subject:quarterly has:attachment');
  await page.keyboard.press('Enter');
  await page.locator('#list-title', { hasText: 'Search: subject:quarterly' }).waitFor();
  await rows.filter({ hasText: 'Quarterly report' }).waitFor();
  assert.equal(await rows.count(), 1, 'one search result');
  await page.locator('#message-list mark.hit', { hasText: /quarterly/i }).waitFor();
  await shot(page, 'search');
  await search('"budget review"');
  await rows.filter({ hasText: 'Budget review' }).waitFor();
  assert.equal(await rows.count(), 1, 'phrase search');
  await search('cc:alice is:flagged');
  await rows.filter({ hasText: 'Budget review' }).waitFor();
  await search('trip -cabin');
  assert.deepEqual((await page.locator('#message-list .msg-subject').allInnerTexts()).map((t) => t.replace('★ ', '')).sort(), ['Re: Trip in May', 'Trip in May'], 'negation');
  await search('in:junk');
  await rows.filter({ hasText: 'You have won a prize' }).waitFor();
  await page.locator('#message-list > li', { hasText: 'Re: Trip in May' }).waitFor({ state: 'detached' });
  await search('zzqqxx');
  await page.locator('.empty-state', { hasText: 'No messages match' }).waitFor();
  await shot(page, 'search-empty');
  await search('from:');
  await page.locator('.error-state', { hasText: 'needs a value' }).waitFor();
  await search('*');
  await page.locator('.error-state').waitFor();
  await search('filename:report.csv');
  await rows.filter({ hasText: 'Quarterly report' }).waitFor();
  assert.equal(await rows.count(), 1, 'attachment names are searchable');
  // before: follows the Date header: only the newsletter dated two days ago
  // is before yesterday in the Inbox.
  const yesterday = new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 10);
  await search(`before:${yesterday} in:inbox`);
  await rows.filter({ hasText: 'Old newsletter' }).waitFor();
  assert.equal(await rows.count(), 1, 'before: on the Date header');
  await search(`after:${yesterday} to:dan`);
  assert.deepEqual(await page.locator('#message-list .msg-subject').allInnerTexts(), ['Re: Trip in May'], 'after: and to:');
  // Newest first: the old "Trip in May" below the newer replies.
  await search('trip');
  const found = (await api(page, 'GET', '/v1/search?q=trip')).json.messages;
  const times = found.map((m) => Date.parse(m.received_at));
  assert.deepEqual(times, [...times].sort((x, y) => y - x), 'the API lists results newest first');
  const listed = (await page.locator('#message-list .msg-subject').allInnerTexts()).map((t) => t.replace('★ ', ''));
  assert.deepEqual(listed, found.map((m) => m.subject), 'the list shows the results in the API\'s order');
  assert.equal(listed[listed.length - 1], 'Trip in May', 'the oldest, "Trip in May", is listed last');
  assert.equal((await api(page, 'GET', '/v1/search?q=trip&sort=relevance')).json.messages.length, found.length, 'sort=relevance finds the same');
}

/** bulkDeleteUndo: select five rows of the open folder (checkboxes, shift; on the desktop ctrl+click too), delete them, undo. */
async function bulkDeleteUndo(page) {
  const rows = rowsOf(page);
  await rows.filter({ hasText: 'Archived 01' }).waitFor();
  const listed = await rows.count();
  const inArchive = (await folderMessages(page, 'archive')).length;
  await rows.nth(0).locator('.msg-check').click();
  await rows.nth(3).locator('.msg-check').click({ modifiers: ['Shift'] });
  await page.locator('#bulk-count', { hasText: '4 selected' }).waitFor();
  if (isPhone(page)) await rows.nth(6).locator('.msg-check').click();
  else await rows.nth(6).locator('.msg-button').click({ modifiers: ['Control'] });
  await page.locator('#bulk-count', { hasText: '5 selected' }).waitFor();
  await shot(page, 'bulk');
  await page.click('#bulk-bar [data-bulk="delete"]');
  await page.locator('#toast', { hasText: '5 messages deleted' }).waitFor();
  const toastBox = await page.locator('#toast').boundingBox();
  assert.ok(toastBox.height < 60, `the toast and its Undo on one line (${JSON.stringify(toastBox)})`);
  assert.equal(await rows.count(), listed - 5, 'five gone from the list');
  assert.equal((await folderMessages(page, 'trash')).length >= 5, true, 'in Trash');
  await shot(page, 'bulk-deleted');
  await page.click('#toast-action');
  await page.locator('#toast', { hasText: 'Undone' }).waitFor();
  await rows.filter({ hasText: 'Archived 01' }).waitFor();
  assert.equal((await folderMessages(page, 'archive')).length, inArchive, 'all back in Archive');
}

/** moveDeleteUndo: move one Inbox message to Archive (Move dialog; on the phone from the overflow menu), delete another and undo (keys on the desktop, buttons on the phone). */
async function moveDeleteUndo(page, moved, deleted) {
  const rows = rowsOf(page);
  await openFolder(page, 'Inbox');
  await rows.filter({ hasText: moved }).locator('.msg-button').click();
  await readerAction(page, 'move');
  await page.locator('#move-dialog[open]').waitFor();
  await shot(page, 'move-dialog');
  await page.selectOption('#move-select', { label: 'Archive' });
  await page.click('#move-dialog button[value="move"]');
  await page.locator('#toast', { hasText: 'Moved to Archive' }).waitFor();
  await backToList(page);
  await page.locator('#message-list > li', { hasText: moved }).waitFor({ state: 'detached' });
  await rows.filter({ hasText: deleted }).first().locator('.msg-button').click();
  await page.locator('#message-subject', { hasText: deleted }).waitFor();
  if (isPhone(page)) await readerAction(page, 'delete');
  else await page.keyboard.press('#');
  await page.locator('#toast', { hasText: 'Message deleted' }).waitFor();
  await backToList(page);
  await page.locator('#message-list > li', { hasText: deleted }).waitFor({ state: 'detached' });
  if (isPhone(page)) await page.click('#toast-action');
  else await page.keyboard.press('z');
  await page.locator('#toast', { hasText: 'Undone' }).waitFor();
  await rows.filter({ hasText: deleted }).first().waitFor();
}

/** notSpam: the Junk message has Not spam (and no Spam), which moves it to the Inbox. */
async function notSpam(page) {
  const junkList = await folderMessages(page, 'junk');
  const prize = junkList.find((m) => m.subject === 'You have won a prize');
  const spamAPI = (await api(page, 'GET', `/v1/messages/${prize.id}`)).json;
  assert.ok(spamAPI.spam && spamAPI.spam.junk, `the Junk message's verdict is in the API (${JSON.stringify(spamAPI.spam)})`);
  await openFolder(page, 'Junk');
  await rowsOf(page).filter({ hasText: 'You have won a prize' }).locator('.msg-button').click();
  await page.locator('#reader .reader-toolbar > [data-action="notspam"]').waitFor();
  assert.ok(await page.locator('#reader .reader-toolbar > [data-action="spam"]').isHidden(), 'no Spam button on a Junk message');
  const bar = await page.locator('.reader-toolbar').evaluate((e) => ({ sw: e.scrollWidth, cw: e.clientWidth, left: e.getBoundingClientRect().left }));
  assert.ok(bar.sw <= bar.cw + 1 && bar.left >= 0, `the Junk message's toolbar fits the screen (${JSON.stringify(bar)})`);
  if (isPhone(page)) {
    await page.click('#more-button');
    await page.locator('#more-menu [data-action="reply"]').waitFor();
    assert.equal(await page.locator('#more-menu [data-action="spam"]').count(), 0, 'no Spam in the overflow menu of a Junk message');
    await page.click('#more-button');
  }
  // The explanation: the score and each signal, opened as a reader would.
  await page.locator('.spam-panel summary', { hasText: 'score 7.4, junk from 5.0' }).click();
  await page.locator('.spam-panel li', { hasText: 'bayes' }).waitFor();
  assert.equal(await page.locator('.spam-panel li').count(), 3, 'one line per signal');
  await shot(page, 'junk-message');
  await page.click('#reader .reader-toolbar > [data-action="notspam"]');
  await page.locator('#toast', { hasText: /[Nn]ot spam/ }).waitFor();
  assert.ok((await folderMessages(page, 'inbox')).some((m) => m.subject === 'You have won a prize'), 'Not spam moved it to the Inbox');
  const spamProbe = await api(page, 'POST', `/v1/messages/${prize.id}/spam`, { spam: true });
  assert.equal(spamProbe.status, 200, 'the spam API reports');
}

/** editSettings: in the open Settings, a display name, a signature and the dark theme saved; a wrong current password refused. */
async function editSettings(page, name) {
  await page.fill('#set-name', name);
  await page.fill('#set-signature', 'Alice\nStamp Mail');
  await page.check('#settings-form input[name=theme][value=dark]');
  await page.click('#settings-save');
  await page.locator('#toast', { hasText: 'Settings saved' }).waitFor();
  const saved = (await api(page, 'GET', '/v1/settings')).json;
  assert.equal(saved.display_name, name);
  assert.equal(saved.theme, 'dark');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'dark theme on');
  await page.fill('#pw-current', 'not my password');
  await page.fill('#pw-new', 'another long password');
  await page.click('#password-form button[type=submit]');
  await page.locator('#password-error', { hasText: 'current password is wrong' }).waitFor();
}

/** folderTree: create a subfolder of Projects, rename it, delete it (on the phone in the open drawer). */
async function folderTree(page) {
  // On the phone a dialog closes the drawer: open it again to see the tree.
  const showFolders = async () => {
    if (!isPhone(page) || await page.locator('#drawer-backdrop').isVisible()) return;
    await backToList(page);
    await page.click('#menu-button');
    await page.locator('#drawer-backdrop').waitFor();
  };
  await showFolders();
  await page.click('#new-folder-button');
  await page.locator('#folder-dialog[open]').waitFor();
  await page.fill('#folder-name', '2024');
  await page.selectOption('#folder-parent', 'Projects');
  await shot(page, 'folder-dialog');
  await page.click('#folder-dialog button[value="save"]');
  await showFolders();
  await page.locator('#folder-list .folder-row.depth-1 .folder-name', { hasText: '2024' }).waitFor();
  await page.click('#folder-list [aria-label="Folder actions: Projects/2024"]');
  await page.locator('#folder-list .folder-tools:not([hidden]) button', { hasText: 'Rename or move' }).click();
  await page.fill('#folder-name', '2025');
  await page.click('#folder-dialog button[value="save"]');
  await showFolders();
  await page.locator('#folder-list .folder-row.depth-1 .folder-name', { hasText: '2025' }).waitFor();
  await page.click('#folder-list [aria-label="Folder actions: Projects/2025"]');
  await page.locator('#folder-list .folder-tools:not([hidden]) button', { hasText: 'Delete' }).click();
  await page.locator('#confirm-dialog[open]').waitFor();
  await page.click('#confirm-ok');
  await showFolders();
  await page.locator('#folder-list .folder-name', { hasText: '2025' }).waitFor({ state: 'detached' });
  if (isPhone(page)) {
    await shot(page, 'folder-tree');
    await page.mouse.click(370, 500); // the backdrop closes the drawer
    await page.locator('#drawer-backdrop').waitFor({ state: 'hidden' });
  }
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  watch(page);
  const rows = rowsOf(page);

  step('login page');
  await page.goto(base);
  await page.locator('#login-form').waitFor();
  await shot(page, 'login');
  await axeCheck(page, 'login');

  step('unknown paths are 404, the autoconfig path is served');
  assert.equal((await page.request.get(`${base}/no/such/page`)).status(), 404, 'unknown path');
  const ac = await page.request.get(`${base}/mail/config-v1.1.xml?emailaddress=alice@example.test`);
  assert.equal(ac.status(), 200);
  assert.match(await ac.text(), /<clientConfig/, 'autoconfig XML');

  step('wrong password is refused');
  await page.fill('#login-user', 'alice@example.test');
  await page.fill('#login-pass', 'wrong password');
  await page.click('#login-form button[type=submit]');
  await page.locator('#login-error', { hasText: 'Wrong email address or password' }).waitFor();

  step('40 failed logins for another account from this browser do not stop this account\'s login');
  await failedLoginsFor(page, 'bob@example.test');

  step('login');
  await page.fill('#login-pass', PASSWORD);
  await page.click('#login-form button[type=submit]');
  await rows.first().waitFor();
  await page.locator('#me', { hasText: 'alice@example.test' }).waitFor();
  const inboxButton = folderButton(page, 'Inbox');
  assert.match(await inboxButton.innerText(), /Inbox\s*6/, 'inbox shows 6 unread');
  // Listed by conversation: the three messages of "Trip in May" make one row.
  assert.equal(await rows.count(), 9, 'eleven messages in nine conversations');
  await page.locator('#list-count', { hasText: '9 conversations' }).waitFor();
  assert.equal(await page.locator('#list-count').getAttribute('title'), '11 messages in 9 conversations');
  const tripRow = rows.filter({ hasText: 'Great, May it is' });
  assert.equal(await tripRow.locator('.thread-n').innerText(), '3', 'the conversation row counts its messages');
  assert.match(await tripRow.locator('.msg-from').innerText(), /^Dan, me/, 'the row names the people of the conversation');
  assert.equal(await rows.filter({ hasText: 'Trip in May' }).count(), 1, 'one row for the thread');
  assert.equal(await rows.filter({ hasText: 'Quarterly report' }).locator('.clip').count(), 1, 'a paperclip for a real attachment');
  await shot(page, 'inbox');
  await axeCheck(page, 'list');

  step('API: future cursor, malformed ids, human errors, folder names, totals (with the browser\'s session)');
  {
    const inboxId = await folderId(page, 'inbox');
    const t0 = Date.now();
    const future = await api(page, 'GET', '/v1/events/poll?cursor=999999999');
    assert.equal(future.status, 400, 'a cursor from the future is 400');
    assert.ok(Date.now() - t0 < 5000, 'answered at once, not after the long-poll wait');
    const bad = await api(page, 'GET', '/v1/messages/abc');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'bad_request');
    const human = await api(page, 'POST', '/v1/messages', { to: 'bob@example.test', text: 'x' });
    assert.equal(human.status, 400);
    assert.match(human.json.error.message, /"to"/);
    assert.doesNotMatch(human.json.error.message, /Go struct|composeRequest|\[\]string|json: /, 'no Go internals');
    const blank = await api(page, 'POST', '/v1/folders', { name: '   ' });
    assert.equal(blank.status, 400, 'a blank folder name is refused');
    const dots = await api(page, 'POST', '/v1/folders', { name: 'a/../b' });
    assert.equal(dots.status, 400, 'a/../b is refused');
    const pageOf = await api(page, 'GET', `/v1/folders/${inboxId}/messages?limit=2`);
    assert.equal(pageOf.json.total, 11, 'folder pages carry totals');
    assert.equal(pageOf.json.folder_unread, 6);
  }

  step('read a plain text message');
  await rows.filter({ hasText: 'Welcome to Stamp' }).locator('.msg-button').click();
  await page.locator('#message-view .message-text', { hasText: 'this is the first message' }).waitFor();
  await page.locator('#reader [data-action="toggle-seen"]', { hasText: 'Mark unread' }).waitFor({ state: 'attached' });
  await page.locator('#folder-list .folder', { hasText: /Inbox\s*5/ }).waitFor();
  assert.match(page.url(), /#\/folder\/\d+\/message\/\d+$/, 'the message has its own URL');

  step('read an HTML message: sanitized, sandboxed, styled, remote images blocked');
  await rows.filter({ hasText: 'Quarterly report' }).locator('.msg-button').click();
  const frame = page.locator('iframe.message-frame');
  await frame.waitFor();
  assert.equal(await frame.getAttribute('sandbox'), 'allow-same-origin allow-popups allow-popups-to-escape-sandbox',
    'the message frame may open popups only: no scripts (same origin, so that it can be sized)');
  assert.match(await frame.getAttribute('src'), /^\/v1\/messages\/\d+\/html$/, 'the frame loads the HTML endpoint');
  const body = frameOf(page).locator('body');
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
  const note = body.locator('p', { hasText: 'Numbers attached' });
  assert.equal(await note.evaluate((e) => getComputedStyle(e).color), 'rgb(0, 90, 40)', 'the message\'s <style> rule for its class applies');
  assert.equal(await note.evaluate((e) => getComputedStyle(e).position), 'static', 'position: fixed in the style sheet was removed');
  assert.equal(await body.evaluate(() => [...document.styleSheets].some((s) => [...s.cssRules].some((r) => r.cssText.includes('@import')))), false, 'no @import');
  await page.locator('.remote-banner').waitFor();
  await shot(page, 'message-html');

  step('a link in the message opens a new window without opener or referrer');
  const link = body.locator('a', { hasText: 'Read the full report' });
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer nofollow');
  const [popup] = await Promise.all([context.waitForEvent('page'), link.click()]);
  await popup.waitForLoadState('domcontentloaded');
  assert.equal(popup.url(), `${base}/landing?from=mail`, 'the popup went to the link');
  assert.equal(await popup.evaluate(() => window.opener), null, 'no opener');
  assert.equal(await popup.evaluate(() => document.referrer), '', 'no referrer');
  await popup.close();

  step('show remote images');
  await page.click('#show-images');
  await frameOf(page).locator('img[src^="http://127.0.0.1:9/"]').waitFor({ state: 'attached' });
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

  step('a newsletter keeps its design: <style> colours, frame sized to the content, prices whole');
  await rows.filter({ hasText: 'Autumn sale newsletter' }).locator('.msg-button').click();
  const nl = frameOf(page).locator('body');
  await nl.locator('.hero', { hasText: 'Autumn sale' }).waitFor();
  assert.equal(await nl.locator('.hero').evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(255, 200, 0)', 'hero colour from the <style> block');
  assert.equal(await nl.locator('a.btn').evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(200, 0, 100)', 'button colour from the <style> block');
  assert.equal(await nl.locator('.price').evaluate((e) => { const r = document.createRange(); r.selectNodeContents(e); return r.getClientRects().length; }), 1, '$92.99 on one line');
  await page.waitForTimeout(300);
  let fit = await frameFit(page);
  assert.ok(fit.docHeight > 900, `the newsletter is long (${fit.docHeight}px)`);
  assert.ok(!fit.innerScroll && fit.frameHeight >= fit.docHeight, `no inner scrollbar: frame ${fit.frameHeight}px for ${fit.docHeight}px of content`);
  await shot(page, 'message');
  await axeCheck(page, 'message');

  step('shortcuts work after a click inside the message');
  await nl.locator('td.item').nth(3).click();
  await page.keyboard.press('?');
  await page.locator('#help-dialog[open]').waitFor();
  await page.keyboard.press('Escape');
  await page.locator('#help-dialog').waitFor({ state: 'hidden' });

  step('conversation view: the thread stacked, older messages collapsed and expandable');
  await rows.filter({ hasText: 'Great, May it is' }).locator('.msg-button').click();
  await page.locator('#message-view .card').nth(2).waitFor();
  assert.equal(await page.locator('#message-view .card').count(), 3, 'three messages in the conversation');
  assert.equal(await page.locator('#message-view .card.collapsed').count(), 2, 'older ones collapsed');
  await page.locator('#message-view .thread-count', { hasText: '3 messages' }).waitFor();
  await page.locator('#message-view .card.collapsed .card-head').first().click();
  await page.locator('#message-view .card.expanded .message-text', { hasText: 'Shall we plan the trip' }).waitFor();
  await shot(page, 'conversation');

  step('replying to my own sent message answers its recipient');
  await page.fill('#search-input', '"first week of May"');
  await page.keyboard.press('Enter');
  await rows.filter({ hasText: 'first week of May' }).locator('.msg-button').click();
  await page.locator('#message-view .card.current .message-text', { hasText: 'first week of May' }).waitFor();
  await page.keyboard.press('r');
  await page.locator('#compose-dialog[open]').waitFor();
  assert.equal(await page.inputValue('#compose-to'), 'dan@remote.test', 'reply goes to Dan, not to me');
  await page.click('#compose-discard');
  await page.locator('#confirm-dialog[open]').waitFor();
  await page.click('#confirm-ok');
  await page.locator('#compose-dialog').waitFor({ state: 'hidden' });
  await inboxButton.click();
  await rows.filter({ hasText: 'Great, May it is' }).waitFor();

  step('flag with the keyboard, help overlay');
  await page.keyboard.press('Escape');
  await page.locator('#reader').waitFor({ state: 'hidden' });
  await page.keyboard.press('s');
  await page.locator('#message-list li.selected.flagged').waitFor();
  await page.keyboard.press('?');
  await page.locator('#help-dialog[open]').waitFor();
  await shot(page, 'help');
  await page.keyboard.press('Escape');
  await page.locator('#help-dialog').waitFor({ state: 'hidden' });
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  await page.keyboard.press('o');
  await page.locator('#message-subject').waitFor();
  await page.keyboard.press('Escape');

  step('compose autosaves to Drafts while typing, under one draft id');
  await autosaveDraft(page, 'Autosaved plan');

  step('a draft reopens editable');
  await draftReopens(page, 'Autosaved plan');

  step('discard asks first');
  await discardAsksFirst(page);
  await inboxButton.click();
  await rows.first().waitFor();

  step('undo send');
  await undoSend(page);

  step('From identities');
  await fromIdentities(page);

  step('compose and send with an attachment');
  await page.keyboard.press('c');
  await page.locator('#compose-dialog[open]').waitFor();
  await page.fill('#compose-to', 'Bob <bob@example.test>');
  await page.fill('#compose-subject', 'Lunch on Friday?');
  await page.fill('#compose-text', 'Shall we meet at noon?\nThe menu is attached.');
  await page.setInputFiles('#compose-files', { name: 'menu.txt', mimeType: 'text/plain', buffer: Buffer.from('soup\nbread\n') });
  await page.locator('#compose-attachments li', { hasText: 'menu.txt' }).waitFor();
  await page.click('#compose-send');
  await page.locator('#compose-dialog').waitFor({ state: 'hidden' });
  await page.locator('#toast', { hasText: 'Message sent' }).waitFor();

  step('reply prefills recipient and subject');
  await rows.filter({ hasText: 'Welcome to Stamp' }).locator('.msg-button').click();
  await page.locator('#message-view .message-text').waitFor();
  await page.keyboard.press('r');
  await page.locator('#compose-dialog[open]').waitFor();
  assert.equal(await page.inputValue('#compose-to'), 'team@remote.test');
  assert.equal(await page.inputValue('#compose-subject'), 'Re: Welcome to Stamp');
  await page.click('#compose-discard');
  await page.click('#confirm-ok');
  await page.keyboard.press('Escape');

  step('new mail arrives live over the WebSocket');
  await page.locator('body[data-live="socket"]').waitFor();
  await deliverLive('Live over WebSocket');
  await rows.filter({ hasText: 'Live over WebSocket' }).waitFor();

  step('a reply arriving live joins its conversation row, on top and unread');
  await deliverLive('Re: Trip in May', { replyTo: 'trip2@remote.test' });
  await rows.first().filter({ hasText: 'Trip in May' }).locator('.thread-n', { hasText: '4' }).waitFor();
  assert.ok(await rows.first().evaluate((e) => e.classList.contains('unread')), 'the conversation is unread again');
  assert.equal(await rows.filter({ hasText: 'Trip in May' }).count(), 1, 'still one row for the thread');

  step('new mail arrives live over long polling when the socket fails');
  await page.routeWebSocket(/\/v1\/events/, (ws) => ws.close());
  await page.reload();
  await rows.first().waitFor();
  await page.locator('body[data-live="poll"]').waitFor();
  await page.waitForTimeout(300); // let the first poll reach the server
  await deliverLive('Live over long polling');
  await rows.filter({ hasText: 'Live over long polling' }).waitFor();
  await page.unrouteAll({ behavior: 'ignoreErrors' });

  step('search with operators, highlighted matches, empty and error states, newest first');
  await searchWithOperators(page);

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
  await folderButton(page, 'Archive').click();
  await page.locator('#list-title', { hasText: 'Archive' }).waitFor();
  await rows.filter({ hasText: 'Archived 01' }).waitFor();
  assert.equal(await rows.count(), 50, 'first page holds 50');
  await page.locator('#list-count', { hasText: '56 messages' }).waitFor();
  await page.click('#load-more');
  await rows.filter({ hasText: 'Archived 55' }).waitFor();
  assert.equal(await rows.count(), 56, 'both pages');
  const subjects = await page.locator('#message-list .msg-subject').allInnerTexts();
  assert.equal(new Set(subjects).size, 56, 'no duplicates across pages');
  assert.ok(await page.locator('#load-more').isHidden(), 'no more pages');

  step('multi-select with checkboxes and shift, bulk delete, undo');
  await bulkDeleteUndo(page);

  step('inline (cid:) image shows in the sandboxed frame and is not listed as an attachment');
  // The list may still be reloading after the undo above (a reload brings
  // back the first page only): open the message, and try again if the row
  // clicked was replaced before it opened.
  for (let attempt = 1; ; attempt++) {
    const row = rows.filter({ hasText: 'Inline picture' });
    if (!await row.count() && await page.locator('#load-more').isVisible()) await page.click('#load-more');
    await row.locator('.msg-button').click();
    try {
      await page.locator('#message-subject', { hasText: 'Inline picture' }).waitFor({ timeout: 5000 });
      break;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
  const logo = frameOf(page).locator('img[alt="logo"][src^="data:image/png"]');
  await logo.waitFor();
  await logo.evaluate((img) => img.complete || new Promise((ok) => { img.onload = ok; img.onerror = ok; }));
  assert.equal(await logo.evaluate((img) => img.naturalWidth), 4, 'inline image decoded');
  assert.equal(await page.locator('#message-view .attachments').count(), 0, 'no attachment list for an inline image');
  assert.equal(await rows.filter({ hasText: 'Inline picture' }).locator('.clip').count(), 0, 'no paperclip for an inline image');
  const inlineMsg = (await folderMessages(page, 'archive')).find((m) => m.subject === 'Inline picture');
  assert.equal(inlineMsg.has_attachments, false, 'the API: has_attachments false for an inline image');
  await shot(page, 'inline-image');

  step('folders: an empty folder shows an empty state');
  await folderButton(page, 'Projects').click();
  await page.locator('.empty-state', { hasText: 'This folder is empty' }).waitFor();
  await shot(page, 'empty-folder');

  step('unrelated mail with the same subject stays apart in the list by conversation');
  await folderButton(page, 'Receipts').click();
  await rows.nth(1).waitFor();
  assert.equal(await rows.filter({ hasText: 'Invoice' }).count(), 2, 'two strangers writing "Invoice" are two conversations');
  assert.equal(await page.locator('#message-list .thread-n').count(), 0, 'neither is a conversation of two');

  step('drag a message to a folder');
  await inboxButton.click();
  await rows.filter({ hasText: 'Digest number 3' }).waitFor();
  await rows.filter({ hasText: 'Digest number 3' }).dragTo(folderButton(page, 'Projects'));
  await page.locator('#toast', { hasText: 'Moved to Projects' }).waitFor();
  await page.locator('#message-list > li', { hasText: 'Digest number 3' }).waitFor({ state: 'detached' });
  assert.deepEqual((await folderMessages(page, null, 'Projects')).map((m) => m.subject), ['Digest number 3'], 'moved by drag and drop');

  step('folder tree: create a subfolder, rename it, delete it');
  await folderTree(page);

  step('move and delete with undo');
  await moveDeleteUndo(page, 'Digest number 2', 'Digest number 1');

  step('Spam / Not spam');
  await notSpam(page);

  step('settings: display name, signature, theme, password, sessions');
  await inboxButton.click();
  await rows.first().waitFor();
  // Another device signs in (an iPhone's Safari, over the API).
  const iphone = await browser.newContext({ userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1' });
  assert.equal((await iphone.request.post(`${base}/v1/auth/login`, { data: { username: 'alice@example.test', password: PASSWORD } })).status(), 200);
  assert.equal((await iphone.request.get(`${base}/v1/me`)).status(), 200, 'the iPhone is signed in');
  await page.click('#settings-button');
  await page.locator('#settings-dialog[open]').waitFor();
  const thisSession = page.locator('#sessions li', { hasText: 'this browser' });
  await thisSession.locator('.session-device', { hasText: 'Chrome on Linux' }).waitFor();
  assert.match(await thisSession.locator('.session-where').innerText(), /^127\.0\.0\.1 · signed in /, 'the session shows its IP');
  await page.locator('#sessions li .session-device', { hasText: 'Safari on iPhone' }).waitFor();
  await shot(page, 'settings');
  await page.locator('#sessions').scrollIntoViewIfNeeded();
  await shot(page, 'settings-sessions');
  await page.locator('#set-name').scrollIntoViewIfNeeded();
  await axeCheck(page, 'settings');
  await editSettings(page, 'Alice Liddell');
  await page.click('#sessions-others');
  await page.locator('#confirm-dialog[open]').waitFor();
  await page.click('#confirm-ok');
  await page.locator('#toast', { hasText: 'Other sessions signed out' }).waitFor();
  await page.locator('#sessions li .session-device', { hasText: 'Safari on iPhone' }).waitFor({ state: 'detached' });
  assert.equal(await page.locator('#sessions li').count(), 1, 'only this browser is left');
  assert.equal((await iphone.request.get(`${base}/v1/me`)).status(), 401, 'the iPhone was signed out');
  await iphone.close();
  const filters = await api(page, 'GET', '/v1/filters');
  if (filters.status === 404) {
    skipped('rules and vacation editor: GET /v1/filters answers 404 on this branch (the routing API of contract 2)');
    await page.locator('#filters', { hasText: 'not available' }).waitFor();
  } else {
    await page.click('#filters button:has-text("Add rule")');
    const rule = page.locator('#rules .rule').last();
    await rule.locator('input').first().fill('newsletter@shop.example');
    await rule.locator('select').nth(1).selectOption('move');
    await rule.locator('input').nth(1).fill('Projects');
    await page.check('#vac-on');
    await page.fill('#vac-subject', 'Away');
    await page.fill('#vac-body', 'Back on Monday.');
    await page.click('#filters-save');
    await page.locator('#toast', { hasText: 'Rules saved' }).waitFor();
    await page.locator('#rules').scrollIntoViewIfNeeded();
    await shot(page, 'settings-rules');
    assert.equal(await page.locator('#filters').evaluate((e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() === 'null')), false, 'no stray text in the rules editor');
    const got = (await api(page, 'GET', '/v1/filters')).json;
    assert.ok(got.rules.some((r) => r.contains === 'newsletter@shop.example' && r.action === 'move' && r.target === 'Projects'), 'rule saved');
    assert.equal(got.vacation.enabled, true, 'vacation on');
  }
  const exp = await page.request.fetch(`${base}/v1/export`, { method: 'HEAD' });
  if (exp.status() === 404) {
    skipped('"Download all my mail": GET /v1/export answers 404 on this branch (the ops API of contract 7)');
    await page.locator('#export-section').waitFor({ state: 'hidden' });
  } else {
    const [zip] = await Promise.all([page.waitForEvent('download'), page.click('#export-link')]);
    const bytes = await readFile(await zip.path());
    assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'the export is a ZIP file');
  }
  await page.keyboard.press('Escape');
  await page.locator('#settings-dialog').waitFor({ state: 'hidden' });
  await shot(page, 'inbox-dark-theme');
  await page.keyboard.press('c');
  await page.locator('#compose-dialog[open]').waitFor();
  assert.match(await page.inputValue('#compose-text'), /-- \nAlice\nStamp Mail$/, 'the signature is in a new message');
  await page.click('#compose-discard');
  await page.locator('#compose-dialog').waitFor({ state: 'hidden' });
  await page.click('#settings-button');
  await page.check('#settings-form input[name=theme][value=auto]');
  await page.check('#settings-form input[name=density][value=compact]');
  await page.click('#settings-save');
  await page.locator('#toast', { hasText: 'Settings saved' }).waitFor();
  await page.keyboard.press('Escape');
  assert.ok(await page.evaluate(() => document.body.classList.contains('compact')), 'compact density');
  await shot(page, 'inbox-compact');
  await page.click('#settings-button');
  await page.check('#settings-form input[name=density][value=comfortable]');
  await page.click('#settings-save');
  await page.locator('#toast', { hasText: 'Settings saved' }).waitFor();
  await page.keyboard.press('Escape');

  step('settings: single messages instead of conversations, and back');
  await page.click('#settings-button');
  await page.uncheck('#set-conversations');
  await page.click('#settings-save');
  await page.locator('#toast', { hasText: 'Settings saved' }).waitFor();
  await page.keyboard.press('Escape');
  await rows.filter({ hasText: 'first week of May' }).waitFor();
  assert.equal(await rows.filter({ hasText: 'Trip in May' }).count(), 4, 'each message of the thread on its own row');
  assert.equal(await page.locator('#message-list .thread-n').count(), 0, 'no conversation counts');
  assert.equal((await api(page, 'GET', '/v1/settings')).json.conversations, false);
  await page.click('#settings-button');
  await page.check('#set-conversations');
  await page.click('#settings-save');
  await page.locator('#toast', { hasText: 'Settings saved' }).waitFor();
  await page.keyboard.press('Escape');
  await page.locator('#message-list > li', { hasText: 'first week of May' }).waitFor({ state: 'detached' });

  step('a session ending mid-message keeps the message for after signing in');
  await page.keyboard.press('c');
  await page.locator('#compose-dialog[open]').waitFor();
  await page.fill('#compose-to', 'bob@example.test');
  await page.fill('#compose-subject', 'Kept across sign-in');
  await page.fill('#compose-text', 'Typed before the session ended.');
  await page.waitForTimeout(800);
  const sessions = (await api(page, 'GET', '/v1/sessions')).json.sessions;
  const current = sessions.find((s) => s.current);
  assert.equal((await api(page, 'DELETE', `/v1/sessions/${current.id}`)).status, 204);
  await page.locator('#login-form').waitFor(); // the server closed the WebSocket: sign in again
  await page.fill('#login-user', 'alice@example.test');
  await page.fill('#login-pass', PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.locator('#compose-dialog[open]').waitFor();
  assert.equal(await page.inputValue('#compose-text'), 'Typed before the session ended.', 'the message came back');
  await page.locator('#compose-notice', { hasText: 'kept on this device' }).waitFor();
  await page.click('#compose-send');
  await page.locator('#toast', { hasText: 'Message sent' }).waitFor();

  step('logout closes the session\'s WebSocket, in every tab');
  const other = await context.newPage();
  watch(other);
  const otherSocket = new Promise((resolve) => other.on('websocket', (ws) => { if (ws.url().includes('/v1/events')) ws.on('close', () => resolve(true)); }));
  await other.goto(base);
  await other.locator('body[data-live="socket"]').waitFor();
  await page.click('#logout-button');
  await page.locator('#login-form').waitFor();
  assert.equal(await Promise.race([otherSocket, new Promise((r) => setTimeout(() => r(false), 5000))]), true, 'the other tab\'s WebSocket was closed by the server');
  await other.locator('#login-form').waitFor();
  await other.close();

  // ---------------------------------------------------------------- phone
  const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, acceptDownloads: true });
  phoneCtx.setDefaultTimeout(TIMEOUT);
  const phone = await phoneCtx.newPage();
  watch(phone);
  const prows = rowsOf(phone);
  step('phone: login, after 40 failed logins for another account from this phone');
  await phone.goto(base);
  await phone.locator('#login-form').waitFor();
  await shot(phone, 'login');
  await axeCheck(phone, 'login');
  await failedLoginsFor(phone, 'bob@example.test');
  await login(phone);
  await shot(phone, 'inbox');
  await axeCheck(phone, 'list');
  assert.ok(await phone.locator('#folders').evaluate((e) => e.getBoundingClientRect().right <= 0), 'folders off screen');

  step('phone: the folder drawer has a backdrop; a tap outside closes it and opens nothing');
  await phone.click('#menu-button');
  await phone.locator('#drawer-backdrop').waitFor();
  await phone.waitForTimeout(250);
  await shot(phone, 'folders');
  await phone.mouse.click(370, 500);
  await phone.locator('#drawer-backdrop').waitFor({ state: 'hidden' });
  assert.ok(await phone.locator('#reader').isHidden(), 'no message opened under the backdrop');
  await phone.click('#menu-button');
  await phone.locator('#drawer-backdrop').waitFor();
  await phone.goBack();
  await phone.locator('#drawer-backdrop').waitFor({ state: 'hidden' });

  step('phone: a newsletter scaled to the screen, no inner scrollbar; Back returns to the list');
  await prows.filter({ hasText: 'Autumn sale newsletter' }).locator('.msg-button').click();
  await phone.locator('#list-pane').waitFor({ state: 'hidden' });
  await frameOf(phone).locator('.hero').waitFor();
  await phone.waitForTimeout(400);
  fit = await frameFit(phone);
  assert.match(fit.fit, /fit-\d+/, `the 600 px table is scaled (${JSON.stringify(fit)})`);
  assert.ok(fit.docWidth * fit.zoom <= fit.frameWidth + 4, `scaled to fit: ${JSON.stringify(fit)}`);
  assert.ok(!fit.innerScroll, `no inner scrollbar on the phone: ${JSON.stringify(fit)}`);
  const bar = await phone.locator('.reader-toolbar').evaluate((e) => ({ sw: e.scrollWidth, cw: e.clientWidth }));
  assert.ok(bar.sw <= bar.cw + 1, `the toolbar fits the screen (${bar.sw} > ${bar.cw})`);
  await shot(phone, 'message');
  await axeCheck(phone, 'message');
  await phone.click('#more-button');
  await phone.locator('#more-menu button', { hasText: 'Move' }).waitFor();
  await shot(phone, 'message-more');
  await phone.locator('#more-menu button', { hasText: 'Flag' }).click();
  await phone.locator('#toast', { hasText: 'Flagged' }).waitFor();
  await phone.goBack();
  await phone.locator('#list-pane').waitFor({ state: 'visible' });
  assert.ok(await phone.locator('#reader').isHidden(), 'Back closed the message');
  assert.ok(!/\/message\//.test(phone.url()), 'the URL is the list again');

  step('phone: the list by conversation, conversation, compose, settings, search, folders');
  assert.equal(await prows.filter({ hasText: 'Booked: the cabin' }).locator('.thread-n').innerText(), '4', 'one row for the conversation of four on the phone');
  assert.equal(await prows.filter({ hasText: 'Quarterly report' }).locator('.clip').count(), 1, 'paperclip on the phone');
  await prows.filter({ hasText: 'Booked: the cabin' }).locator('.msg-button').click();
  await phone.locator('#message-view .card').nth(2).waitFor();
  await shot(phone, 'conversation');
  await phone.click('#back-button');
  await phone.locator('#list-pane').waitFor({ state: 'visible' });
  await phone.click('#compose-button');
  await phone.locator('#compose-dialog[open]').waitFor();
  await phone.fill('#compose-subject', 'From the phone');
  const fromBox = await phone.locator('#compose-from').boundingBox();
  const dialogBox = await phone.locator('#compose-dialog').boundingBox();
  assert.ok(fromBox.x + fromBox.width <= dialogBox.x + dialogBox.width, `the From choice fits the phone's dialog (${JSON.stringify(fromBox)} in ${JSON.stringify(dialogBox)})`);
  // The chosen address is shown whole, not cut at the select's edge: its text,
  // in the select's font, is narrower than the select less padding and arrow.
  const fromText = await phone.locator('#compose-from').evaluate((sel) => {
    const cs = getComputedStyle(sel);
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const text = sel.options[sel.selectedIndex].text;
    return { text, width: ctx.measureText(text).width, room: sel.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 24 };
  });
  assert.ok(fromText.width <= fromText.room, `the phone's From choice shows "${fromText.text}" whole (${Math.round(fromText.width)} px of text in ${Math.round(fromText.room)} px)`);
  await shot(phone, 'compose');
  await axeCheck(phone, 'compose');
  await phone.click('#compose-discard');
  await phone.click('#confirm-ok');
  await phone.locator('#compose-dialog').waitFor({ state: 'hidden' });
  await phone.click('#settings-button');
  await phone.locator('#settings-dialog[open]').waitFor();
  await shot(phone, 'settings');
  await axeCheck(phone, 'settings');
  await phone.keyboard.press('Escape');
  await phone.fill('#search-input', 'trip');
  await phone.keyboard.press('Enter');
  await prows.filter({ hasText: 'Trip in May' }).first().waitFor();
  await shot(phone, 'search');
  await phone.click('#menu-button');
  await folderButton(phone, 'Projects').click();
  await phone.locator('#message-list > li', { hasText: 'Digest number 3' }).waitFor();
  await phone.click('#menu-button');
  await folderButton(phone, 'Sent').click();
  await phone.locator('#list-title', { hasText: 'Sent' }).waitFor();
  await phone.click('#menu-button');
  await folderButton(phone, 'Archive').click();
  await phone.locator('#list-title', { hasText: 'Archive' }).waitFor();
  await prows.first().locator('.msg-check').click();
  await phone.locator('#bulk-bar').waitFor();
  await shot(phone, 'bulk');
  await phone.click('#bulk-bar [data-bulk="clear"]');

  step('phone: compose autosaves to Drafts, the draft reopens editable, From identities');
  await autosaveDraft(phone, 'Phone plan');
  await draftReopens(phone, 'Phone plan');
  await openFolder(phone, 'Inbox');
  await fromIdentities(phone);

  step('phone: compose: discard asks first, undo send');
  await discardAsksFirst(phone);
  await undoSend(phone);

  step('phone: move from the overflow menu, delete and undo with buttons');
  await moveDeleteUndo(phone, 'Digest number 1', 'Old newsletter');

  step('phone: multi-select with checkboxes, bulk delete, undo');
  await openFolder(phone, 'Archive');
  await bulkDeleteUndo(phone);

  step('phone: search with operators, highlighted matches, empty and error states, newest first');
  await searchWithOperators(phone);

  step('phone: Not spam, then Spam from the overflow menu and back');
  await notSpam(phone);
  await openFolder(phone, 'Inbox');
  await prows.filter({ hasText: 'Old newsletter' }).locator('.msg-button').click();
  await readerAction(phone, 'spam');
  await phone.locator('#toast', { hasText: 'Reported as spam' }).waitFor();
  await backToList(phone);
  await phone.locator('#message-list > li', { hasText: 'Old newsletter' }).waitFor({ state: 'detached' });
  await openFolder(phone, 'Junk');
  await prows.filter({ hasText: 'Old newsletter' }).locator('.msg-button').click();
  await readerAction(phone, 'notspam');
  await phone.locator('#toast', { hasText: 'Marked as not spam' }).waitFor();
  assert.ok((await folderMessages(phone, 'inbox')).some((m) => m.subject === 'Old newsletter'), 'back in the Inbox');
  await backToList(phone);

  step('phone: settings: display name, signature, dark theme, password error');
  await phone.click('#settings-button');
  await phone.locator('#settings-dialog[open]').waitFor();
  await editSettings(phone, 'Alice P. Liddell');
  await shot(phone, 'settings-saved');
  await phone.check('#settings-form input[name=theme][value=auto]');
  await phone.click('#settings-save');
  await phone.locator('#toast', { hasText: 'Settings saved' }).waitFor();
  await phone.keyboard.press('Escape');
  await phone.locator('#settings-dialog').waitFor({ state: 'hidden' });

  step('phone: folder tree: create a subfolder, rename it, delete it');
  await folderTree(phone);

  step('phone: new mail arrives live over the WebSocket; the unread filter');
  await openFolder(phone, 'Inbox');
  await phone.locator('body[data-live="socket"]').waitFor();
  await deliverLive('Live on the phone');
  await prows.filter({ hasText: 'Live on the phone' }).waitFor();
  const readBefore = await phone.locator('#message-list > li:not(.unread)').count();
  await phone.check('#unread-filter');
  await prows.filter({ hasText: 'Live on the phone' }).waitFor();
  await phone.waitForFunction(() => document.querySelectorAll('#message-list > li:not(.unread)').length === 0);
  await shot(phone, 'unread-filter');
  await phone.uncheck('#unread-filter');
  if (readBefore > 0) await phone.waitForFunction(() => document.querySelectorAll('#message-list > li:not(.unread)').length > 0);

  step('phone: installable (manifest, icons, service worker) and the shell opens offline');
  const manifest = await (await phone.request.get(`${base}/manifest.webmanifest`)).json();
  assert.ok(manifest.icons.some((i) => i.sizes === '512x512') && manifest.display === 'standalone', 'manifest');
  assert.equal((await phone.request.get(`${base}/icon-192.png`)).headers()['content-type'], 'image/png');
  await phone.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await phoneCtx.setOffline(true);
  await phone.reload();
  await phone.locator('#login-form, #app-view').first().waitFor({ state: 'attached' });
  assert.equal(await phone.title(), 'Stamp', 'the app shell loads offline');
  await phoneCtx.setOffline(false);

  step('phone: signing out from the drawer closes the session\'s WebSocket, in every tab');
  await phone.reload();
  await prows.first().waitFor();
  const otherPhone = await phoneCtx.newPage();
  watch(otherPhone);
  const otherPhoneSocket = new Promise((resolve) => otherPhone.on('websocket', (ws) => { if (ws.url().includes('/v1/events')) ws.on('close', () => resolve(true)); }));
  await otherPhone.goto(base);
  await otherPhone.locator('body[data-live="socket"]').waitFor();
  await phone.click('#menu-button');
  await phone.locator('#drawer-backdrop').waitFor();
  await phone.click('#drawer-logout');
  await phone.locator('#login-form').waitFor();
  assert.equal(await Promise.race([otherPhoneSocket, new Promise((r) => setTimeout(() => r(false), 5000))]), true, 'the other tab\'s WebSocket was closed by the server');
  await otherPhone.locator('#login-form').waitFor();
  await otherPhone.close();

  if (axeProblems.length) problems.push(...axeProblems);
  assert.deepEqual(problems, [], 'no console errors, CSP violations or accessibility violations');
  console.log('e2e: all steps passed');
} catch (e) {
  failed = true;
  console.error(e && e.stack ? e.stack : e);
  const all = [...problems, ...axeProblems.filter((p) => !problems.includes(p))];
  if (all.length) console.error(`browser problems:\n${all.join('\n')}`);
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    for (const [i, p] of pages.entries()) await p.screenshot({ path: join(artifacts, `failure-${i}.png`) });
  } catch { /* best effort */ }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
