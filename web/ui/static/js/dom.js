// dom.js: small DOM helpers. Text always goes in through textContent (never
// innerHTML), so nothing a message contains can become markup of the app.

/** $ returns the element with the given id. */
export const $ = (id) => document.getElementById(id);

/** NARROW matches the phone layout (app.css's max-width: 700px). */
export const NARROW = window.matchMedia('(max-width: 700px)');

/**
 * h builds an element: h('li', {class: 'x', dataset: {id: 1}, onclick}, child...)
 * where children are nodes, strings (text) or null (skipped).
 */
export function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** formatAddress renders {name, address} as "Name <address>" or the address. */
export function formatAddress(a) {
  if (!a) return '';
  return a.name ? `${a.name} <${a.address}>` : a.address;
}

/** shortAddress renders an address as its display name, else its address. */
export function shortAddress(a) {
  if (!a) return '';
  return a.name || a.address;
}

const dayFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const yearFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const oldFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

/** listDate formats a date compactly for the message list. */
export function listDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return dayFmt.format(d);
  if (d.getFullYear() === now.getFullYear()) return yearFmt.format(d);
  return oldFmt.format(d);
}

/** fullDate formats a date for the message header. */
export function fullDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : fullFmt.format(d);
}

/** formatSize renders a byte count for people. */
export function formatSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

let toastTimer = 0;
let toastAction = null;
/**
 * toast shows a short status message (announced to screen readers). With
 * action {label, run}, it carries a button (Undo) and stays longer.
 */
export function toast(text, isError = false, action = null, ms = 0) {
  const t = $('toast');
  $('toast-text').textContent = text;
  t.classList.toggle('toast-error', isError);
  const b = $('toast-action');
  toastAction = action;
  b.hidden = !action;
  if (action) b.textContent = action.label || 'Undo';
  t.hidden = false;
  // A popover sits in the top layer: the toast shows above open dialogs too.
  if (t.showPopover) { try { t.hidePopover(); } catch { /* not shown */ } t.showPopover(); }
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => hideToast(), ms || (action ? 8000 : isError ? 6000 : 3000));
}

/** runToastAction runs the toast's action (its button, or the z key). */
export function runToastAction() {
  const a = toastAction;
  if (!a) return false;
  hideToast();
  a.run();
  return true;
}

/** hideToast hides the toast at once. */
export function hideToast() {
  const t = $('toast');
  t.hidden = true;
  toastAction = null;
  if (t.hidePopover) { try { t.hidePopover(); } catch { /* not shown */ } }
}

/**
 * confirmDialog asks a yes/no question; it resolves to true for OK.
 */
export function confirmDialog({ title, text, ok = 'OK', cancel = 'Cancel', danger = false }) {
  const d = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text || '';
  $('confirm-ok').textContent = ok;
  $('confirm-ok').classList.toggle('danger', danger);
  $('confirm-cancel').textContent = cancel;
  d.returnValue = '';
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
    $('confirm-ok').focus();
  });
}

/**
 * highlight returns text as nodes with each case-insensitive occurrence of
 * the terms wrapped in <mark> (text nodes only: nothing becomes markup).
 */
export function highlight(text, terms) {
  const ts = (terms || []).map((t) => t.trim()).filter((t) => t.length > 1);
  if (!text || !ts.length) return [text || ''];
  const esc = ts.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).sort((a, b) => b.length - a.length);
  const re = new RegExp(`(${esc.join('|')})`, 'gi');
  const out = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('mark', { class: 'hit' }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
