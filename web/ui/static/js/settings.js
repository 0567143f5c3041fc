// settings.js: the settings dialog. Account settings (display name,
// signature, theme, density, undo-send delay) use /v1/settings; password
// and sessions use /v1/auth/password and /v1/sessions. Identities, rules
// and the vacation reply follow the routing API (GET /v1/identities,
// GET/PUT /v1/filters), and the export link the ops API (GET /v1/export):
// where the server does not have them (404), their sections say so.

import { api } from './api.js';
import { $, h, toast, confirmDialog, fullDate } from './dom.js';

const FIELDS = [['from', 'From'], ['to', 'To'], ['subject', 'Subject'], ['body', 'Body']];
const ACTIONS = [['move', 'Move to folder'], ['read', 'Mark as read'], ['flag', 'Flag'], ['forward', 'Forward to'], ['delete', 'Delete']];

/** applyLook sets the theme and density of the page from settings. */
export function applyLook(s) {
  const theme = (s && s.theme) || 'auto';
  document.documentElement.dataset.theme = theme;
  document.body.classList.toggle('compact', (s && s.density) === 'compact');
  try { localStorage.setItem('stamp.look', JSON.stringify({ theme, density: (s && s.density) || 'comfortable' })); } catch { /* ignore */ }
}

/** Settings drives the settings dialog. ctx: {me(), settings(), setSettings(s), identities(), folders()}. */
export class Settings {
  constructor(ctx) {
    this.ctx = ctx;
    this.dialog = $('settings-dialog');
    this.filters = null;
    $('settings-form').addEventListener('submit', (e) => { e.preventDefault(); this.save(); });
    $('password-form').addEventListener('submit', (e) => { e.preventDefault(); this.changePassword(); });
    $('sessions-others').addEventListener('click', () => this.endOthers());
    // Theme and density apply at once, before saving.
    for (const r of document.querySelectorAll('#settings-form input[type=radio]')) {
      r.addEventListener('change', () => applyLook(this.formValues()));
    }
    this.dialog.addEventListener('close', () => applyLook(this.ctx.settings()));
  }

  async open() {
    this.fill(this.ctx.settings() || {});
    $('settings-error').hidden = true;
    $('password-error').hidden = true;
    $('pw-user').value = this.ctx.me().address;
    this.dialog.showModal();
    $('set-name').focus();
    this.renderIdentities();
    this.loadSessions();
    this.loadFilters();
    api.exportAvailable().then((ok) => {
      $('export-section').hidden = !ok;
      if (!ok) console.info('export: GET /v1/export is not on this server (404): the download button is hidden');
    });
  }

  fill(s) {
    $('set-name').value = s.display_name || '';
    $('set-signature').value = s.signature || '';
    for (const r of document.querySelectorAll('#settings-form input[name=theme]')) r.checked = r.value === (s.theme || 'auto');
    for (const r of document.querySelectorAll('#settings-form input[name=density]')) r.checked = r.value === (s.density || 'comfortable');
    $('set-undo').value = String(s.undo_send_seconds ?? 5);
    $('set-conversations').checked = s.conversations !== false;
    if (!$('set-undo').value) $('set-undo').value = '5';
  }

  formValues() {
    const radio = (n) => (document.querySelector(`#settings-form input[name=${n}]:checked`) || {}).value;
    return {
      display_name: $('set-name').value, signature: $('set-signature').value,
      theme: radio('theme') || 'auto', density: radio('density') || 'comfortable',
      undo_send_seconds: Number($('set-undo').value),
      conversations: $('set-conversations').checked,
    };
  }

  async save() {
    const err = $('settings-error');
    err.hidden = true;
    try {
      const s = await api.saveSettings(this.formValues());
      this.ctx.setSettings(s);
      applyLook(s);
      toast('Settings saved');
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
    }
  }

  renderIdentities() {
    const ul = $('identities');
    const ids = this.ctx.identities();
    if (!ids || !ids.length) {
      ul.replaceChildren(h('li', { class: 'muted' }, this.ctx.me().address));
      return;
    }
    ul.replaceChildren(...ids.map((i) => h('li', {}, i.address, i.name ? ` (${i.name})` : '', i.primary ? h('span', { class: 'tag' }, 'main') : null)));
  }

  async loadSessions() {
    const ul = $('sessions');
    ul.replaceChildren(h('li', { class: 'muted' }, 'Loading…'));
    try {
      const r = await api.sessions();
      const list = r.sessions || [];
      $('sessions-others').hidden = list.filter((s) => !s.current).length === 0;
      ul.replaceChildren(...list.map((s) => h('li', { class: 'session' },
        h('span', { class: 'session-what' }, h('span', { class: 'session-device' }, s.device || 'Unknown device'),
          h('span', { class: 'muted session-where' }, `${s.ip ? `${s.ip} · ` : ''}signed in ${fullDate(s.created_at)}`)),
        s.current ? h('span', { class: 'tag' }, 'this browser') : h('button', {
          type: 'button', 'aria-label': `Sign out ${s.device || 'the session'}${s.ip ? ` at ${s.ip}` : ''}, signed in ${fullDate(s.created_at)}`,
          onclick: async () => { await this.end(s.id); },
        }, 'Sign out'))));
    } catch (e) {
      ul.replaceChildren(h('li', { class: 'error' }, `Could not load sessions: ${e.message}`));
    }
  }

  async end(id) {
    try {
      await api.endSession(id);
      toast('Signed out that session');
    } catch (e) { toast(`Could not sign it out: ${e.message}`, true); }
    this.loadSessions();
  }

