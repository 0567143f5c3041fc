// dom.js: small DOM helpers. Text always goes in through textContent (never
// innerHTML), so nothing a message contains can become markup of the app.

/** $ returns the element with the given id. */
export const $ = (id) => document.getElementById(id);

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
/** toast shows a short status message (announced to screen readers). */
export function toast(text, isError = false) {
  const t = $('toast');
  t.textContent = text;
  t.classList.toggle('toast-error', isError);
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, isError ? 6000 : 3000);
}
