// sw.js: Stamp's service worker. It keeps the app shell (the page, its
// style sheets, scripts and icons) so that the webmail opens offline or on
// a flaky network, and makes it installable. Mail and the API (/v1/) are
// never cached: they always go to the network. The shell is served from
// the network first, so a new version is used as soon as it is deployed.
const CACHE = 'stamp-shell-v1';
const SHELL = ['/', '/app.css', '/mail.css', '/js/app.js', '/js/api.js', '/js/compose.js', '/js/dom.js', '/js/events.js',
  '/js/settings.js', '/icon.svg', '/icon-192.png', '/clip.svg', '/manifest.webmanifest'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/v1/')) return;
  const shell = e.request.mode === 'navigate' && url.pathname === '/' ? '/' : url.pathname;
  if (!SHELL.includes(shell)) return;
  e.respondWith(fetch(e.request).then((resp) => {
    if (resp.ok) {
      const copy = resp.clone();
      caches.open(CACHE).then((c) => c.put(shell, copy));
    }
    return resp;
  }).catch(() => caches.match(shell).then((r) => r || new Response('Offline', { status: 503, headers: { 'Content-Type': 'text/plain' } }))));
});
