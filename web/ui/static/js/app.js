// app.js: Stamp webmail. Plain ES modules, no build step; everything the
// page shows is built with DOM calls (no inline scripts or styles), so the
// strict Content-Security-Policy set by package ui holds.

import { api, ApiError, setUnauthorizedHandler } from './api.js';
import { EventStream } from './events.js';
import { Composer, replyOptions, forwardOptions } from './compose.js';
import { $, h, formatAddress, shortAddress, listDate, fullDate, formatSize, toast } from './dom.js';

const PAGE = 50;
const ROLE_NAMES = { inbox: 'Inbox', drafts: 'Drafts', sent: 'Sent', archive: 'Archive', junk: 'Junk', trash: 'Trash' };
const ROLE_ORDER = ['inbox', 'drafts', 'sent', 'archive', 'junk', 'trash'];

const state = {
  me: null,
  folders: [],
  folderId: 0,
  search: '', // non-empty: the list shows search results
  messages: [],
  next: null, // cursor (folder) or offset (search) of the next page
  unreadOnly: false,
  selected: -1,
  open: null, // the message shown in the reader (full JSON)
  remote: false, // remote images shown for state.open
  loading: false,
  listGen: 0, // bumps on each new listing, so stale pages are dropped
};

let events = null;
let composer = null;

// ---------- boot and login ----------

async function boot() {
  setUnauthorizedHandler(() => { if (state.me) showLogin('Your session ended. Sign in again.'); });
  $('login-form').addEventListener('submit', onLogin);
  try {
    const me = await api.me();
    startApp(me);
  } catch {
    showLogin();
  }
}

function showLogin(message) {
  if (events) events.stop();
  state.me = null;
  state.messages = [];
  state.folders = [];
  state.selected = -1;
  if (wired) { closeReader({ keepFocus: true }); renderList(); renderFolders(); }
  document.body.classList.remove('signed-in');
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  const err = $('login-error');
  err.hidden = !message;
  err.textContent = message || '';
  $('login-user').focus();
}

async function onLogin(e) {
  e.preventDefault();
  const user = $('login-user').value.trim();
  const pass = $('login-pass').value;
  const err = $('login-error');
  if (!user || !pass) {
    err.textContent = 'Enter your email address and password.';
    err.hidden = false;
    return;
  }
  const btn = e.submitter || $('login-form').querySelector('button');
  btn.disabled = true;
  try {
    const r = await api.login(user, pass);
    $('login-pass').value = '';
    startApp(r.user);
  } catch (ex) {
    err.textContent = ex.status === 429 ? 'Too many attempts. Wait a minute and try again.'
      : ex.status === 401 ? 'Wrong email address or password.' : ex.message;
    err.hidden = false;
    $('login-pass').select();
  } finally {
    btn.disabled = false;
  }
}

let wired = false;

async function startApp(me) {
  state.me = me;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  document.body.classList.add('signed-in');
  $('me').textContent = me.address;
  if (!wired) { wire(); wired = true; }
  await loadFolders();
  const inbox = state.folders.find((f) => f.role === 'inbox') || state.folders[0];
  if (inbox) await selectFolder(inbox.id, { focus: true });
  events = events || new EventStream(onEvent, (mode) => { document.body.dataset.live = mode; });
  events.start();
}

function wire() {
  composer = new Composer({ me: () => state.me, onSent: () => loadFolders() });
  $('logout-button').addEventListener('click', async () => {
    try { await api.logout(); } catch { /* the session may be gone already */ }
    showLogin();
  });
  $('compose-button').addEventListener('click', () => composer.open());
  $('help-button').addEventListener('click', () => $('help-dialog').showModal());
  $('menu-button').addEventListener('click', () => toggleFolders());
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = $('search-input').value.trim();
    if (q) runSearch(q);
    else if (state.search) selectFolder(state.folderId);
  });
  $('unread-filter').addEventListener('change', (e) => {
    state.unreadOnly = e.target.checked;
    if (state.search) runSearch(state.search); else selectFolder(state.folderId);
  });
  $('refresh-button').addEventListener('click', () => {
    loadFolders();
    if (state.search) runSearch(state.search); else selectFolder(state.folderId);
  });
  $('load-more').addEventListener('click', () => loadMore());
  $('back-button').addEventListener('click', () => closeReader());
  $('new-folder-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = $('new-folder-name').value.trim();
    if (!name) return;
    try {
      await api.createFolder(name);
      $('new-folder-name').value = '';
      await loadFolders();
      toast(`Folder ${name} created`);
    } catch (ex) { toast(`Could not create folder: ${ex.message}`, true); }
  });
  document.querySelector('.reader-toolbar').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-action]');
    if (b) act(b.dataset.action);
  });
  $('move-form').addEventListener('submit', onMoveChosen);
  document.addEventListener('keydown', onKey);
}

