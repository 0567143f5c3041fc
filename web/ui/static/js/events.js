// events.js: live updates. A WebSocket on /v1/events pushes one JSON event
// per message; when the socket cannot be opened or drops, the client falls
// back to long polling /v1/events/poll and tries the socket again later.
// Both carry a cursor (the user's change sequence), so switching between
// them, or reconnecting, loses nothing.

import { api } from './api.js';

const RETRY_SOCKET_MS = 60_000; // how long to stay on long polling before trying the socket again
const POLL_BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];

/**
 * EventStream delivers server events to onEvent(event). mode is "socket",
 * "poll" or "stopped"; onMode(mode) is told when it changes.
 */
export class EventStream {
  constructor(onEvent, onMode = () => {}, onEnded = () => {}) {
    this.onEvent = onEvent;
    this.onMode = onMode;
    this.onEnded = onEnded; // the server ended the session (logged out elsewhere, password changed)
    this.cursor = '';
    this.mode = 'stopped';
    this.ws = null;
    this.abort = null;
    this.timer = 0;
    this.failures = 0;
  }

  start() {
    this.stopped = false;
    this.openSocket();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) { this.ws.onclose = null; this.ws.close(1000); this.ws = null; }
    if (this.abort) this.abort.abort();
    this.cursor = ''; // cursors are per user: the next session starts afresh
    this.setMode('stopped');
  }

  setMode(m) {
    if (this.mode !== m) { this.mode = m; this.onMode(m); }
  }

  deliver(ev) {
    if (ev.cursor) this.cursor = ev.cursor;
    try { this.onEvent(ev); } catch (e) { console.error('event handler failed', e); }
  }

  openSocket() {
    if (this.stopped) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${proto}//${location.host}/v1/events${this.cursor ? `?cursor=${encodeURIComponent(this.cursor)}` : ''}`;
    let opened = false;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.startPolling();
      return;
    }
    this.ws = ws;
    ws.onopen = () => { opened = true; this.failures = 0; this.setMode('socket'); };
    ws.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      this.deliver(ev);
    };
    ws.onclose = (ev) => {
      this.ws = null;
      if (this.stopped) return;
      if (ev.code === 4001) { this.stop(); this.onEnded(); return; } // session ended: sign in again
      // A socket that worked and closed (server restart, network change)
      // is retried once at once; one that never opened falls back to polling.
      if (opened) { this.timer = setTimeout(() => this.openSocket(), 1000); return; }
      this.startPolling();
    };
  }

  startPolling() {
    if (this.stopped) return;
    this.setMode('poll');
    this.pollUntil = Date.now() + RETRY_SOCKET_MS;
    this.poll();
  }

  async poll() {
    if (this.stopped) return;
    if (Date.now() > this.pollUntil) { this.openSocket(); return; }
    this.abort = new AbortController();
    try {
      const resp = await api.poll(this.cursor, this.abort.signal);
      if (resp.status === 401) { this.stop(); this.onEnded(); return; }
      if (!resp.ok) throw new Error(`poll: HTTP ${resp.status}`);
      const data = await resp.json();
      for (const ev of data.events || []) this.deliver(ev);
      if (data.cursor) this.cursor = data.cursor;
      this.failures = 0;
      this.timer = setTimeout(() => this.poll(), 0);
    } catch (e) {
      if (this.stopped) return;
      const wait = POLL_BACKOFF_MS[Math.min(this.failures, POLL_BACKOFF_MS.length - 1)];
      this.failures++;
      this.timer = setTimeout(() => this.poll(), wait);
    }
  }
}
