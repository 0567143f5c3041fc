// app.js: Stamp webmail. Plain ES modules, no build step; everything the
// page shows is built with DOM calls (no inline scripts or styles), so the
// strict Content-Security-Policy set by package ui holds.
//
// Routes live in the URL fragment (#/folder/3, #/message/12), so the
// browser's Back button moves from a message to the list and closes the
// folder drawer on phones.

import { api, ApiError, setUnauthorizedHandler } from './api.js';
import { EventStream } from './events.js';
import { Composer, replyOptions, forwardOptions, draftOptions } from './compose.js';
import { Settings, applyLook } from './settings.js';
import { $, NARROW, h, formatAddress, shortAddress, listDate, fullDate, formatSize, toast, runToastAction, confirmDialog, highlight } from './dom.js';

const PAGE = 50;
const ROLE_NAMES = { inbox: 'Inbox', drafts: 'Drafts', sent: 'Sent', archive: 'Archive', junk: 'Junk', trash: 'Trash' };
const ROLE_ORDER = ['inbox', 'drafts', 'sent', 'archive', 'junk', 'trash'];
const DRAG_TYPE = 'application/x-stamp-messages';

const state = {
  me: null,
  settings: null,
  identities: [],
  folders: [],
  folderId: 0,
  search: '', // non-empty: the list shows search results
  terms: [], // search terms to highlight
  messages: [],
  next: null, // cursor (folder) or offset (search) of the next page
  total: null,
  unreadOnly: false,
  selected: -1, // the keyboard cursor
  checked: new Set(), // ids of the messages selected for bulk actions
  anchor: -1, // last row clicked, for shift-click ranges
  open: null, // the message shown in the reader (full JSON)
  remote: false, // remote images shown for state.open
  loading: false,
  listError: '',
  listGen: 0, // bumps on each new listing, so stale pages are dropped
  collapsed: new Set(), // folder names whose children are hidden
  folderTools: null, // id of the folder whose actions are open in the folder list
};

let events = null;
let composer = null;
let settingsUI = null;

try { applyLook(JSON.parse(localStorage.getItem('stamp.look') || 'null')); } catch { /* first visit */ }

// ---------- boot and login ----------

async function boot() {
  setUnauthorizedHandler(() => { if (state.me) showLogin('Your session ended. Sign in again: nothing you were writing is lost.'); });
  $('login-form').addEventListener('submit', onLogin);
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
  try {
    const me = await api.me();
    startApp(me);
  } catch {
    showLogin();
  }
}

function showLogin(message) {
  if (events) events.stop();
  if (composer && composer.isOpen) { composer.flushLocal(); composer.stopTimers(); composer.dialog.close(); }
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
  state.me = null;
  state.messages = [];
  state.folders = [];
  state.checked.clear();
  state.selected = -1;
  if (wired) { closeReader({ keepFocus: true, history: false }); renderList(); renderFolders(); }
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
  await Promise.all([loadSettings(), loadIdentities(), loadFolders()]);
  const route = parseRoute();
  const inbox = state.folders.find((f) => f.role === 'inbox') || state.folders[0];
  const start = state.folders.find((f) => f.id === route.folder) || inbox;
  if (start) await selectFolder(start.id, { focus: true });
  if (route.message) openMessage(route.message, { history: false });
  events = events || new EventStream(onEvent, (mode) => { document.body.dataset.live = mode; },
    () => showLogin('You were signed out (from another window, or your password changed).'));
  events.start();
  composer.restore();
}

async function loadSettings() {
  try { state.settings = await api.settings(); } catch { state.settings = { display_name: '', signature: '', theme: 'auto', density: 'comfortable', undo_send_seconds: 5 }; }
  applyLook(state.settings);
}

async function loadIdentities() {
  try {
    const r = await api.identities();
    state.identities = r.identities || [];
  } catch (e) {
    if (e.status === 404) console.info('identities: GET /v1/identities is not on this server (404): sending from the account address only');
    state.identities = [];
  }
}

/** myAddresses lists the user's own addresses (account and identities). */
function myAddresses() {
  return [state.me.address, ...state.identities.map((i) => i.address)];
}

function wire() {
  composer = new Composer({
    me: () => state.me, settings: () => state.settings, identities: () => state.identities,
    onSent: () => loadFolders(), onDraftSaved: () => { if (currentFolder()?.role === 'drafts') refreshList(); },
  });
  settingsUI = new Settings({
    me: () => state.me, settings: () => state.settings, setSettings: (s) => {
      const was = grouped();
      state.settings = s;
      if (grouped() !== was && state.me) refreshList();
    },
    identities: () => state.identities, folders: () => state.folders,
  });
  const logout = async () => {
    if (composer.isOpen) await composer.close();
    try { await api.logout(); } catch { /* the session may be gone already */ }
    showLogin();
  };
  $('logout-button').addEventListener('click', logout);
  $('drawer-logout').addEventListener('click', () => { toggleFolders(false); logout(); });
  $('compose-button').addEventListener('click', () => composer.open());
  $('settings-button').addEventListener('click', () => settingsUI.open());
  $('drawer-settings').addEventListener('click', () => { toggleFolders(false); settingsUI.open(); });
  $('help-button').addEventListener('click', () => $('help-dialog').showModal());
  $('search-help-button').addEventListener('click', () => $('help-dialog').showModal());
  $('menu-button').addEventListener('click', () => toggleFolders());
  $('drawer-backdrop').addEventListener('click', () => toggleFolders(false));
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = $('search-input').value.trim();
    if (q) runSearch(q);
    else if (state.search) selectFolder(state.folderId);
  });
  $('unread-filter').addEventListener('change', (e) => {
    state.unreadOnly = e.target.checked;
    refreshList();
  });
  $('refresh-button').addEventListener('click', () => { loadFolders(); refreshList(); });
  $('load-more').addEventListener('click', () => loadMore());
  $('back-button').addEventListener('click', () => closeReader());
  $('new-folder-button').addEventListener('click', () => folderDialog({}));
  $('select-all').addEventListener('change', (e) => {
    state.checked = e.target.checked ? new Set(state.messages.map((m) => m.id)) : new Set();
    renderChecks();
  });
  $('bulk-bar').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-bulk]');
    if (b) bulk(b.dataset.bulk);
  });
  document.querySelector('.reader-toolbar').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-action]');
    if (b) { closeMore(); act(b.dataset.action); }
  });
  $('more-button').addEventListener('click', () => toggleMore());
  $('toast-action').addEventListener('click', () => runToastAction());
  $('move-form').addEventListener('submit', onMoveChosen);
  $('folder-form').addEventListener('submit', onFolderSave);
  document.addEventListener('keydown', onKey);
  window.addEventListener('popstate', onPopState);
  NARROW.addEventListener('change', () => { if (!NARROW.matches) toggleFolders(false, { history: false }); });
}

// ---------- routes and history ----------

