// compose.js: the compose dialog (new message, reply, reply all, forward,
// drafts). Nothing typed is lost:
//   - every change is kept in localStorage at once (until the message is
//     sent or discarded), so a closed tab, a crash or an expired session
//     gives it back on the next sign-in;
//   - every few seconds, and on close, it is saved to Drafts on the
//     server under one stable draft id (PUT /v1/drafts/{id} updates it);
//   - Discard asks first; Escape saves and closes;
//   - Send holds the message for the "undo send" delay of the settings
//     before it is submitted, with an Undo button meanwhile.
// Messages are sent as multipart/form-data to POST /v1/messages: fields
// from, to, cc, bcc (comma-separated lists), subject, text, in_reply_to,
// and one file part per attachment.

import { api } from './api.js';
import { $, NARROW, h, formatAddress, formatSize, fullDate, toast, hideToast, confirmDialog } from './dom.js';

const AUTOSAVE_MS = 4000;
const LOCAL_MS = 400;

/** Composer drives the compose dialog. */
export class Composer {
  /**
   * ctx: {me() -> user, settings() -> settings JSON, identities() -> list,
   * onSent(), onDraftSaved()}.
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.dialog = $('compose-dialog');
    this.form = $('compose-form');
    this.files = []; // {name, type, blob}
    this.inReplyTo = 0;
    this.draftId = 0;
    this.dirty = false; // changed since the last server save
    this.saving = null;
    this.autosaveTimer = 0;
    this.localTimer = 0;
    this.pending = null; // a message held for undo send
    $('compose-files').addEventListener('change', (e) => {
      this.addFiles(e.target.files);
      e.target.value = '';
    });
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.send(); });
    this.form.addEventListener('input', () => this.changed());
    this.form.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.send(); }
    });
    $('compose-close').addEventListener('click', () => this.close());
    $('compose-discard').addEventListener('click', () => this.discard());
    // Escape closes, keeping the message as a draft: nothing is thrown away without asking.
    this.dialog.addEventListener('cancel', (e) => { e.preventDefault(); this.close(); });
    this.dialog.addEventListener('close', () => {
      if (this.returnFocus && document.contains(this.returnFocus)) this.returnFocus.focus();
    });
    const drop = this.dialog;
    drop.addEventListener('dragover', (e) => {
      if (e.dataTransfer && [...e.dataTransfer.types].includes('Files')) { e.preventDefault(); this.dialog.classList.add('dropping'); }
    });
    drop.addEventListener('dragleave', (e) => { if (e.target === this.dialog) this.dialog.classList.remove('dropping'); });
    drop.addEventListener('drop', (e) => {
      this.dialog.classList.remove('dropping');
      if (e.dataTransfer && e.dataTransfer.files.length) { e.preventDefault(); this.addFiles(e.dataTransfer.files); }
    });
  }

  get isOpen() { return this.dialog.open; }

  storageKey() {
    const me = this.ctx.me();
    return me ? `stamp.compose.${me.address}` : '';
  }

  addFiles(list) {
    for (const f of list) this.files.push({ name: f.name, type: f.type, blob: f });
    this.renderFiles();
    this.changed();
  }

  /**
   * open shows the dialog. opts: {to, cc, bcc, subject, text, inReplyTo,
   * title, draftId, from, notice, signature: false to leave it out,
   * attachments: [{name, type, url}] fetched from the server}.
   */
  open(opts = {}) {
    if (this.isOpen) this.flushLocal();
    this.returnFocus = document.activeElement;
    this.form.reset();
    $('compose-error').hidden = true;
    $('compose-saved').textContent = opts.draftId ? 'Draft' : '';
    const notice = $('compose-notice');
    notice.hidden = !opts.notice;
    notice.textContent = opts.notice || '';
    $('compose-title').textContent = opts.title || 'New message';
    this.renderFrom(opts.from);
    $('compose-to').value = opts.to || '';
    $('compose-cc').value = opts.cc || '';
    $('compose-bcc').value = opts.bcc || '';
    $('compose-subject').value = opts.subject || '';
    let text = opts.text || '';
    const sig = (this.ctx.settings() || {}).signature;
    if (sig && opts.signature !== false) {
      const block = `\n\n-- \n${sig}`;
      text = opts.inReplyTo || opts.forward ? `${block}${text}` : `${text}${block}`;
    }
    $('compose-text').value = text;
    this.title = opts.title || 'New message';
    this.inReplyTo = opts.inReplyTo || 0;
    this.draftId = opts.draftId || 0;
    this.files = [];
    this.dirty = !!opts.restored;
    this.renderFiles();
    this.dialog.showModal();
    const t = $('compose-text');
    // A new message holding only the signature: while the body still holds
    // just that, a caret at its end (a click below the text) goes above the
    // signature, where the message is written; a caret placed inside the
    // signature or a selection (select all) is left alone. Checked on focus,
    // after the click has placed the caret, and on the first key typed (a key
    // can arrive before a timer queued by the focus: input runs first).
    const prefill = text;
    const toTop = () => {
      const atEnd = t.selectionStart === t.value.length && t.selectionEnd === t.value.length;
      if (t.value === prefill && atEnd) t.setSelectionRange(0, 0);
    };
    const armed = prefill.startsWith('\n\n-- \n');
    t.onfocus = armed ? () => setTimeout(toTop, 0) : null;
    t.onmouseup = armed ? toTop : null;
    t.onkeydown = armed ? (e) => {
      if ((e.key.length === 1 || e.key === 'Enter') && !e.ctrlKey && !e.metaKey && !e.altKey) toTop();
    } : null;
    t.oninput = armed ? () => { t.onfocus = t.onmouseup = t.onkeydown = t.oninput = null; } : null;
    if (!opts.to) $('compose-to').focus();
    else { t.focus(); t.setSelectionRange(0, 0); t.scrollTop = 0; }
    for (const a of opts.attachments || []) this.fetchAttachment(a);
    clearInterval(this.autosaveTimer);
    this.autosaveTimer = setInterval(() => { if (this.dirty) this.saveDraft({ quiet: true }); }, AUTOSAVE_MS);
    if (opts.restored) this.flushLocal();
  }