// ---------- folders ----------

function folderName(f) { return ROLE_NAMES[f.role] || f.name; }

function sortFolders(fs) {
  const rank = (f) => { const i = ROLE_ORDER.indexOf(f.role); return i < 0 ? ROLE_ORDER.length : i; };
  return [...fs].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

async function loadFolders() {
  try {
    state.folders = sortFolders(await api.folders());
    renderFolders();
  } catch (e) {
    if (e.status !== 401) toast(`Could not load folders: ${e.message}`, true);
  }
}

function renderFolders() {
  const ul = $('folder-list');
  ul.replaceChildren(...state.folders.map((f) => {
    const current = !state.search && f.id === state.folderId;
    return h('li', {},
      h('button', {
        type: 'button', class: `folder${current ? ' current' : ''}${f.unread ? ' has-unread' : ''}`,
        'aria-current': current ? 'page' : null, dataset: { id: f.id },
        onclick: () => { toggleFolders(false); selectFolder(f.id, { focus: true }); },
      },
      h('span', { class: 'folder-name' }, folderName(f)),
      f.unread ? h('span', { class: 'badge', 'aria-label': `${f.unread} unread` }, String(f.unread)) : null));
  }));
}

function toggleFolders(open) {
  const app = $('app-view');
  const on = open === undefined ? !app.classList.contains('folders-open') : open;
  const was = app.classList.contains('folders-open');
  app.classList.toggle('folders-open', on);
  $('menu-button').setAttribute('aria-expanded', String(on));
  if (on && !was) (document.querySelector('#folder-list .current') || document.querySelector('#folder-list button'))?.focus();
  else if (!on && was && $('folders').contains(document.activeElement)) $('menu-button').focus();
}

// ---------- message list ----------

async function selectFolder(id, { focus = false } = {}) {
  state.folderId = id;
  state.search = '';
  $('search-input').value = '';
  const f = state.folders.find((x) => x.id === id);
  $('list-title').textContent = f ? folderName(f) : 'Messages';
  renderFolders();
  await loadList(() => api.messages(id, { unread: state.unreadOnly, limit: PAGE }), (r) => r.next_cursor);
  if (focus) focusList();
}

async function runSearch(q) {
  state.search = q;
  $('list-title').textContent = `Search: ${q}`;
  renderFolders();
  // The unread filter narrows search results too (is:unread).
  const text = state.unreadOnly && !/\bis:unread\b/i.test(q) ? `${q} is:unread` : q;
  await loadList(() => api.search(text, { limit: PAGE }), (r) => r.next_offset);
  focusList();
}

async function loadList(fetchPage, nextOf) {
  const gen = ++state.listGen;
  state.loading = true;
  state.messages = [];
  state.selected = -1;
  state.next = null;
  closeReader({ keepFocus: true });
  renderList();
  setStatus('Loading…');
  try {
    const r = await fetchPage();
    if (gen !== state.listGen) return;
    state.messages = r.messages || [];
    state.next = nextOf(r) ?? null;
    state.selected = state.messages.length ? 0 : -1;
    renderList();
  } catch (e) {
    if (gen === state.listGen) setStatus(`Could not load messages: ${e.message}`);
  } finally {
    if (gen === state.listGen) state.loading = false;
  }
}

async function loadMore() {
  if (state.next === null || state.loading) return;
  const gen = state.listGen;
  state.loading = true;
  $('load-more').disabled = true;
  try {
    const r = state.search
      ? await api.search(state.unreadOnly && !/\bis:unread\b/i.test(state.search) ? `${state.search} is:unread` : state.search, { offset: state.next, limit: PAGE })
      : await api.messages(state.folderId, { cursor: state.next, unread: state.unreadOnly, limit: PAGE });
    if (gen !== state.listGen) return;
    const have = new Set(state.messages.map((m) => m.id));
    const first = state.messages.length;
    state.messages.push(...(r.messages || []).filter((m) => !have.has(m.id)));
    state.next = (state.search ? r.next_offset : r.next_cursor) ?? null;
    renderList();
    const row = $('message-list').children[first];
    if (row) { state.selected = first; renderSelection(); row.querySelector('button').focus(); }
  } catch (e) {
    toast(`Could not load more: ${e.message}`, true);
  } finally {
    state.loading = false;
    $('load-more').disabled = false;
  }
}

function setStatus(text) { $('list-status').textContent = text; }

function rowFor(m, i) {
  const from = state.folders.find((f) => f.id === m.folder_id && (f.role === 'sent' || f.role === 'drafts'))
    ? `To: ${(m.to || []).map(shortAddress).join(', ')}`
    : (m.from || []).map(shortAddress).join(', ') || '(no sender)';
  const label = `${m.seen ? '' : 'Unread. '}${m.flagged ? 'Flagged. ' : ''}${from}. ${m.subject || '(no subject)'}. ${m.has_attachments ? 'Has attachments. ' : ''}${listDate(m.date)}`;
  return h('li', {
    class: `msg${m.seen ? '' : ' unread'}${m.flagged ? ' flagged' : ''}${i === state.selected ? ' selected' : ''}`,
    dataset: { id: m.id },
  },
  h('button', {
    type: 'button', class: 'msg-button', 'aria-label': label,
    'aria-current': i === state.selected ? 'true' : null,
    onclick: () => { state.selected = i; renderSelection(); openMessage(m.id); },
    onfocus: () => { if (state.selected !== i) { state.selected = i; renderSelection(); } },
  },
  h('span', { class: 'msg-from' }, from),
  h('span', { class: 'msg-date' }, listDate(m.date)),
  h('span', { class: 'msg-subject' },
    m.flagged ? h('span', { class: 'flag-mark', 'aria-hidden': 'true' }, '★ ') : null,
    m.subject || '(no subject)',
    m.has_attachments ? h('span', { class: 'clip', 'aria-hidden': 'true' }) : null),
  h('span', { class: 'msg-snippet' }, m.snippet || ''),
  state.search ? h('span', { class: 'msg-folder' }, folderLabel(m.folder_id)) : null));
}

function folderLabel(id) {
  const f = state.folders.find((x) => x.id === id);
  return f ? folderName(f) : '';
}

function renderList() {
  const ul = $('message-list');
  ul.replaceChildren(...state.messages.map(rowFor));
  $('load-more').hidden = state.next === null;
  const n = state.messages.length;
  setStatus(state.loading && !n ? 'Loading…' : n ? '' : state.search ? 'No messages match.' : state.unreadOnly ? 'No unread messages.' : 'This folder is empty.');
}

function renderSelection() {
  const rows = $('message-list').children;
  for (let i = 0; i < rows.length; i++) {
    const on = i === state.selected;
    rows[i].classList.toggle('selected', on);
    const b = rows[i].querySelector('button');
    if (on) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
  }
}

function replaceRow(m) {
  const i = state.messages.findIndex((x) => x.id === m.id);
  if (i < 0) return;
  state.messages[i] = m;
  const row = $('message-list').children[i];
  if (row) {
    const had = row.contains(document.activeElement);
    const nr = rowFor(m, i);
    row.replaceWith(nr);
    if (had) nr.querySelector('button').focus();
  }
}

function removeRow(id) {
  const i = state.messages.findIndex((x) => x.id === id);
  if (i < 0) return;
  const row = $('message-list').children[i];
  const had = row && row.contains(document.activeElement);
  state.messages.splice(i, 1);
  if (state.selected >= state.messages.length) state.selected = state.messages.length - 1;
  renderList();
  if (had) focusList();
}

function focusList() {
  const rows = $('message-list').children;
  if (state.selected >= 0 && rows[state.selected]) rows[state.selected].querySelector('button').focus();
  else $('message-list').focus();
}

function moveSelection(delta) {
  if (!state.messages.length) return;
  const i = Math.max(0, Math.min(state.messages.length - 1, state.selected + delta));
  state.selected = i;
  renderSelection();
  const row = $('message-list').children[i];
  row.querySelector('button').focus();
  row.scrollIntoView({ block: 'nearest' });
  if (state.open) openMessage(state.messages[i].id, { focus: false });
  else if (delta > 0 && i === state.messages.length - 1 && state.next !== null) loadMore();
}

// ---------- reading ----------

async function openMessage(id, { remote = false, focus = true } = {}) {
  let m;
  try {
    m = await api.message(id, remote);
  } catch (e) {
    toast(e.status === 404 ? 'That message is gone.' : `Could not open message: ${e.message}`, true);
    return;
  }
  state.open = m;
  state.remote = remote;
  renderMessage(m);
  $('reader').hidden = false;
  $('empty-reader').hidden = true;
  $('app-view').classList.add('reading');
  if (focus) $('message-subject').focus();
  if (!m.seen) {
    try {
      const s = await api.patch(m.id, { seen: true });
      state.open.seen = true;
      state.open.flags = s.flags;
      replaceRow(s);
      updateToolbar();
    } catch { /* stays unread; not worth an alert */ }
  }
}

function closeReader({ keepFocus = false } = {}) {
  state.open = null;
  $('reader').hidden = true;
  $('empty-reader').hidden = false;
  $('message-view').replaceChildren();
  $('app-view').classList.remove('reading');
  if (!keepFocus) focusList();
}

function headerRow(label, value) {
  if (!value) return null;
  return [h('dt', {}, label), h('dd', {}, value)];
}

function renderMessage(m) {
  const list = (as) => (as || []).map(formatAddress).join(', ');
  const parts = [
    h('h2', { id: 'message-subject', class: 'message-subject', tabindex: '-1' }, m.subject || '(no subject)'),
    h('dl', { class: 'message-headers' },
      headerRow('From', list(m.from)), headerRow('To', list(m.to)), headerRow('Cc', list(m.cc)),
      headerRow('Date', fullDate(m.date))),
  ];
  if (m.html && m.remote_content && !state.remote) {
    parts.push(h('p', { class: 'remote-banner', role: 'note' }, 'Remote images are blocked to protect your privacy. ',
      h('button', { type: 'button', id: 'show-images', onclick: () => openMessage(m.id, { remote: true }) }, 'Show images')));
  }
  if (m.html) {
    // The server serves the body as a document of its own with a strict
    // policy (no scripts, inline styles allowed, inline images as data:
    // URLs). The sandbox gives it an opaque origin and no scripts; links
    // open in new, unsandboxed windows.
    parts.push(h('iframe', {
      class: 'message-frame', sandbox: 'allow-popups allow-popups-to-escape-sandbox',
      src: api.messageHTMLURL(m.id, state.remote), title: 'Message body', referrerpolicy: 'no-referrer',
    }));
  } else {
    parts.push(h('pre', { class: 'message-text' }, m.text || ''));
  }
  if (m.attachments && m.attachments.length) {
    parts.push(h('h3', { class: 'attachments-title' }, `Attachments (${m.attachments.length})`),
      h('ul', { class: 'attachments' }, m.attachments.map((a) => h('li', {},
        h('a', { href: api.attachmentURL(m.id, a.id), download: a.filename || 'attachment', class: 'attachment' },
          a.filename || 'attachment', h('span', { class: 'muted' }, ` ${formatSize(a.size)}`))))));
  }
  $('message-view').replaceChildren(...parts);
  updateToolbar();
}

function updateToolbar() {
  const m = state.open;
  if (!m) return;
  const seenBtn = document.querySelector('[data-action="toggle-seen"]');
  seenBtn.textContent = m.seen ? 'Mark unread' : 'Mark read';
  const flagBtn = document.querySelector('[data-action="toggle-flag"]');
  flagBtn.textContent = m.flagged ? 'Unflag' : 'Flag';
  flagBtn.setAttribute('aria-pressed', String(!!m.flagged));
}

async function showThread() {
  const m = state.open;
  if (!m) return;
  try {
    const t = await api.thread(m.thread_id);
    const items = (t.messages || []).map((x) => h('li', { class: x.id === m.id ? 'current' : '' },
      h('button', { type: 'button', class: 'thread-item', onclick: () => openMessage(x.id) },
        h('span', { class: 'msg-from' }, (x.from || []).map(shortAddress).join(', ')),
        h('span', { class: 'msg-date' }, listDate(x.date)),
        h('span', { class: 'msg-snippet' }, x.snippet || ''))));
    $('message-view').replaceChildren(
      h('h2', { id: 'message-subject', class: 'message-subject', tabindex: '-1' }, `Conversation: ${m.subject || '(no subject)'}`),
      h('p', { class: 'muted' }, `${items.length} message${items.length === 1 ? '' : 's'}, oldest first`),
      h('ol', { class: 'thread' }, items));
    $('message-subject').focus();
  } catch (e) {
    toast(`Could not load the conversation: ${e.message}`, true);
  }
}

// ---------- actions ----------

/** target is the message an action applies to: the open one, else the selected row. */
function target() {
  return state.open || state.messages[state.selected] || null;
}

async function act(action) {
  const m = target();
  if (!m) return;
  switch (action) {
    case 'reply':
    case 'reply-all':
    case 'forward': {
      const full = state.open && state.open.id === m.id ? state.open : await api.message(m.id).catch(() => null);
      if (!full) return;
      composer.open(action === 'forward' ? forwardOptions(full) : replyOptions(full, state.me.address, action === 'reply-all'));
      return;
    }
    case 'delete': return deleteMessage(m);
    case 'toggle-seen': return patch(m, { seen: !m.seen });
    case 'toggle-flag': return patch(m, { flagged: !m.flagged });
    case 'move': return chooseFolder(m);
    case 'thread': return showThread();
    default:
  }
}

async function patch(m, fields) {
  try {
    const s = await api.patch(m.id, fields);
    replaceRow(s);
    if (state.open && state.open.id === m.id) {
      Object.assign(state.open, { seen: s.seen, flagged: s.flagged, flags: s.flags });
      updateToolbar();
    }
    if ('seen' in fields) toast(s.seen ? 'Marked read' : 'Marked unread');
    else toast(s.flagged ? 'Flagged' : 'Flag removed');
  } catch (e) {
    toast(`Could not update: ${e.message}`, true);
  }
}

async function deleteMessage(m) {
  const i = state.messages.findIndex((x) => x.id === m.id);
  try {
    await api.remove(m.id);
  } catch (e) {
    toast(`Could not delete: ${e.message}`, true);
    return;
  }
  afterRemoval(m.id, i, 'Message deleted');
}

function afterRemoval(id, i, text) {
  const wasOpen = state.open && state.open.id === id;
  const idx = state.messages.findIndex((x) => x.id === id);
  if (idx >= 0) state.messages.splice(idx, 1);
  state.selected = Math.min(i >= 0 ? i : state.selected, state.messages.length - 1);
  renderList();
  toast(text);
  if (wasOpen && state.selected >= 0 && window.matchMedia('(min-width: 701px)').matches) openMessage(state.messages[state.selected].id);
  else if (wasOpen) closeReader();
  else focusList();
}

let moving = null;

function chooseFolder(m) {
  moving = m;
  const sel = $('move-select');
  sel.replaceChildren(...state.folders.filter((f) => f.id !== m.folder_id)
    .map((f) => h('option', { value: f.id }, folderName(f))));
  $('move-dialog').showModal();
  sel.focus();
}

async function onMoveChosen(e) {
  if (!moving || e.submitter?.value !== 'move') { moving = null; return; }
  const m = moving;
  moving = null;
  const folder = Number($('move-select').value);
  const i = state.messages.findIndex((x) => x.id === m.id);
  try {
    await api.patch(m.id, { folder_id: folder });
  } catch (ex) {
    toast(`Could not move: ${ex.message}`, true);
    return;
  }
  const f = state.folders.find((x) => x.id === folder);
  afterRemoval(m.id, i, `Moved to ${f ? folderName(f) : 'folder'}`);
}

// ---------- live events ----------

function onEvent(ev) {
  switch (ev.type) {
    case 'message.new': {
      const m = ev.message;
      if (!m || state.search || m.folder_id !== state.folderId) return;
      if (state.unreadOnly && m.seen) return;
      if (state.messages.some((x) => x.id === m.id)) return;
      // Newest first: insert before the first older message.
      let i = state.messages.findIndex((x) => new Date(x.received_at || x.date) < new Date(m.received_at || m.date));
      if (i < 0) {
        if (state.next !== null) return; // older than this page: it will come with "load more"
        i = state.messages.length;
      }
      state.messages.splice(i, 0, m);
      const focused = document.activeElement && $('message-list').contains(document.activeElement);
      if (i <= state.selected) state.selected++;
      if (state.selected < 0) state.selected = 0;
      renderList();
      if (focused) focusList();
      setStatus(`New message from ${(m.from || []).map(shortAddress).join(', ') || 'unknown sender'}: ${m.subject || '(no subject)'}`);
      return;
    }
    case 'message.flags': {
      const cur = state.messages.find((x) => x.id === ev.message_id);
      if (cur) replaceRow({ ...cur, flags: ev.flags || [], seen: !!ev.seen, flagged: !!ev.flagged });
      if (state.open && state.open.id === ev.message_id) {
        Object.assign(state.open, { seen: !!ev.seen, flagged: !!ev.flagged });
        updateToolbar();
      }
      return;
    }
    case 'message.expunged':
      if (!state.search && ev.folder_id === state.folderId && !(state.open && state.open.id === ev.message_id)) removeRow(ev.message_id);
      return;
    case 'folder.changed': {
      const i = state.folders.findIndex((f) => f.id === ev.folder_id);
      if (ev.deleted) { if (i >= 0) state.folders.splice(i, 1); }
      else if (ev.folder && i >= 0) state.folders[i] = ev.folder;
      else if (ev.folder) state.folders = sortFolders([...state.folders, ev.folder]);
      renderFolders();
      return;
    }
    default:
  }
}

// ---------- keyboard ----------

function typing(e) {
  const t = e.target;
  return t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}

function onKey(e) {
  if (!state.me || e.ctrlKey || e.metaKey || e.altKey) return;
  if (document.querySelector('dialog[open]')) return; // dialogs handle their own keys (Escape closes)
  if (e.key === 'Escape') {
    if (typing(e)) { e.target.blur(); focusList(); return; }
    if ($('app-view').classList.contains('folders-open')) { toggleFolders(false); return; }
    if (state.open) { e.preventDefault(); closeReader(); }
    return;
  }
  if (typing(e)) return;
  const keys = {
    j: () => moveSelection(1),
    k: () => moveSelection(-1),
    o: () => { const m = state.messages[state.selected]; if (m) openMessage(m.id); },
    c: () => composer.open(),
    r: () => act('reply'),
    a: () => act('reply-all'),
    f: () => act('forward'),
    '#': () => act('delete'),
    Delete: () => act('delete'),
    s: () => act('toggle-flag'),
    u: () => { const m = target(); if (m) patch(m, { seen: false }); },
    '/': () => { $('search-input').focus(); $('search-input').select(); },
    '?': () => $('help-dialog').showModal(),
  };
  let fn = keys[e.key];
  if (e.key === 'Enter' && !e.target.closest('button, a')) fn = keys.o;
  if (!fn) return;
  e.preventDefault();
  fn();
}

boot();

export { ApiError };