function parseRoute() {
  const m = location.hash.match(/^#\/(?:folder\/(\d+))?(?:\/?message\/(\d+))?/);
  return { folder: m && m[1] ? Number(m[1]) : 0, message: m && m[2] ? Number(m[2]) : 0 };
}

function listHash() { return state.search ? `#/search/${encodeURIComponent(state.search)}` : `#/folder/${state.folderId}`; }

function onPopState(e) {
  const st = e.state || {};
  if ($('app-view').classList.contains('folders-open') && !st.drawer) toggleFolders(false, { history: false });
  if (!st.message && state.open) closeReader({ history: false });
  else if (st.message && (!state.open || state.open.id !== st.message)) openMessage(st.message, { history: false });
}

// ---------- folders ----------

function folderName(f) { return ROLE_NAMES[f.role] || f.name.split('/').pop(); }
function fullFolderName(f) { return ROLE_NAMES[f.role] || f.name; }
function currentFolder() { return state.folders.find((f) => f.id === state.folderId); }
function roleFolder(role) { return state.folders.find((f) => f.role === role); }

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

/** tree builds the folder hierarchy from "/"-separated names. */
function tree() {
  const roots = [];
  const byName = new Map();
  const node = (name) => {
    if (byName.has(name)) return byName.get(name);
    const n = { name, folder: null, children: [] };
    byName.set(name, n);
    const i = name.lastIndexOf('/');
    if (i > 0) node(name.slice(0, i)).children.push(n); else roots.push(n);
    return n;
  };
  for (const f of state.folders) node(f.name).folder = f;
  return roots;
}

function renderFolders() {
  const ul = $('folder-list');
  const render = (n, depth) => {
    const f = n.folder;
    const current = f && !state.search && f.id === state.folderId;
    const hasKids = n.children.length > 0;
    const open = !state.collapsed.has(n.name);
    const label = f ? folderName(f) : n.name.split('/').pop();
    const toolsOpen = Boolean(f && state.folderTools === f.id);
    const row = h('div', { class: `folder-row depth-${Math.min(depth, 5)}` },
      hasKids ? h('button', {
        type: 'button', class: 'tree-toggle', 'aria-expanded': String(open), 'aria-label': `${open ? 'Collapse' : 'Expand'} ${label}`,
        onclick: () => { if (open) state.collapsed.add(n.name); else state.collapsed.delete(n.name); renderFolders(); },
      }, open ? '▾' : '▸') : h('span', { class: 'tree-spacer', 'aria-hidden': 'true' }),
      h('button', {
        type: 'button', class: `folder${current ? ' current' : ''}${f && f.unread ? ' has-unread' : ''}`,
        'aria-current': current ? 'page' : null, dataset: { id: f ? f.id : '' }, disabled: !f,
        onclick: () => { if (f) { toggleFolders(false); selectFolder(f.id, { focus: true }); } },
        ondragover: (e) => { if (f && e.dataTransfer.types.includes(DRAG_TYPE) && f.id !== state.folderId) { e.preventDefault(); e.currentTarget.classList.add('drop-target'); } },
        ondragleave: (e) => e.currentTarget.classList.remove('drop-target'),
        ondrop: (e) => {
          e.currentTarget.classList.remove('drop-target');
          const ids = JSON.parse(e.dataTransfer.getData(DRAG_TYPE) || '[]');
          if (f && ids.length) { e.preventDefault(); moveIds(ids, f.id); }
        },
      },
      h('span', { class: 'folder-name' }, label),
      f && f.unread ? h('span', { class: 'badge', 'aria-label': `${f.unread} unread` }, String(f.unread)) : null),
      f && !f.role ? h('button', {
        type: 'button', class: 'icon-button folder-menu-button', 'aria-label': `Folder actions: ${f.name}`, 'aria-expanded': String(toolsOpen),
        onclick: (e) => {
          const li = e.currentTarget.closest('li');
          const bar = li.querySelector(':scope > .folder-tools');
          bar.hidden = !bar.hidden;
          // Remembered, so that a re-render (live unread counts, a folder
          // event) does not close the tools under the user's pointer.
          state.folderTools = bar.hidden ? null : f.id;
          e.currentTarget.setAttribute('aria-expanded', String(!bar.hidden));
          if (!bar.hidden) bar.querySelector('button').focus();
        },
      }, '⋯') : null);
    const tools = f && !f.role ? h('div', { class: 'folder-tools', hidden: !toolsOpen },
      h('button', { type: 'button', onclick: () => folderDialog({ folder: f }) }, 'Rename or move'),
      h('button', { type: 'button', onclick: () => folderDialog({ parent: f.name }) }, 'New subfolder'),
      h('button', { type: 'button', class: 'danger', onclick: () => deleteFolder(f) }, 'Delete')) : null;
    return h('li', {}, row, tools, hasKids && open ? h('ul', { class: 'folder-children' }, n.children.map((c) => render(c, depth + 1))) : null);
  };
  ul.replaceChildren(...tree().map((n) => render(n, 0)));
}

let folderEditing = null;

/** folderDialog creates ({parent}) or renames/moves ({folder}) a folder. */
function folderDialog({ folder = null, parent = '' }) {
  folderEditing = folder;
  state.folderTools = null;
  const name = folder ? folder.name.split('/').pop() : '';
  const par = folder ? folder.name.split('/').slice(0, -1).join('/') : parent;
  $('folder-title').textContent = folder ? `Rename or move “${folder.name}”` : 'New folder';
  $('folder-name').value = name;
  $('folder-error').hidden = true;
  const opts = [h('option', { value: '' }, '(top level)')];
  for (const f of state.folders) {
    if (f.role === 'inbox' || (folder && (f.id === folder.id || f.name.startsWith(`${folder.name}/`)))) continue;
    opts.push(h('option', { value: f.name, selected: f.name === par }, fullFolderName(f)));
  }
  $('folder-parent').replaceChildren(...opts);
  toggleFolders(false, { history: false });
  $('folder-dialog').showModal();
  $('folder-name').focus();
}

async function onFolderSave(e) {
  if (e.submitter?.value !== 'save') { folderEditing = null; return; }
  e.preventDefault();
  const leaf = $('folder-name').value.trim();
  const err = $('folder-error');
  if (!leaf) { err.textContent = 'Give the folder a name.'; err.hidden = false; return; }
  if (leaf.includes('/')) { err.textContent = 'A name cannot contain “/”: choose where the folder goes with “Inside”.'; err.hidden = false; return; }
  const parent = $('folder-parent').value;
  const name = parent ? `${parent}/${leaf}` : leaf;
  try {
    if (folderEditing) await api.renameFolder(folderEditing.id, name);
    else await api.createFolder(name);
  } catch (ex) {
    err.textContent = ex.message;
    err.hidden = false;
    return;
  }
  $('folder-dialog').close();
  toast(folderEditing ? `Folder renamed to ${name}` : `Folder ${name} created`);
  folderEditing = null;
  if (parent) state.collapsed.delete(parent);
  await loadFolders();
}

async function deleteFolder(f) {
  state.folderTools = null;
  const kids = state.folders.filter((x) => x.name.startsWith(`${f.name}/`)).length;
  const ok = await confirmDialog({
    title: `Delete the folder “${f.name}”?`,
    text: `${f.total ? `Its ${f.total} message${f.total === 1 ? '' : 's'} will be deleted too. ` : ''}${kids ? `Its ${kids} subfolder${kids === 1 ? '' : 's'} stay, under the parent. ` : ''}This cannot be undone.`,
    ok: 'Delete folder', danger: true,
  });
  if (!ok) return;
  try {
    await api.deleteFolder(f.id);
    toast(`Folder ${f.name} deleted`);
    if (state.folderId === f.id) await selectFolder(roleFolder('inbox').id);
    await loadFolders();
  } catch (e) { toast(`Could not delete the folder: ${e.message}`, true); }
}

function toggleFolders(open, { history: hist = true } = {}) {
  const app = $('app-view');
  const on = open === undefined ? !app.classList.contains('folders-open') : open;
  const was = app.classList.contains('folders-open');
  if (on === was) return;
  app.classList.toggle('folders-open', on);
  $('drawer-backdrop').hidden = !(on && NARROW.matches);
  $('menu-button').setAttribute('aria-expanded', String(on));
  if (on) {
    if (hist && NARROW.matches) history.pushState({ ...(history.state || {}), drawer: true }, '', location.hash || listHash());
    (document.querySelector('#folder-list .current') || document.querySelector('#folder-list .folder'))?.focus();
  } else {
    if (hist && history.state && history.state.drawer) history.back();
    if ($('folders').contains(document.activeElement)) $('menu-button').focus();
  }
}

// ---------- message list ----------

async function selectFolder(id, { focus = false } = {}) {
  state.folderId = id;
  state.search = '';
  state.terms = [];
  $('search-input').value = '';
  const f = state.folders.find((x) => x.id === id);
  $('list-title').textContent = f ? fullFolderName(f) : 'Messages';
  document.body.dataset.folderRole = f ? f.role || 'folder' : '';
  renderFolders();
  if (!state.open) history.replaceState(null, '', `#/folder/${id}`);
  if (grouped()) await loadList(() => api.conversations(id, { unread: state.unreadOnly, limit: PAGE }).then(asPage), (r) => r.next_cursor);
  else await loadList(() => api.messages(id, { unread: state.unreadOnly, limit: PAGE }), (r) => r.next_cursor);
  if (focus) focusList();
}

/**
 * grouped tells whether the list shows one row per conversation: the
 * setting (on unless switched off), in folders, not in Drafts (a draft
 * opens in compose) nor in search results.
 */
function grouped() {
  if (state.settings && state.settings.conversations === false) return false;
  if (state.search) return false;
  const f = currentFolder();
  return !(f && f.role === 'drafts');
}

/** asPage makes a conversations page look like a messages page (rows carry .conversation). */
function asPage(r) {
  return { messages: r.conversations || [], next_cursor: r.next_cursor, total: r.folder_total };
}

/** idsOf returns the message ids a row stands for: a conversation's messages in the folder, or the message. */
function idsOf(m) {
  if (m.conversation) return m.conversation.message_ids;
  const row = rowOf(m.id);
  return row && row.conversation ? row.conversation.message_ids : [m.id];
}

/** rowOf returns the row that holds message id (itself or its conversation). */
function rowOf(id) {
  return state.messages.find((x) => x.id === id || (x.conversation && x.conversation.message_ids.includes(id)));
}

/** expand turns rows (or messages) into the messages they stand for, with their folder. */
function expand(ms) {
  const out = [];
  const have = new Set();
  for (const m of ms) {
    for (const id of idsOf(m)) {
      if (!have.has(id)) { have.add(id); out.push({ ...m, id, conversation: undefined }); }
    }
  }
  return out;
}

function searchText(q) {
  return state.unreadOnly && !/\bis:unread\b/i.test(q) ? `${q} is:unread` : q;
}

async function runSearch(q) {
  state.search = q;
  $('list-title').textContent = `Search: ${q}`;
  document.body.dataset.folderRole = 'search';
  renderFolders();
  history.replaceState(null, '', listHash());
  await loadList(() => api.search(searchText(q), { limit: PAGE }), (r) => r.next_offset);
  focusList();
}

function refreshList() {
  if (state.search) runSearch(state.search); else selectFolder(state.folderId);
}

async function loadList(fetchPage, nextOf) {
  const gen = ++state.listGen;
  state.loading = true;
  state.listError = '';
  state.messages = [];
  state.checked.clear();
  state.selected = -1;
  state.anchor = -1;
  state.next = null;
  state.total = null;
  if (!NARROW.matches || !state.open) closeReader({ keepFocus: true, history: false });
  renderList();
  try {
    const r = await fetchPage();
    if (gen !== state.listGen) return;
    state.messages = r.messages || [];
    state.next = nextOf(r) ?? null;
    state.total = typeof r.total === 'number' ? r.total : null;
    if (r.terms) state.terms = r.terms;
    state.selected = state.messages.length ? 0 : -1;
  } catch (e) {
    if (gen === state.listGen) state.listError = e.message;
  } finally {
    if (gen === state.listGen) { state.loading = false; renderList(); }
  }
}

async function loadMore() {
  if (state.next === null || state.loading) return;
  const gen = state.listGen;
  state.loading = true;
  $('load-more').disabled = true;
  try {
    const r = state.search
      ? await api.search(searchText(state.search), { offset: state.next, limit: PAGE })
      : grouped() ? asPage(await api.conversations(state.folderId, { cursor: state.next, unread: state.unreadOnly, limit: PAGE }))
        : await api.messages(state.folderId, { cursor: state.next, unread: state.unreadOnly, limit: PAGE });
    if (gen !== state.listGen) return;
    const have = new Set(state.messages.map((m) => m.id));
    const first = state.messages.length;
    state.messages.push(...(r.messages || []).filter((m) => !have.has(m.id)));
    state.next = (state.search ? r.next_offset : r.next_cursor) ?? null;
    renderList();
    const row = $('message-list').children[first];
    if (row) { state.selected = first; renderSelection(); row.querySelector('.msg-button')?.focus(); }
  } catch (e) {
    toast(`Could not load more: ${e.message}`, true);
  } finally {
    state.loading = false;
    $('load-more').disabled = false;
  }
}

function isOutgoing(m) {
  return !!state.folders.find((f) => f.id === m.folder_id && (f.role === 'sent' || f.role === 'drafts'));
}

/** participants names a conversation's senders briefly, "me" for the user. */
function participants(m) {
  const mine = new Set(myAddresses().map((a) => a.toLowerCase()));
  const names = m.conversation.participants.map((a) => (mine.has(a.address.toLowerCase()) ? 'me' : shortAddress(a).split(' ')[0]));
  return names.length > 3 ? `${names[0]} … ${names.slice(-2).join(', ')}` : names.join(', ');
}

function rowFor(m, i) {
  const conv = m.conversation && m.conversation.count > 1 ? m.conversation : null;
  const who = conv && conv.participants.length ? participants(m) : isOutgoing(m)
    ? `To: ${(m.to || []).map(shortAddress).join(', ')}`
    : (m.from || []).map(shortAddress).join(', ') || '(no sender)';
  const subject = m.subject || '(no subject)';
  const checked = state.checked.has(m.id);
  const terms = state.search ? state.terms : [];
  return h('li', {
    class: `msg${m.seen ? '' : ' unread'}${m.flagged ? ' flagged' : ''}${i === state.selected ? ' selected' : ''}${checked ? ' checked' : ''}`,
    dataset: { id: m.id }, draggable: 'true',
    ondragstart: (e) => {
      const ids = expand(state.checked.has(m.id) ? selectedMessages() : [m]).map((x) => x.id);
      e.dataTransfer.setData(DRAG_TYPE, JSON.stringify(ids));
      e.dataTransfer.setData('text/plain', `${ids.length} message${ids.length === 1 ? '' : 's'}`);
      e.dataTransfer.effectAllowed = 'move';
    },
  },
  h('input', {
    type: 'checkbox', class: 'msg-check', checked, 'aria-label': `Select: ${who}, ${subject}`,
    onclick: (e) => { e.stopPropagation(); toggleCheck(i, e.shiftKey, e.currentTarget.checked); },
  }),
  h('button', {
    type: 'button', class: 'msg-button',
    'aria-current': i === state.selected ? 'true' : null,
    onclick: (e) => {
      if (e.shiftKey) { toggleCheck(i, true, true); return; }
      if (e.ctrlKey || e.metaKey) { toggleCheck(i, false, !state.checked.has(m.id)); return; }
      state.selected = i; state.anchor = i; renderSelection(); openMessage(m.id);
    },
    onfocus: () => { if (state.selected !== i) { state.selected = i; renderSelection(); } },
  },
  state0(m),
  h('span', { class: 'msg-from' }, highlight(who, terms),
    conv ? h('span', { class: 'thread-n', 'aria-hidden': 'true' }, String(conv.count)) : null),
  h('span', { class: 'msg-date' }, listDate(m.date)),
  h('span', { class: 'msg-subject' },
    m.flagged ? h('span', { class: 'flag-mark', 'aria-hidden': 'true' }, '★ ') : null,
    highlight(subject, terms),
    m.has_attachments ? h('span', { class: 'clip', 'aria-hidden': 'true' }) : null),
  h('span', { class: 'msg-snippet' }, highlight(m.snippet || '', terms)),
  state.search ? h('span', { class: 'msg-folder' }, folderLabel(m.folder_id)) : null));
}

/** state0 is what screen readers hear first about a row (unread, flagged, attachments). */
function state0(m) {
  const n = m.conversation && m.conversation.count > 1 ? m.conversation.count : 0;
  const s = `${n ? `Conversation of ${n} messages. ` : ''}${m.seen ? '' : 'Unread. '}${m.flagged ? 'Flagged. ' : ''}${m.has_attachments ? 'Has attachments. ' : ''}`;
  return s ? h('span', { class: 'visually-hidden' }, s) : null;
}

function folderLabel(id) {
  const f = state.folders.find((x) => x.id === id);
  return f ? fullFolderName(f) : '';
}

function emptyState() {
  const f = currentFolder();
  if (state.listError) {
    return h('div', { class: 'empty-state error-state' },
      h('p', { class: 'empty-title' }, state.search ? 'The search did not work' : 'Could not load messages'),
      h('p', {}, state.listError),
      h('button', { type: 'button', onclick: () => refreshList() }, 'Try again'));
  }
  if (state.search) {
    return h('div', { class: 'empty-state' }, h('p', { class: 'empty-title' }, `No messages match “${state.search}”`),
      h('p', { class: 'muted' }, 'Try fewer or other words, or check the search operators.'),
      h('button', { type: 'button', onclick: () => $('help-dialog').showModal() }, 'Search operators'));
  }
  if (state.unreadOnly) return h('div', { class: 'empty-state' }, h('p', { class: 'empty-title' }, 'No unread messages'), h('p', { class: 'muted' }, 'You have read everything here.'));
  const texts = {
    inbox: ['Your inbox is empty', 'New mail shows up here as soon as it arrives.'],
    drafts: ['No drafts', 'Messages you start and do not send are kept here.'],
    sent: ['Nothing sent yet', 'Messages you send are kept here.'],
    junk: ['No junk', 'Mail that looks like spam is put here.'],
    trash: ['Trash is empty', 'Deleted messages stay here until you delete them for good.'],
  };
  const [title, hint] = texts[f && f.role] || ['This folder is empty', 'Drag messages here, or move them with “Move”.'];
  return h('div', { class: 'empty-state' }, h('p', { class: 'empty-title' }, title), h('p', { class: 'muted' }, hint));
}

function renderList() {
  const ul = $('message-list');
  ul.replaceChildren(...state.messages.map(rowFor));
  $('load-more').hidden = state.next === null;
  const n = state.messages.length;
  const status = $('list-status');
  if (state.loading && !n) status.replaceChildren(h('p', { class: 'loading muted' }, 'Loading…'));
  else if (!n) status.replaceChildren(emptyState());
  else status.replaceChildren();
  const total = state.total ?? (state.next === null ? n : null);
  const messages = total !== null ? `${total} message${total === 1 ? '' : 's'}` : `${n}+ messages`;
  const count = $('list-count');
  if (n && state.messages[0].conversation && state.next === null) {
    // Every conversation is listed: count them; the messages go in the title.
    count.textContent = `${n} conversation${n === 1 ? '' : 's'}`;
    count.title = `${messages} in ${count.textContent}`;
  } else {
    count.textContent = state.loading && !n ? '' : messages;
    count.title = '';
  }
  renderChecks();
}

function renderChecks() {
  const rows = $('message-list').children;
  for (let i = 0; i < rows.length; i++) {
    const on = state.checked.has(state.messages[i]?.id);
    rows[i].classList.toggle('checked', on);
    const c = rows[i].querySelector('.msg-check');
    if (c) c.checked = on;
  }
  const n = state.checked.size;
  $('bulk-bar').hidden = n === 0;
  $('bulk-count').textContent = `${n} selected`;
  const all = $('select-all');
  all.checked = n > 0 && n === state.messages.length;
  all.indeterminate = n > 0 && n < state.messages.length;
  all.disabled = state.messages.length === 0;
}

function toggleCheck(i, range, on) {
  const m = state.messages[i];
  if (!m) return;
  if (range && state.anchor >= 0) {
    const [a, b] = [Math.min(state.anchor, i), Math.max(state.anchor, i)];
    for (let j = a; j <= b; j++) state.checked.add(state.messages[j].id);
  } else if (on) state.checked.add(m.id);
  else state.checked.delete(m.id);
  state.anchor = i;
  state.selected = i;
  renderSelection();
  renderChecks();
}

function renderSelection() {
  const rows = $('message-list').children;
  for (let i = 0; i < rows.length; i++) {
    const on = i === state.selected;
    rows[i].classList.toggle('selected', on);
    const b = rows[i].querySelector('.msg-button');
    if (on) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
  }
}

function replaceRow(m) {
  const i = state.messages.findIndex((x) => x.id === m.id || (x.conversation && x.conversation.message_ids.includes(m.id)));
  if (i < 0) return;
  const old = state.messages[i];
  if (old.conversation && !m.conversation) {
    const c = { ...old.conversation, unread_ids: old.conversation.unread_ids.filter((id) => id !== m.id) };
    if (!m.seen) c.unread_ids.push(m.id);
    const base = old.id === m.id ? m : old;
    m = { ...base, conversation: c, seen: c.unread_ids.length === 0, flagged: old.id === m.id ? m.flagged : old.flagged };
  }
  state.messages[i] = m;
  const row = $('message-list').children[i];
  if (row) {
    const had = row.contains(document.activeElement);
    const nr = rowFor(m, i);
    row.replaceWith(nr);
    if (had) nr.querySelector('.msg-button')?.focus();
  }
}

function removeRows(ids) {
  const gone = new Set(ids);
  const row = document.activeElement && document.activeElement.closest && document.activeElement.closest('#message-list > li');
  const had = !!row;
  const before = state.messages.length;
  let removed = 0;
  state.messages = state.messages.flatMap((x) => {
    if (!x.conversation) {
      if (gone.has(x.id)) { removed++; return []; }
      return [x];
    }
    const left = x.conversation.message_ids.filter((id) => !gone.has(id));
    removed += x.conversation.message_ids.length - left.length;
    if (!left.length) return [];
    if (left.length === x.conversation.message_ids.length) return [x];
    const c = { ...x.conversation, message_ids: left, unread_ids: x.conversation.unread_ids.filter((id) => !gone.has(id)),
      count: Math.max(1, x.conversation.count - (x.conversation.message_ids.length - left.length)) };
    return [{ ...x, conversation: c, seen: c.unread_ids.length === 0 }];
  });
  for (const id of ids) state.checked.delete(id);
  if (!removed) return;
  if (state.total !== null) state.total = Math.max(0, state.total - removed);
  if (before === state.messages.length) { renderList(); return; }
  if (state.selected >= state.messages.length) state.selected = state.messages.length - 1;
  renderList();
  if (had) focusList();
}

function focusList() {
  const rows = $('message-list').children;
  // A row may be the empty state (no message button): then the list itself.
  const button = state.selected >= 0 && rows[state.selected] ? rows[state.selected].querySelector('.msg-button') : null;
  if (button) button.focus();
  else $('message-list').focus();
}

function moveSelection(delta) {
  if (!state.messages.length) return;
  const i = Math.max(0, Math.min(state.messages.length - 1, state.selected + delta));
  state.selected = i;
  renderSelection();
  const row = $('message-list').children[i];
  if (!row) return;
  row.querySelector('.msg-button')?.focus();
  row.scrollIntoView({ block: 'nearest' });
  if (state.open && !NARROW.matches) openMessage(state.messages[i].id, { focus: false, history: false });
  else if (delta > 0 && i === state.messages.length - 1 && state.next !== null) loadMore();
}

// ---------- reading ----------

async function openMessage(id, { remote = false, focus = true, history: hist = true } = {}) {
  let m;
  try {
    m = await api.message(id, remote);
  } catch (e) {
    toast(e.status === 404 ? 'That message is gone.' : `Could not open message: ${e.message}`, true);
    return;
  }
  const folder = state.folders.find((f) => f.id === m.folder_id);
  if (folder && folder.role === 'drafts' && !remote) {
    composer.open(draftOptions(m, id)); // drafts open editable
    return;
  }
  const wasOpen = !!state.open;
  state.open = m;
  state.remote = remote;
  $('reader').hidden = false;
  $('empty-reader').hidden = true;
  $('app-view').classList.add('reading');
  document.body.dataset.messageRole = folder ? folder.role || 'folder' : '';
  await renderConversation(m);
  if (hist && !remote) {
    const st = { message: m.id };
    if (wasOpen && history.state && history.state.message) history.replaceState(st, '', `${listHash()}/message/${m.id}`);
    else history.pushState(st, '', `${listHash()}/message/${m.id}`);
  }
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
  // Opening a conversation reads all of it.
  const row = rowOf(m.id);
  const others = row && row.conversation ? row.conversation.unread_ids.filter((x) => x !== m.id) : [];
  if (others.length) {
    try {
      await api.bulk(others, 'read');
      const r = rowOf(m.id);
      if (r && r.conversation) {
        const c = { ...r.conversation, unread_ids: r.conversation.unread_ids.filter((x) => !others.includes(x)) };
        replaceRow({ ...r, conversation: c, seen: c.unread_ids.length === 0 });
      }
    } catch { /* stays unread */ }
  }
}

function closeReader({ keepFocus = false, history: hist = true } = {}) {
  if (hist && history.state && history.state.message) {
    history.back(); // popstate closes the reader
    return;
  }
  state.open = null;
  $('reader').hidden = true;
  $('empty-reader').hidden = false;
  $('message-view').replaceChildren();
  $('app-view').classList.remove('reading');
  closeMore();
  if (!keepFocus) focusList();
}

function headerRow(label, value) {
  if (!value) return null;
  return [h('dt', {}, label), h('dd', {}, value)];
}

/** renderConversation shows the thread of m: older messages collapsed, m expanded. */
async function renderConversation(m) {
  let thread = [m];
  if (m.thread_id) {
    try {
      const t = await api.thread(m.thread_id);
      if (t.messages && t.messages.length > 1) thread = visibleInThread(t.messages, m.folder_id);
    } catch { /* show the message alone */ }
  }
  if (state.open !== m) return;
  const cards = thread.map((x) => (x.id === m.id ? messageCard(m, true) : messageCard(x, false)));
  const parts = [
    h('h2', { id: 'message-subject', class: 'message-subject', tabindex: '-1' }, m.subject || '(no subject)'),
    thread.length > 1 ? h('p', { class: 'muted thread-count' }, `${thread.length} messages in this conversation`) : null,
    spamPanel(m),
    h('ol', { class: 'conversation' }, cards),
  ];
  $('message-view').replaceChildren(...parts.filter(Boolean));
  updateToolbar();
  const cur = $('message-view').querySelector('.card.current');
  if (cur && thread.length > 1) cur.scrollIntoView({ block: 'nearest' });
}

/**
 * visibleInThread keeps the messages of a thread a conversation shows for
 * a message of folderId: all but those in Trash and Junk; in Trash or Junk
 * only that folder's (as the server counts them).
 */
function visibleInThread(ms, folderId) {
  const role = (id) => (state.folders.find((f) => f.id === id) || {}).role;
  const own = ['trash', 'junk'].includes(role(folderId));
  const out = ms.filter((x) => x.folder_id === folderId || (!own && !['trash', 'junk'].includes(role(x.folder_id))));
  return out.length ? out : ms.filter((x) => x.folder_id === folderId);
}

function spamPanel(m) {
  const sp = m.spam;
  if (!sp) return null;
  const folder = state.folders.find((f) => f.id === m.folder_id);
  if (!sp.junk && !(folder && folder.role === 'junk')) return null;
  return h('details', { class: 'spam-panel' },
    h('summary', {}, `Why this looks like spam: score ${Number(sp.score).toFixed(1)}, junk from ${Number(sp.threshold).toFixed(1)}`),
    h('ul', {}, (sp.signals || []).map((s) => h('li', {},
      h('strong', {}, s.name), ` ${s.score > 0 ? '+' : ''}${Number(s.score).toFixed(1)}`, s.detail ? h('span', { class: 'muted' }, ` — ${s.detail}`) : null))));
}

/** messageCard renders one message of a conversation; collapsed cards expand on click. */
function messageCard(x, expanded) {
  const from = (x.from || []).map(shortAddress).join(', ') || '(no sender)';
  const li = h('li', { class: `card${expanded ? ' expanded current' : ' collapsed'}`, dataset: { id: x.id } });
  if (!expanded) {
    li.append(h('button', {
      type: 'button', class: 'card-head', 'aria-expanded': 'false', 'aria-label': `${from}, ${listDate(x.date)}: show message`,
      onclick: async () => {
        try {
          const full = await api.message(x.id);
          li.replaceWith(messageCard(full, true));
        } catch (e) { toast(`Could not open: ${e.message}`, true); }
      },
    }, h('span', { class: 'msg-from' }, from), h('span', { class: 'msg-date' }, listDate(x.date)), h('span', { class: 'msg-snippet' }, x.snippet || '')));
    return li;
  }
  const list = (as) => (as || []).map(formatAddress).join(', ');
  li.append(h('dl', { class: 'message-headers' },
    headerRow('From', list(x.from)), headerRow('To', list(x.to)), headerRow('Cc', list(x.cc)), headerRow('Date', fullDate(x.date))));
  const remote = state.open && state.open.id === x.id && state.remote;
  if (x.html && x.remote_content && !remote) {
    li.append(h('p', { class: 'remote-banner', role: 'note' }, 'Remote images are blocked to protect your privacy. ',
      h('button', { type: 'button', id: x.id === state.open?.id ? 'show-images' : null, onclick: () => openMessage(x.id, { remote: true, history: false }) }, 'Show images')));
  }
  if (x.html) {
    // The server serves the body as a document of its own with a strict
    // policy (no scripts, inline styles allowed, inline images as data:
    // URLs). The sandbox allows no scripts; it keeps the origin so that
    // the frame can be sized to its content. Links open in new windows.
    const frame = h('iframe', {
      class: 'message-frame', sandbox: 'allow-same-origin allow-popups allow-popups-to-escape-sandbox',
      src: api.messageHTMLURL(x.id, remote), title: `Message from ${from}`, referrerpolicy: 'no-referrer', height: '200',
      onload: (e) => fitFrame(e.currentTarget),
    });
    li.append(h('div', { class: 'frame-box' }, frame));
  } else {
    li.append(h('pre', { class: 'message-text' }, highlight(x.text || '', state.search ? state.terms : [])));
  }
  const atts = (x.attachments || []).filter((a) => !a.inline);
  if (atts.length) {
    li.append(h('h3', { class: 'attachments-title' }, `Attachments (${atts.length})`),
      h('ul', { class: 'attachments' }, atts.map((a) => h('li', {},
        h('a', { href: api.attachmentURL(x.id, a.id), download: a.filename || 'attachment', class: 'attachment' },
          a.filename || 'attachment', h('span', { class: 'muted' }, ` ${formatSize(a.size)}`))))));
  }
  return li;
}

/**
 * fitFrame sizes a message frame to its document (no inner scrollbar) and
 * scales documents wider than the frame (600 px newsletters on a phone)
 * with one of mail.css's fit-NN classes. Keys pressed inside the frame
 * reach the app's shortcuts.
 */
function fitFrame(frame) {
  let doc;
  try { doc = frame.contentDocument; } catch { doc = null; }
  if (!doc || !doc.documentElement) return;
  const root = doc.documentElement;
  const measure = () => {
    for (const c of [...root.classList]) if (c.startsWith('fit-')) root.classList.remove(c);
    const avail = frame.clientWidth;
    const wide = root.scrollWidth;
    if (avail > 0 && wide > avail + 4) {
      const step = Math.max(40, Math.min(95, Math.floor((avail / wide) * 20) * 5));
      root.classList.add(`fit-${step}`);
    }
    const height = Math.ceil(root.getBoundingClientRect().height || root.scrollHeight);
    frame.setAttribute('height', String(Math.max(height, 40) + 2));
  };
  measure();
  if (!frame.observer) {
    frame.observer = new ResizeObserver(() => requestAnimationFrame(measure));
    frame.observer.observe(doc.body || root);
    window.addEventListener('resize', () => requestAnimationFrame(measure));
  }
  doc.addEventListener('keydown', (e) => onKey(e, true));
  for (const img of doc.images) if (!img.complete) img.addEventListener('load', () => measure(), { once: true });
}

function updateToolbar() {
  const m = state.open;
  if (!m) return;
  const seenBtn = document.querySelector('.reader-toolbar [data-action="toggle-seen"]');
  seenBtn.textContent = m.seen ? 'Mark unread' : 'Mark read';
  const flagBtn = document.querySelector('.reader-toolbar [data-action="toggle-flag"]');
  flagBtn.textContent = m.flagged ? 'Unflag' : 'Flag';
  flagBtn.setAttribute('aria-pressed', String(!!m.flagged));
  const folder = state.folders.find((f) => f.id === m.folder_id);
  document.body.dataset.messageRole = folder ? folder.role || 'folder' : '';
}

// The reader's overflow menu (phones): the secondary actions, as menu items.
function toggleMore(open) {
  const menu = $('more-menu');
  const on = open === undefined ? menu.hidden : open;
  if (on) {
    const role = document.body.dataset.messageRole;
    const items = [...document.querySelectorAll('.reader-toolbar > button[data-action]')]
      .filter((b) => getComputedStyle(b).display === 'none')
      .filter((b) => !(b.classList.contains('spam-action') && role === 'junk') && !(b.classList.contains('notspam-action') && role !== 'junk'));
    menu.replaceChildren(...items.map((b) => h('button', { type: 'button', role: 'menuitem', dataset: { action: b.dataset.action } }, b.textContent)));
    menu.hidden = false;
    menu.querySelector('button')?.focus();
  } else {
    menu.hidden = true;
  }
  $('more-button').setAttribute('aria-expanded', String(on));
}
function closeMore() { if (!$('more-menu').hidden) toggleMore(false); }

// ---------- actions ----------

/** target is the message an action applies to: the open one, else the selected row. */
function target() {
  return state.open || state.messages[state.selected] || null;
}

async function act(action) {
  if (state.checked.size && !state.open && ['delete', 'archive', 'move', 'spam', 'notspam'].includes(action)) return bulk(action);
  const m = target();
  if (!m) return;
  // In a list by conversation, moving and deleting apply to the conversation's messages in the folder.
  const all = () => expand([m]);
  switch (action) {
    case 'reply':
    case 'reply-all':
    case 'forward': {
      const full = state.open && state.open.id === m.id ? state.open : await api.message(m.id).catch(() => null);
      if (!full) return;
      composer.open(action === 'forward' ? forwardOptions(full) : replyOptions(full, myAddresses(), action === 'reply-all'));
      return;
    }
    case 'delete': return removeMessages(all(), 'delete');
    case 'archive': return removeMessages(all(), 'archive');
    case 'spam': return markSpam(all(), true);
    case 'notspam': return markSpam(all(), false);
    case 'toggle-seen': return patch(m, { seen: !m.seen });
    case 'toggle-flag': return patch(m, { flagged: !m.flagged });
    case 'move': return chooseFolder(all());
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

function selectedMessages() {
  return state.messages.filter((m) => state.checked.has(m.id));
}

async function bulk(action) {
  const rows = selectedMessages();
  if (!rows.length) return;
  const ms = expand(rows);
  switch (action) {
    case 'clear': state.checked.clear(); renderChecks(); return;
    case 'delete': case 'archive': return removeMessages(ms, action);
    case 'move': return chooseFolder(ms);
    case 'spam': return markSpam(ms, true);
    case 'notspam': return markSpam(ms, false);
    default:
  }
  try {
    await api.bulk(ms.map((m) => m.id), action);
    const patchOf = { read: { seen: true }, unread: { seen: false }, flag: { flagged: true } }[action] || {};
    for (const m of rows) {
      const c = m.conversation && 'seen' in patchOf ? { ...m.conversation, unread_ids: patchOf.seen ? [] : [...m.conversation.message_ids] } : m.conversation;
      replaceRow({ ...m, ...patchOf, conversation: c });
    }
    toast(`${ms.length} message${ms.length === 1 ? '' : 's'} updated`);
  } catch (e) { toast(`Could not update: ${e.message}`, true); }
}

/**
 * moveIds moves messages to a folder, with Undo (ids stay the same across a
 * move, so Undo moves each back to the folder it came from).
 */
async function moveIds(ids, folderId, { text = '' } = {}) {
  const ms = ids.map((id) => state.messages.find((m) => m.id === id) || (state.open && state.open.id === id ? state.open : { id, folder_id: state.folderId }));
  try {
    await api.bulk(ids, 'move', folderId);
  } catch (e) {
    toast(`Could not move: ${e.message}`, true);
    return false;
  }
  const f = state.folders.find((x) => x.id === folderId);
  const where = f ? fullFolderName(f) : 'folder';
  afterRemoval(ids);
  const n = ids.length === 1 ? '' : ` ${ids.length} messages`;
  toast(text || `Moved${n} to ${where}`, false, {
    label: 'Undo',
    run: async () => {
      const byFolder = new Map();
      for (const m of ms) byFolder.set(m.folder_id, [...(byFolder.get(m.folder_id) || []), m.id]);
      try {
        for (const [fid, group] of byFolder) await api.bulk(group, 'move', fid);
        toast('Undone');
        loadFolders();
        refreshList();
      } catch (e) { toast(`Could not undo: ${e.message}`, true); }
    },
  });
  loadFolders();
  return true;
}

/** removeMessages deletes (to Trash, with Undo; for good from Trash, after asking) or archives. */
async function removeMessages(ms, how) {
  const ids = ms.map((m) => m.id);
  if (how === 'archive') {
    const archive = roleFolder('archive');
    if (!archive) { toast('There is no Archive folder.', true); return; }
    if (ms.every((m) => m.folder_id === archive.id)) { toast('Already in Archive'); return; }
    await moveIds(ids, archive.id, { text: ids.length === 1 ? 'Archived' : `${ids.length} messages archived` });
    return;
  }
  const trash = roleFolder('trash');
  if (!trash || ms.every((m) => m.folder_id === trash.id)) {
    const ok = await confirmDialog({ title: `Delete ${ids.length === 1 ? 'this message' : `${ids.length} messages`} for good?`, text: 'This cannot be undone.', ok: 'Delete for good', danger: true });
    if (!ok) return;
    try { await api.bulk(ids, 'delete'); } catch (e) { toast(`Could not delete: ${e.message}`, true); return; }
    afterRemoval(ids);
    toast(ids.length === 1 ? 'Message deleted for good' : `${ids.length} messages deleted for good`);
    loadFolders();
    return;
  }
  await moveIds(ids, trash.id, { text: ids.length === 1 ? 'Message deleted' : `${ids.length} messages deleted` });
}

/** markSpam reports messages as spam or not (contract 3); without the spam API, it moves them. */
async function markSpam(ms, spam) {
  const dest = roleFolder(spam ? 'junk' : 'inbox');
  let apiMissing = false;
  for (const m of ms) {
    try {
      await api.markSpam(m.id, spam);
    } catch (e) {
      if (e.status === 404 && !apiMissing) {
        apiMissing = true;
        console.info('spam: POST /v1/messages/{id}/spam is not on this server (404): moving instead of reporting');
      }
      if (e.status !== 404) { toast(`Could not report: ${e.message}`, true); return; }
    }
  }
  if (apiMissing && dest) {
    await moveIds(ms.map((m) => m.id), dest.id, { text: spam ? 'Marked as spam: moved to Junk' : 'Not spam: moved to Inbox' });
    return;
  }
  afterRemoval(ms.map((m) => m.id).filter((id) => {
    const m = ms.find((x) => x.id === id);
    return dest && m.folder_id !== dest.id;
  }));
  loadFolders();
  toast(spam ? `Reported as spam${ms.length > 1 ? ` (${ms.length})` : ''}` : `Marked as not spam${ms.length > 1 ? ` (${ms.length})` : ''}`);
}

function afterRemoval(ids) {
  const wasOpen = state.open && ids.includes(state.open.id);
  const i = state.messages.findIndex((x) => ids.includes(x.id));
  removeRows(ids);
  if (i >= 0) state.selected = Math.min(i, state.messages.length - 1);
  renderSelection();
  if (wasOpen && state.selected >= 0 && !NARROW.matches) openMessage(state.messages[state.selected].id, { history: false });
  else if (wasOpen) closeReader();
  else focusList();
}

let moving = null;

function chooseFolder(ms) {
  moving = ms;
  const from = new Set(ms.map((m) => m.folder_id));
  const sel = $('move-select');
  sel.replaceChildren(...state.folders.filter((f) => !(from.size === 1 && from.has(f.id)))
    .map((f) => h('option', { value: f.id }, fullFolderName(f))));
  $('move-dialog').showModal();
  sel.focus();
}

async function onMoveChosen(e) {
  if (!moving || e.submitter?.value !== 'move') { moving = null; return; }
  const ms = moving;
  moving = null;
  await moveIds(ms.map((m) => m.id), Number($('move-select').value));
}

// ---------- live events ----------

function onEvent(ev) {
  switch (ev.type) {
    case 'message.new': {
      const m = ev.message;
      if (!m || state.search || m.folder_id !== state.folderId) return;
      if (grouped()) { addToConversation(m); return; }
      if (state.unreadOnly && m.seen) return;
      if (state.messages.some((x) => x.id === m.id)) return;
      // Newest first: insert before the first older message.
      let i = state.messages.findIndex((x) => new Date(x.received_at || x.date) < new Date(m.received_at || m.date));
      if (i < 0) {
        if (state.next !== null) return; // older than this page: it will come with "load more"
        i = state.messages.length;
      }
      state.messages.splice(i, 0, m);
      if (state.total !== null) state.total++;
      const focused = document.activeElement && $('message-list').contains(document.activeElement);
      if (i <= state.selected) state.selected++;
      if (state.selected < 0) state.selected = 0;
      renderList();
      if (focused) focusList();
      $('live-note').textContent = `New message from ${(m.from || []).map(shortAddress).join(', ') || 'unknown sender'}: ${m.subject || '(no subject)'}`;
      return;
    }
    case 'message.flags': {
      const cur = rowOf(ev.message_id);
      const base = cur && cur.id === ev.message_id ? { ...cur, conversation: undefined } : { id: ev.message_id };
      if (cur) replaceRow({ ...base, flags: ev.flags || [], seen: !!ev.seen, flagged: !!ev.flagged });
      if (state.open && state.open.id === ev.message_id) {
        Object.assign(state.open, { seen: !!ev.seen, flagged: !!ev.flagged });
        updateToolbar();
      }
      return;
    }
    case 'message.expunged':
      if (!state.search && ev.folder_id === state.folderId && !(state.open && state.open.id === ev.message_id)) removeRows([ev.message_id]);
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

/**
 * addToConversation puts a new message into the list by conversation: its
 * thread's row moves up with the new count, or a new row starts.
 */
async function addToConversation(m) {
  const gen = state.listGen;
  let msgs = [m];
  try { msgs = (await api.thread(m.thread_id)).messages || [m]; } catch { /* the message alone */ }
  if (gen !== state.listGen || !msgs.some((x) => x.id === m.id)) return;
  const inFolder = msgs.filter((x) => x.folder_id === state.folderId);
  if (state.unreadOnly && inFolder.every((x) => x.seen)) return;
  const visible = visibleInThread(msgs, state.folderId);
  const key = (x) => [new Date(x.received_at || x.date).getTime(), x.id];
  const later = (a, b) => { const [ka, kb] = [key(a), key(b)]; return ka[0] !== kb[0] ? ka[0] > kb[0] : ka[1] > kb[1]; };
  const latest = inFolder.reduce((a, b) => (later(b, a) ? b : a), m);
  const seenFrom = new Set();
  const people = [];
  for (const x of visible) for (const a of x.from || []) if (!seenFrom.has(a.address.toLowerCase())) { seenFrom.add(a.address.toLowerCase()); people.push(a); }
  const unread = inFolder.filter((x) => !x.seen).map((x) => x.id);
  const row = { ...latest, seen: unread.length === 0, conversation: { count: visible.length, message_ids: inFolder.map((x) => x.id), unread_ids: unread, participants: people } };
  const old = state.messages.findIndex((x) => x.thread_id === m.thread_id);
  const selectedId = state.messages[state.selected]?.id;
  const wasSelected = old >= 0 && old === state.selected;
  if (old >= 0) state.messages.splice(old, 1);
  let i = state.messages.findIndex((x) => later(row, x));
  if (i < 0) {
    if (state.next !== null && old < 0) return; // older than this page: it will come with "load more"
    i = state.messages.length;
  }
  state.messages.splice(i, 0, row);
  if (state.total !== null) state.total++;
  const focused = document.activeElement && $('message-list').contains(document.activeElement);
  const sel = wasSelected ? i : state.messages.findIndex((x) => x.id === selectedId);
  state.selected = sel >= 0 ? sel : 0;
  renderList();
  if (focused) focusList();
  $('live-note').textContent = `New message from ${(m.from || []).map(shortAddress).join(', ') || 'unknown sender'}: ${m.subject || '(no subject)'}`;
}

// ---------- keyboard ----------

function typing(e) {
  const t = e.target;
  return t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}

/** onKey handles shortcuts; fromFrame is set for keys pressed inside a message frame. */
function onKey(e, fromFrame = false) {
  if (!state.me || e.ctrlKey || e.metaKey || e.altKey) return;
  if (document.querySelector('dialog[open]')) return; // dialogs handle their own keys (Escape closes)
  if (e.key === 'Escape') {
    if (!$('more-menu').hidden) { toggleMore(false); $('more-button').focus(); return; }
    if (typing(e) && !fromFrame) { e.target.blur(); focusList(); return; }
    if ($('app-view').classList.contains('folders-open')) { toggleFolders(false); return; }
    if (state.open) { e.preventDefault(); closeReader(); return; }
    if (state.checked.size) { state.checked.clear(); renderChecks(); }
    return;
  }
  if (!fromFrame && typing(e) && !e.target.classList.contains('msg-check')) return;
  const keys = {
    j: () => moveSelection(1),
    k: () => moveSelection(-1),
    o: () => { const m = state.messages[state.selected]; if (m) openMessage(m.id); },
    x: () => { if (state.selected >= 0) toggleCheck(state.selected, false, !state.checked.has(state.messages[state.selected].id)); },
    c: () => composer.open(),
    r: () => act('reply'),
    a: () => act('reply-all'),
    f: () => act('forward'),
    e: () => act('archive'),
    '#': () => act('delete'),
    Delete: () => act('delete'),
    s: () => act('toggle-flag'),
    u: () => { const m = target(); if (m) patch(m, { seen: false }); },
    z: () => runToastAction(),
    g: () => settingsUI.open(),
    '/': () => { $('search-input').focus(); $('search-input').select(); },
    '?': () => $('help-dialog').showModal(),
  };
  let fn = keys[e.key];
  if (e.key === 'Enter' && !fromFrame && !e.target.closest('button, a, input')) fn = keys.o;
  if (!fn) return;
  e.preventDefault();
  if (fromFrame) window.focus();
  fn();
}

boot();

export { ApiError };