  renderFrom(selected) {
    const ids = this.ctx.identities() || [];
    const field = $('compose-from-field');
    const sel = $('compose-from');
    field.hidden = ids.length < 2;
    const name = (this.ctx.settings() || {}).display_name;
    // A phone has room for the address, not for "Name <address>" too: the
    // address is what tells the identities apart (the name goes out all the same).
    sel.replaceChildren(...ids.map((i) => h('option', { value: i.address, selected: selected ? i.address === selected : i.primary },
      NARROW.matches ? i.address : formatAddress({ name: i.name || name, address: i.address }))));
  }

  async fetchAttachment(a) {
    const entry = { name: a.name, type: a.type, blob: null, loading: true };
    this.files.push(entry);
    this.renderFiles();
    try {
      const resp = await fetch(a.url, { credentials: 'same-origin' });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      entry.blob = await resp.blob();
    } catch {
      this.files = this.files.filter((f) => f !== entry);
      toast(`Could not attach ${a.name}`, true);
    }
    entry.loading = false;
    this.renderFiles();
  }

  renderFiles() {
    const ul = $('compose-attachments');
    ul.replaceChildren(...this.files.map((f) => h('li', { class: 'chip' },
      h('span', {}, f.name, f.blob ? ` (${formatSize(f.blob.size)})` : ' (loading…)'),
      h('button', {
        type: 'button', class: 'chip-remove', 'aria-label': `Remove attachment ${f.name}`,
        onclick: () => { this.files = this.files.filter((x) => x !== f); this.renderFiles(); this.changed(); },
      }, '×'))));
  }

  fields() {
    const v = (k) => $(`compose-${k}`).value;
    return {
      from: $('compose-from-field').hidden ? '' : v('from'),
      to: v('to'), cc: v('cc'), bcc: v('bcc'), subject: v('subject'), text: v('text'),
      inReplyTo: this.inReplyTo, draftId: this.draftId, title: this.title,
    };
  }

  isEmpty() {
    const f = this.fields();
    const sig = (this.ctx.settings() || {}).signature;
    const text = sig ? f.text.replace(`-- \n${sig}`, '') : f.text;
    return !f.to.trim() && !f.cc.trim() && !f.bcc.trim() && !f.subject.trim() && !text.trim() && !this.files.length;
  }

  formData(f = this.fields(), files = this.files) {
    const fd = new FormData();
    for (const k of ['to', 'cc', 'bcc', 'subject', 'text']) fd.append(k, f[k]);
    if (f.from) fd.append('from', f.from);
    if (f.inReplyTo) fd.append('in_reply_to', String(f.inReplyTo));
    for (const x of files) if (x.blob) fd.append('files', x.blob, x.name);
    return fd;
  }

  changed() {
    this.dirty = true;
    $('compose-saved').textContent = '';
    clearTimeout(this.localTimer);
    this.localTimer = setTimeout(() => this.flushLocal(), LOCAL_MS);
  }

