// api.js: a thin client of Stamp's /v1 HTTP API. The browser session is the
// HttpOnly cookie stamp_session set at login; writes carry the double-submit
// CSRF header X-Stamp-CSRF whose value is the stamp_csrf cookie.

/** ApiError is a failed API call: HTTP status plus the API's error code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return '';
}

/** onUnauthorized is called when any call answers 401 (session gone). */
export let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

/**
 * request calls the API. body may be undefined, a FormData (sent as
 * multipart/form-data) or a value sent as JSON. It resolves to the decoded
 * JSON (or null for 204) and rejects with ApiError.
 */
export async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = cookie('stamp_csrf');
    if (csrf) headers['X-Stamp-CSRF'] = csrf;
  }
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', 'Network error: the server cannot be reached');
  }
  if (resp.status === 204) return null;
  let data = null;
  const ct = resp.headers.get('Content-Type') || '';
  if (ct.includes('json')) {
    try { data = await resp.json(); } catch { data = null; }
  }
  if (!resp.ok) {
    // Errors are {"error": {"code", "message"}}; some APIs answer {"error": "sentence"}.
    const raw = data && data.error;
    const err = typeof raw === 'string' ? { message: raw } : (raw || {});
    if (resp.status === 401 && path !== '/v1/auth/login') onUnauthorized();
    throw new ApiError(resp.status, err.code, err.message || (resp.status === 404 ? 'Not found' : `The server answered ${resp.status}`));
  }
  return data;
}

const q = (params) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
};

export const api = {
  login: (username, password) => request('POST', '/v1/auth/login', { username, password }),
  logout: () => request('POST', '/v1/auth/logout'),
  me: () => request('GET', '/v1/me'),
  folders: () => request('GET', '/v1/folders'),
  createFolder: (name) => request('POST', '/v1/folders', { name }),
  messages: (folderId, { cursor, unread, limit = 50 } = {}) =>
    request('GET', `/v1/folders/${folderId}/messages${q({ limit, cursor, unread: unread ? 'true' : '' })}`),
  conversations: (folderId, { cursor, unread, limit = 50 } = {}) =>
    request('GET', `/v1/folders/${folderId}/conversations${q({ limit, cursor, unread: unread ? 'true' : '' })}`),
  message: (id, remote) => request('GET', `/v1/messages/${id}${remote ? '?remote=1' : ''}`),
  patch: (id, fields) => request('PATCH', `/v1/messages/${id}`, fields),
  remove: (id) => request('DELETE', `/v1/messages/${id}`),
  send: (form) => request('POST', '/v1/messages', form),
  saveDraft: (form, id) => (id ? request('PUT', `/v1/drafts/${id}`, form) : request('POST', '/v1/drafts', form)),
  search: (text, { offset, limit = 50 } = {}) => request('GET', `/v1/search${q({ q: text, offset, limit })}`),
  thread: (id) => request('GET', `/v1/threads/${id}`),
  poll: (cursor, signal) => fetch(`/v1/events/poll${q({ cursor })}`, { credentials: 'same-origin', signal, headers: { Accept: 'application/json' } }),
  /** messageHTMLURL is the sanitized HTML document of a message, for its sandboxed frame. */
  messageHTMLURL: (id, remote) => `/v1/messages/${id}/html${remote ? '?remote=1' : ''}`,
  attachmentURL: (id, part) => `/v1/messages/${id}/attachments/${part.split('/').map(encodeURIComponent).join('/')}`,
  renameFolder: (id, name) => request('PATCH', `/v1/folders/${id}`, { name }),
  deleteFolder: (id) => request('DELETE', `/v1/folders/${id}`),
  bulk: (ids, action, folderId) => request('POST', '/v1/messages/bulk', { ids, action, folder_id: folderId || 0 }),
  settings: () => request('GET', '/v1/settings'),
  saveSettings: (s) => request('PUT', '/v1/settings', s),
  sessions: () => request('GET', '/v1/sessions'),
  endSession: (id) => request('DELETE', `/v1/sessions/${encodeURIComponent(id)}`),
  changePassword: (current, next) => request('POST', '/v1/auth/password', { current, new: next }),
  // Contract 2 (routing): identities, rules and vacation.
  identities: () => request('GET', '/v1/identities'),
  filters: () => request('GET', '/v1/filters'),
  saveFilters: (body) => request('PUT', '/v1/filters', body),
  // Contract 3 (spam): Spam / Not spam.
  markSpam: (id, spam) => request('POST', `/v1/messages/${id}/spam`, { spam }),
  // Contract 7 (ops): export. The API's own description says whether the
  // server has it (a probe of /v1/export itself would download everything).
  exportAvailable: async () => {
    try {
      const r = await fetch('/v1/openapi.json', { credentials: 'same-origin' });
      const doc = await r.json();
      return !!(doc.paths && doc.paths['/v1/export']);
    } catch { return false; }
  },
};
