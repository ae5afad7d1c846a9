// The outbox runner: sends what the phone holds to the server, in order —
// the visit start, then photos one by one, then the draft, then the submission.
// It runs on page load, when the network returns, every 30 s and after each change.
// Nothing leaves IndexedDB until the server has confirmed it.

import { getOutbox, putOutbox, putPhoto } from './store.js';

class NetError extends Error {}
class AuthError extends Error {}
class ServerError extends Error {}
class Closed extends Error {
  constructor(kind) { super(kind); this.kind = kind; }
}

const TIMEOUT_MS = 20000;
const UPLOAD_TIMEOUT_MS = 120000;

export function createSync(ctx) {
  const base = ctx.apiUrl;
  let token = null;
  let running = null;
  let again = false;
  // After a 401 the line keeps saying "sign in again" while retries run, instead of flickering.
  let signedOut = false;

  async function send(method, url, body, timeout = TIMEOUT_MS) {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const headers = { Accept: 'application/json' };
      if (token) headers['X-CSRFToken'] = token;
      let payload = body;
      if (body && !(body instanceof FormData)) {
        headers['Content-Type'] = 'application/json';
        payload = JSON.stringify(body);
      }
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), timeout);
      let res;
      try {
        res = await fetch(url, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store', signal: abort.signal });
      } catch (e) {
        throw new NetError(String(e));
      } finally {
        clearTimeout(timer);
      }
      if (res.status === 401) throw new AuthError();
      let data = null;
      if (res.status !== 204) {
        try { data = await res.json(); } catch (e) { data = null; }
        // A Wi-Fi sign-in page answers 200 with HTML: that is no network, not a server answer.
        if (data === null) throw (res.status >= 500 ? new ServerError() : new NetError('not JSON'));
      }
      if (res.status === 400 && data && data.error === 'csrf' && attempt === 0) {
        await fetchToken();
        continue;
      }
      if (res.status >= 500 || res.status === 429) throw new ServerError();
      return { status: res.status, data: data || {} };
    }
    throw new ServerError();
  }

  async function fetchToken() {
    token = null;
    const { status, data } = await send('GET', ctx.csrfUrl);
    if (status !== 200 || !data.csrf_token) throw new ServerError();
    token = data.csrf_token;
    signedOut = false;
  }

  async function sendStart(draft) {
    const { status } = await send('POST', `${base}/start`, {
      started_at: draft.start.started_at,
      geolocation: draft.start.geolocation,
      position: draft.start.position,
    });
    if (status === 409 || status === 404) throw new Closed('not_editable');
    // 400 means a malformed start record: the submission carries started_at again, so move on.
    await ctx.startSent();
  }

  async function uploadPhoto(photo) {
    const form = new FormData();
    form.append('file', photo.blob, `${photo.client_photo_id}.jpg`);
    form.append('question_id', photo.question_id);
    form.append('client_photo_id', photo.client_photo_id);
    if (photo.taken_at) form.append('taken_at', photo.taken_at);
    if (photo.source) form.append('source', photo.source);
    if (photo.exif) form.append('exif', photo.exif, 'exif.bin');
    if (photo.latitude != null) {
      form.append('latitude', photo.latitude);
      form.append('longitude', photo.longitude);
    }
    const { status, data } = await send('POST', `${base}/photos`, form, UPLOAD_TIMEOUT_MS);
    if (status === 409 || status === 404) throw new Closed('not_editable');
    if (status === 200 || status === 201 || status === 202) { // 202: stored, being decoded on the server
      // Deleted while it was on its way: now that it has a server id, delete it there too.
      const state = photo.state === 'pending' ? 'uploaded' : 'deleting';
      Object.assign(photo, { state, id: data.id, url: data.url, thumb_url: data.thumb_url, error: null });
    } else if (photo.state === 'pending') {
      Object.assign(photo, { state: 'failed', error: data.message || null });
    }
    await putPhoto(photo);
    ctx.photosChanged();
  }

  async function deletePhoto(photo) {
    const { status } = await send('DELETE', `${base}/photos/${encodeURIComponent(photo.id)}`);
    if (status === 409) throw new Closed('not_editable');
    // 204, or 404 when it was already gone: either way the server no longer has it.
    Object.assign(photo, { state: 'deleted', id: null, blob: null });
    await putPhoto(photo);
  }

  async function sendDraft() {
    const { rev, body } = ctx.draftPayload();
    const { status, data } = await send('PUT', `${base}/draft`, body);
    if (status === 200) await ctx.draftSaved(rev, data.saved_at);
    else if (status === 409 || status === 404) throw new Closed('not_editable');
    else {
      await ctx.draftRejected(rev, data.problems || [], data.message);
      return true;
    }
    return false;
  }

  async function sendSubmission(outbox) {
    const { status, data } = await send('POST', `${base}/submit`, {
      client_submission_id: outbox.client_submission_id, ...outbox.payload,
    });
    if (status === 200 || status === 201 || status === 202) { // 202: stored, being decoded on the server
      Object.assign(outbox, { state: 'sent', result: data });
      await putOutbox(outbox);
      await ctx.submitted(outbox);
    } else if (status === 409 || status === 404) {
      Object.assign(outbox, { state: 'closed', error: data.error || 'not_editable' });
      await putOutbox(outbox);
      throw new Closed(data.error === 'already_submitted' || data.error === 'conflict' ? 'conflict' : 'not_editable');
    } else {
      Object.assign(outbox, { state: 'rejected', problems: data.problems || [], message: data.message });
      await putOutbox(outbox);
      await ctx.submitRejected(outbox);
      return true;
    }
    return false;
  }

  async function flush() {
    const draft = ctx.draft();
    const photos = ctx.photos(); // the page's own records, so both see each change at once
    const outbox = await getOutbox(ctx.visitId);
    const submitting = Boolean(outbox && outbox.state === 'queued');
    const needStart = Boolean(draft && draft.start && draft.start.geolocation && !draft.start.sent);
    // A photo still waiting for its own position goes later, unless the visit is being submitted.
    const uploads = photos.filter((p) => p.state === 'pending' && (submitting || !(p.locating_until > Date.now())));
    const deleting = () => photos.filter((p) => p.state === 'deleting' && p.id);
    const needDraft = !submitting && ctx.draftDirty();
    const waiting = () => photos.some((p) => p.state === 'pending'); // kept on the phone, not sent yet
    if (!needStart && !uploads.length && !deleting().length && !needDraft && !submitting) {
      ctx.status(waiting() ? 'local' : 'idle');
      return;
    }
    if (!navigator.onLine) {
      ctx.status('offline');
      return;
    }
    if (!signedOut) ctx.status('sending');
    await fetchToken();
    if (needStart) await sendStart(draft);
    for (const photo of uploads) if (photo.state === 'pending') await uploadPhoto(photo);
    for (const photo of deleting()) await deletePhoto(photo);
    // A refusal (4xx) is final for what was sent: its message stays on screen, not "saved".
    let refused = false;
    if (needDraft) refused = await sendDraft();
    if (submitting) refused = (await sendSubmission(outbox)) || refused;
    if (!refused) ctx.status(ctx.draftDirty() || waiting() ? 'local' : 'idle');
  }

  async function runOnce() {
    try {
      await flush();
    } catch (e) {
      if (e instanceof AuthError) {
        signedOut = true;
        ctx.status('signin');
      }
      else if (e instanceof NetError) ctx.status('offline');
      else if (e instanceof ServerError) ctx.status('server_error');
      else if (e instanceof Closed) ctx.closed(e.kind);
      else throw e;
    }
  }

  /** Flush the queue; calls made while a flush runs make one more flush afterwards. */
  function run() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await runOnce();
      } while (again);
    })().finally(() => { running = null; });
    return running;
  }

  let debounce = null;
  /** Run soon (after a burst of typing), not on every keystroke. */
  function soon(ms = 1500) {
    clearTimeout(debounce);
    debounce = setTimeout(run, ms);
  }

  window.addEventListener('online', () => run());
  window.addEventListener('offline', () => run());
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') run(); });
  setInterval(run, 30000);
  return { run, soon };
}