  /** flushLocal keeps the message in localStorage (attachments excepted). */
  flushLocal() {
    clearTimeout(this.localTimer);
    const key = this.storageKey();
    if (!key || !this.isOpen) return;
    try {
      if (this.isEmpty() && !this.draftId) localStorage.removeItem(key);
      else localStorage.setItem(key, JSON.stringify({ ...this.fields(), at: Date.now() }));
    } catch { /* storage full or disabled: the server draft still saves */ }
  }

  clearLocal() {
    const key = this.storageKey();
    if (key) try { localStorage.removeItem(key); } catch { /* ignore */ }
  }

  /** restore reopens a message kept locally (after a reload or a new sign-in). */
  restore() {
    const key = this.storageKey();
    if (!key || this.isOpen) return false;
    let saved = null;
    try { saved = JSON.parse(localStorage.getItem(key) || 'null'); } catch { saved = null; }
    if (!saved) return false;
    this.open({ ...saved, signature: false, restored: true,
      notice: 'Your unsent message was kept on this device. Send it, or save it as a draft.' });
    return true;
  }

  showError(msg) {
    const e = $('compose-error');
    e.textContent = msg;
    e.hidden = false;
  }

  /** saveDraft stores the message in Drafts under its one draft id. */
  async saveDraft({ quiet = false } = {}) {
    // One save at a time, each with the fields as they are when it starts:
    // a save asked for during another one runs after it.
    while (this.saving) await this.saving.catch(() => null);
    if (this.isEmpty() && !this.draftId) return null;
    this.dirty = false;
    const body = this.formData();
    this.saving = (async () => {
      try {
        const r = await api.saveDraft(body, this.draftId);
        if (r && r.id) this.draftId = r.id;
        this.flushLocal();
        $('compose-saved').textContent = `Draft saved ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
        if (this.ctx.onDraftSaved) this.ctx.onDraftSaved();
        return r;
      } catch (e) {
        this.dirty = true;
        if (!quiet) this.showError(`Draft not saved: ${e.message}. It is kept on this device.`);
        else $('compose-saved').textContent = 'Not saved to the server yet (kept on this device)';
        return null;
      } finally {
        this.saving = null;
      }
    })();
    return this.saving;
  }

  stopTimers() {
    clearInterval(this.autosaveTimer);
    clearTimeout(this.localTimer);
  }

  /** close saves the message as a draft (if it holds anything) and closes. */
  async close() {
    if (!this.isOpen) return;
    this.flushLocal();
    const empty = this.isEmpty();
    this.stopTimers();
    if (!empty && (this.dirty || !this.draftId)) {
      const r = await this.saveDraft({ quiet: true });
      toast(r ? 'Draft saved' : 'Draft kept on this device; it will be saved when the server answers', !r);
      if (r) this.clearLocal();
    } else {
      this.clearLocal();
    }
    this.dialog.close();
  }

  /** discard asks, then throws the message (and its draft) away. */
  async discard() {
    if (!this.isEmpty() || this.draftId) {
      const ok = await confirmDialog({ title: 'Discard this message?', text: 'What you wrote will be deleted, and its draft too.', ok: 'Discard', danger: true });
      if (!ok) { $('compose-text').focus(); return; }
    }
    this.stopTimers();
    this.dialog.close();
    // An autosave under way may be creating the draft: wait, then delete what it made.
    while (this.saving) await this.saving.catch(() => null);
    const id = this.draftId;
    this.draftId = 0;
    this.clearLocal();
    if (id) {
      try { await api.remove(id); } catch { /* already gone */ }
      if (this.ctx.onDraftSaved) this.ctx.onDraftSaved();
    }
    toast('Message discarded');
  }

  /** send checks the message, closes the dialog and submits it after the undo delay. */
  send() {
    if (!$('compose-to').value.trim() && !$('compose-cc').value.trim() && !$('compose-bcc').value.trim()) {
      this.showError('Add at least one recipient.');
      $('compose-to').focus();
      return;
    }
    if (this.files.some((f) => f.loading)) { this.showError('Attachments are still loading.'); return; }
    if (this.pending) this.submit(this.pending); // one held message at a time: the earlier one goes now
    const held = { fields: this.fields(), files: [...this.files], timer: 0, saving: this.saving };
    this.flushLocal();
    this.stopTimers();
    this.dialog.close();
    const delay = Number((this.ctx.settings() || {}).undo_send_seconds ?? 5);
    this.pending = held;
    if (delay > 0) {
      held.timer = setTimeout(() => this.submit(held), delay * 1000);
      toast('Sending…', false, { label: 'Undo', run: () => this.undoSend(held) }, delay * 1000 + 500);
    } else {
      this.submit(held);
    }
  }

  undoSend(held) {
    if (this.pending !== held) return;
    clearTimeout(held.timer);
    this.pending = null;
    this.open({ ...held.fields, signature: false, restored: true, notice: 'Sending was undone. Edit the message and send it again.' });
    this.files = held.files;
    this.renderFiles();
  }

  async submit(held) {
    clearTimeout(held.timer);
    if (this.pending === held) this.pending = null;
    try {
      await api.send(this.formData(held.fields, held.files));
      // The draft to remove: the one it was opened from, or the one an autosave under way at Send made.
      const made = held.saving ? await held.saving.catch(() => null) : null;
      const draft = held.fields.draftId || (made && made.id);
      if (draft) api.remove(draft).catch(() => {});
      if (!this.isOpen) this.clearLocal();
      hideToast();
      toast('Message sent');
      this.ctx.onSent();
    } catch (e) {
      if (e.status === 401) {
        toast('Not sent: your session ended. Sign in again; the message is kept.', true);
        return; // localStorage still holds it: restored after sign-in
      }
      this.open({ ...held.fields, signature: false, restored: true, notice: '' });
      this.files = held.files;
      this.renderFiles();
      this.showError(`Not sent: ${e.message}`);
    }
  }
}

const addrList = (as) => (as || []).map(formatAddress).join(', ');

function prefixed(subject, prefix) {
  const s = subject || '';
  return new RegExp(`^${prefix}:`, 'i').test(s) ? s : `${prefix}: ${s}`;
}

function quote(m) {
  const who = formatAddress((m.from || [])[0]);
  const body = (m.text || '').replace(/\r\n/g, '\n').split('\n').map((l) => `> ${l}`).join('\n');
  return `\n\nOn ${fullDate(m.date)}, ${who} wrote:\n${body}\n`;
}

/**
 * replyOptions builds the compose options answering message m (full JSON).
 * mine is the list of the user's own addresses: replying to one's own
 * sent message answers its recipients, not oneself.
 */
export function replyOptions(m, mine, all) {
  const own = new Set((mine || []).map((a) => a.toLowerCase()));
  const isMine = (a) => own.has(a.address.toLowerCase());
  const fromMe = (m.from || []).length > 0 && (m.from || []).every(isMine);
  const primary = fromMe ? (m.to || []) : ((m.reply_to && m.reply_to.length ? m.reply_to : m.from) || []);
  let to = primary;
  let cc = [];
  if (all) {
    const seen = new Set(primary.map((a) => a.address.toLowerCase()));
    const rest = (xs) => (xs || []).filter((a) => !isMine(a) && !seen.has(a.address.toLowerCase()) && seen.add(a.address.toLowerCase()));
    to = [...primary, ...(fromMe ? [] : rest(m.to))];
    cc = rest(m.cc);
  }
  if (to.length > 1) to = to.filter((a) => !isMine(a));
  const answeredAs = [...(m.to || []), ...(m.cc || [])].find(isMine);
  return {
    title: all ? 'Reply all' : 'Reply',
    to: addrList(to), cc: addrList(cc), from: answeredAs ? answeredAs.address : '',
    subject: prefixed(m.subject, 'Re'), text: quote(m), inReplyTo: m.id,
  };
}

/** forwardOptions builds the compose options forwarding m with its attachments. */
export function forwardOptions(m) {
  const header = [
    '', '', '---------- Forwarded message ----------',
    `From: ${addrList(m.from)}`, `Date: ${fullDate(m.date)}`, `Subject: ${m.subject || ''}`,
    `To: ${addrList(m.to)}`,
  ];
  if (m.cc && m.cc.length) header.push(`Cc: ${addrList(m.cc)}`);
  return {
    title: 'Forward', forward: true,
    subject: prefixed(m.subject, 'Fwd'),
    text: `${header.join('\n')}\n\n${m.text || ''}`,
    attachments: (m.attachments || []).map((a) => ({ name: a.filename || 'attachment', type: a.content_type, url: api.attachmentURL(m.id, a.id) })),
  };
}

/** draftOptions reopens a saved draft for editing. */
export function draftOptions(m, draftId) {
  return {
    title: 'Draft', draftId, signature: false,
    to: addrList(m.to), cc: addrList(m.cc), subject: m.subject || '', text: m.text || '',
    attachments: (m.attachments || []).filter((a) => !a.inline).map((a) => ({ name: a.filename || 'attachment', type: a.content_type, url: api.attachmentURL(m.id, a.id) })),
  };
}
