// Service worker of the phone form (scope /visits/). Keeps the form working without a network:
// the static files are cached per version, the visit page and its API data network-first with
// the cached copy as fallback, photo thumbnails cache-first.
const VERSION = {{ version|tojson }};
const STATIC_CACHE = `fa-static-${VERSION}`;
const DATA_CACHE = 'fa-data-v1';
const IMAGE_CACHE = 'fa-images-v1';
const ASSETS = {{ assets|safe }};
const ASSET_PATHS = new Set(ASSETS.map((u) => new URL(u, self.location.origin).pathname));
const API = {{ api_prefix|tojson }};
const FORM_PAGE = /^\/visits\/\d+\/fill$/;
const VISIT_DATA = new RegExp(`^${API.replace(/\//g, '\\/')}visits\\/\\d+$`);

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(STATIC_CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('fa-static-') && k !== STATIC_CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function cacheable(response) {
  return response.ok && response.type === 'basic' && !response.redirected;
}

/** Mark a response as coming from the cache, so the page knows the data may be old. */
function fromCache(response) {
  const headers = new Headers(response.headers);
  headers.set('X-FA-Cached', '1');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function delay(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms, null); });
}

/**
 * Network first with a time limit: a slow connection in a shop falls back to the cached copy
 * after `ms`, while the network answer still refreshes the cache when it arrives.
 * A sign-in redirect or 401 while a copy exists serves the copy: the form keeps working and
 * asks the shopper to sign in only to send.
 */
async function networkFirst(event, key, ms, { keepOnAuthError }) {
  const cache = await caches.open(DATA_CACHE);
  const network = fetch(event.request).then(async (response) => {
    if (cacheable(response)) await cache.put(key, response.clone());
    return response;
  });
  event.waitUntil(network.catch(() => null));
  const cachedCopy = async () => {
    const hit = await cache.match(key);
    return hit ? fromCache(hit) : null;
  };
  try {
    const first = await Promise.race([network, delay(ms)]);
    const response = first || (await cachedCopy()) || (await network);
    const authProblem = response.type === 'opaqueredirect' || response.redirected || response.status === 401;
    if (first && authProblem && keepOnAuthError) return (await cachedCopy()) || response;
    return response;
  } catch (error) {
    const hit = await cachedCopy();
    if (hit) return hit;
    throw error;
  }
}

async function cacheFirst(request, cacheName, key) {
  const cache = await caches.open(cacheName);
  const hit = await cache.match(key, { ignoreSearch: cacheName === STATIC_CACHE });
  if (hit) return hit;
  const response = await fetch(request);
  if (cacheable(response)) await cache.put(key, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && FORM_PAGE.test(url.pathname)) {
    event.respondWith(networkFirst(event, url.pathname, 4000, { keepOnAuthError: true }));
  } else if (VISIT_DATA.test(url.pathname)) {
    event.respondWith(networkFirst(event, url.pathname, 6000, { keepOnAuthError: false }));
  } else if (ASSET_PATHS.has(url.pathname)) {
    event.respondWith(cacheFirst(request, STATIC_CACHE, url.pathname));
  } else if (url.pathname.startsWith('/visits/photos/')) {
    event.respondWith(cacheFirst(request, IMAGE_CACHE, request.url));
  }
});

// The page asks to keep its own URL and data (its first load happened before this worker ran).
self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type !== 'cache' || !Array.isArray(data.urls)) return;
  event.waitUntil((async () => {
    const cache = await caches.open(DATA_CACHE);
    await Promise.all(data.urls.map(async (u) => {
      const path = new URL(u, self.location.origin).pathname;
      if (!FORM_PAGE.test(path) && !VISIT_DATA.test(path)) return;
      try {
        const response = await fetch(path, { credentials: 'same-origin', headers: { Accept: FORM_PAGE.test(path) ? 'text/html' : 'application/json' } });
        if (cacheable(response)) await cache.put(path, response);
      } catch (error) { /* offline: the next load will fill the cache */ }
    }));
    await caches.open(STATIC_CACHE).then((c) => c.addAll(ASSETS)).catch(() => null);
    if (event.source) event.source.postMessage({ type: 'cached' });
  })());
});
