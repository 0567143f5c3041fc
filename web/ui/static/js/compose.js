// compose.js: the compose dialog (new message, reply, reply all, forward,
// drafts). Messages are sent as multipart/form-data to POST /v1/messages:
// fields to, cc, bcc (comma-separated lists), subject, text, in_reply_to,
// and one file part per attachment.

import { api } from './api.js';
import { $, h, formatAddress, formatSize, fullDate, toast } from './dom.js';

/** Composer drives the compose dialog; onSent() runs after a successful send. */
export class Composer {
  constructor({ me, onSent }) {
    this.me = () => me();
    this.onSent = onSent;
    this.dialog = $('compose-dialog');
    this.form = $('compose-form');
    this.files = []; // {name, type, blob}
    this.inReplyTo = 0;
    this.draftId = 0;
    this.busy = false;
    $('compose-files').addEventListener('change', (e) => {
      for (const f of e.target.files) this.files.push({ name: f.name, type: f.type, blob: f });
      e.target.value = '';
      this.renderFiles();
    });
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.send(); });
    $('compose-draft').addEventListener('click', () => this.saveDraft());
    $('compose-cancel').addEventListener('click', () => this.close());
    this.dialog.addEventListener('close', () => {
      if (this.returnFocus && document.contains(this.returnFocus)) this.returnFocus.focus();
    });
  }

  get isOpen() { return this.dialog.open; }

  /**
   * open shows the dialog. opts: {to, cc, subject, text, inReplyTo, title,
   * attachments: [{name, type, url}] fetched from the server (forward)}.
   */
  open(opts = {}) {
    this.returnFocus = document.activeElement;
    this.form.reset();
    $('compose-error').hidden = true;
    $('compose-title').textContent = opts.title || 'New message';
    $('compose-to').value = opts.to || '';
    $('compose-cc').value = opts.cc || '';
    $('compose-bcc').value = '';
    $('compose-subject').value = opts.subject || '';
    $('compose-text').value = opts.text || '';
    this.inReplyTo = opts.inReplyTo || 0;
    this.draftId = 0;
    this.files = [];
    this.renderFiles();
    this.dialog.showModal();
    const t = $('compose-text');
    if (!opts.to) $('compose-to').focus();
    else { t.focus(); t.setSelectionRange(0, 0); t.scrollTop = 0; }
    for (const a of opts.attachments || []) this.fetchAttachment(a);
  }

  async fetchAttachment(a) {
    const entry = { name: a.name, type: a.type, blob: null, loading: true };
    this.files.push(entry);
    this.renderFiles();
    try {
      const resp = await fetch(a.url, { credentials: 'same-origin' });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      entry.blob = await resp.blob();
    } catch (e) {
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
        onclick: () => { this.files = this.files.filter((x) => x !== f); this.renderFiles(); },
      }, '×'))));
  }

  formData() {
    const fd = new FormData();
    for (const k of ['to', 'cc', 'bcc', 'subject', 'text']) fd.append(k, $(`compose-${k}`).value);
    if (this.inReplyTo) fd.append('in_reply_to', String(this.inReplyTo));
    for (const f of this.files) if (f.blob) fd.append('files', f.blob, f.name);
    return fd;
  }

  showError(msg) {
    const e = $('compose-error');
    e.textContent = msg;
    e.hidden = false;
  }

  async send() {
    if (this.busy) return;
    if (!$('compose-to').value.trim() && !$('compose-cc').value.trim() && !$('compose-bcc').value.trim()) {
      this.showError('Add at least one recipient.');
      $('compose-to').focus();
      return;
    }
    if (this.files.some((f) => f.loading)) { this.showError('Attachments are still loading.'); return; }
    this.busy = true;
    $('compose-send').disabled = true;
    try {
      await api.send(this.formData());
      if (this.draftId) api.remove(this.draftId).catch(() => {});
      this.dialog.close();
      toast('Message sent');
      this.onSent();
    } catch (e) {
      this.showError(`Not sent: ${e.message}`);
    } finally {
      this.busy = false;
      $('compose-send').disabled = false;
    }
  }

  async saveDraft() {
    try {
      const r = await api.saveDraft(this.formData(), this.draftId);
      this.draftId = r.id;
      toast('Draft saved');
    } catch (e) {
      this.showError(`Draft not saved: ${e.message}`);
    }
  }

  close() { this.dialog.close(); }
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

/** replyOptions builds the compose options answering message m (full JSON). */
export function replyOptions(m, me, all) {
  const mine = (a) => a.address.toLowerCase() === (me || '').toLowerCase();
  const primary = (m.reply_to && m.reply_to.length ? m.reply_to : m.from) || [];
  let to = primary;
  let cc = [];
  if (all) {
    const seen = new Set(primary.map((a) => a.address.toLowerCase()));
    const rest = (xs) => (xs || []).filter((a) => !mine(a) && !seen.has(a.address.toLowerCase()) && seen.add(a.address.toLowerCase()));
    to = [...primary, ...rest(m.to)];
    cc = rest(m.cc);
  }
  if (to.length > 1) to = to.filter((a) => !mine(a));
  return {
    title: all ? 'Reply all' : 'Reply',
    to: addrList(to), cc: addrList(cc),
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
    title: 'Forward',
    subject: prefixed(m.subject, 'Fwd'),
    text: `${header.join('\n')}\n\n${m.text || ''}`,
    attachments: (m.attachments || []).map((a) => ({ name: a.filename || 'attachment', type: a.content_type, url: api.attachmentURL(m.id, a.id) })),
  };
}