  async endOthers() {
    const ok = await confirmDialog({ title: 'Sign out everywhere else?', text: 'Every other browser and app signed in to this account is signed out.', ok: 'Sign out others' });
    if (!ok) return;
    const r = await api.sessions().catch(() => ({ sessions: [] }));
    for (const s of r.sessions || []) if (!s.current) await api.endSession(s.id).catch(() => {});
    toast('Other sessions signed out');
    this.loadSessions();
  }

  async changePassword() {
    const err = $('password-error');
    err.hidden = true;
    const cur = $('pw-current').value;
    const next = $('pw-new').value;
    if (!cur || !next) { err.textContent = 'Enter your current password and a new one.'; err.hidden = false; return; }
    try {
      const r = await api.changePassword(cur, next);
      $('pw-current').value = '';
      $('pw-new').value = '';
      toast(r.sessions_ended ? `Password changed; ${r.sessions_ended} other session${r.sessions_ended === 1 ? '' : 's'} signed out` : 'Password changed');
      this.loadSessions();
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
    }
  }

  // ---------- rules and vacation (routing API, contract 2) ----------

  async loadFilters() {
    const box = $('filters');
    box.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    try {
      this.filters = await api.filters();
    } catch (e) {
      if (e.status === 404) {
        console.info('filters: GET /v1/filters is not on this server (404): rules and vacation are not available');
        box.replaceChildren(h('p', { class: 'muted' }, 'Rules and the vacation reply are not available on this server.'));
      } else {
        box.replaceChildren(h('p', { class: 'error' }, `Could not load rules: ${e.message}`));
      }
      return;
    }
    this.renderFilters();
  }

  renderFilters() {
    const f = this.filters;
    const box = $('filters');
    const rules = h('ol', { class: 'rules', id: 'rules' });
    const addRule = (r = { field: 'from', contains: '', action: 'move', target: '' }) => {
      const n = rules.children.length + 1;
      const sel = (opts, v, label) => h('select', { 'aria-label': label }, opts.map(([val, text]) => h('option', { value: val, selected: val === v }, text)));
      const field = sel(FIELDS, r.field, `Rule ${n}: field`);
      const contains = h('input', { value: r.contains || '', 'aria-label': `Rule ${n}: contains`, placeholder: 'contains…' });
      const action = sel(ACTIONS, r.action, `Rule ${n}: action`);
      const target = h('input', { value: r.target || '', 'aria-label': `Rule ${n}: folder or address`, placeholder: 'folder or address', list: 'rule-folders' });
      const li = h('li', { class: 'rule' }, 'If ', field, ' contains ', contains, ' then ', action, target,
        h('button', { type: 'button', class: 'icon-button', 'aria-label': `Remove rule ${n}`, onclick: () => li.remove() }, '✕'));
      const sync = () => { target.hidden = !['move', 'forward'].includes(action.value); };
      action.addEventListener('change', sync);
      sync();
      li.read = () => ({ field: field.value, contains: contains.value.trim(), action: action.value, target: target.hidden ? '' : target.value.trim() });
      rules.append(li);
    };
    for (const r of f.rules || []) addRule(r);
    const v = f.vacation || { enabled: false, subject: '', body: '', days: 7 };
    const vacOn = h('input', { type: 'checkbox', id: 'vac-on', checked: !!v.enabled });
    const vacSubject = h('input', { id: 'vac-subject', value: v.subject || '' });
    const vacBody = h('textarea', { id: 'vac-body', rows: '3' });
    vacBody.value = v.body || '';
    const vacDays = h('input', { id: 'vac-days', type: 'number', min: '1', max: '60', value: String(v.days || 7) });
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    const folders = h('datalist', { id: 'rule-folders' }, (this.ctx.folders() || []).map((x) => h('option', { value: x.name })));
    const save = async (force = false) => {
      err.hidden = true;
      const body = {
        rules: [...rules.children].map((li) => li.read()).filter((r) => r.contains),
        vacation: { enabled: vacOn.checked, subject: vacSubject.value, body: vacBody.value, days: Number(vacDays.value) || 7 },
        force,
      };
      try {
        this.filters = await api.saveFilters(body);
        toast('Rules saved');
        this.renderFilters();
      } catch (e) {
        if (e.status === 409 && !force) {
          const ok = await confirmDialog({ title: 'Replace your own Sieve script?', text: `${e.message} Saving here replaces it with these rules.`, ok: 'Replace it' });
          if (ok) save(true);
          return;
        }
        err.textContent = e.message;
        err.hidden = false;
      }
    };
    box.replaceChildren(...[
      f.managed === false ? h('p', { class: 'notice' }, 'Your filters were written by hand (a Sieve script). Saving here will replace them.') : null,
      rules, folders,
      h('button', { type: 'button', onclick: () => addRule() }, '+ Add rule'),
      h('fieldset', { class: 'stack vacation' }, h('legend', {}, 'Vacation reply'),
        h('label', { class: 'check' }, vacOn, ' Answer mail automatically'),
        h('label', { for: 'vac-subject' }, 'Subject'), vacSubject,
        h('label', { for: 'vac-body' }, 'Message'), vacBody,
        h('label', { for: 'vac-days' }, 'Answer each sender at most once every (days)'), vacDays),
      err,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'primary', id: 'filters-save', onclick: () => save(false) }, 'Save rules')),
    ].filter(Boolean));
  }
}
