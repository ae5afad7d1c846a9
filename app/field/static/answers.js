// The answers of the visit: reading and changing them in the draft, showing them on each
// question (errors, comments, photos, show_if) and the progress, and the photo answers.

import {
  NA, commentRequired, hiddenQuestions, problemOf, writeControl,
} from './form.js';
import {
  LOCATE_WAIT_MS, downscale, exifSegment, forgetPhotoUrl, photoPosition, photoSource, renderPhotos,
} from './photos.js';
import {
  $, bar, byId, draft, editable, hidden, now, persist, photos, questions, setHidden, stopwatches, sync, visitId,
} from './state.js';
import { setStatus } from './status.js';
import * as store from './store.js';
import { T, counted, fmt } from './text.js';

export const openedComments = new Set();

export function changed() {
  draft.rev += 1;
  draft.changed_at = now();
  persist();
  setStatus('local');
  if (sync) sync.soon();
}

// -- answers -----------------------------------------------------------------------------------

const activePhotos = (qid) => photos.filter((p) => p.question_id === qid && (p.state === 'pending' || p.state === 'uploaded'));

function answerOf(qid) {
  const q = byId.get(qid);
  const value = draft.answers[qid];
  if (q.type === 'photo' && value !== NA) {
    const list = activePhotos(qid).map((p) => p.client_photo_id);
    return list.length ? list : null;
  }
  return value === undefined ? null : value;
}

export function setAnswer(q, value) {
  if (value === null || value === undefined) delete draft.answers[q.id];
  else {
    draft.answers[q.id] = value;
    if (!draft.times[q.id]) draft.times[q.id] = now();
  }
  refreshQuestion(q);
  refreshVisibility();
  refreshProgress();
  changed();
}

function noteFirstAnswer(qid) {
  if (!draft.times[qid]) draft.times[qid] = now();
}

/** Return the answers in the contract's shape: only visible questions, comments folded in. */
export function buildAnswers() {
  const answers = {};
  const times = {};
  for (const q of questions) {
    if (hidden.has(q.id)) continue;
    const value = answerOf(q.id);
    if (value === null) continue;
    const comment = (draft.comments[q.id] || '').trim();
    answers[q.id] = comment && q.comment !== 'none' ? { value, comment } : value;
    if (draft.times[q.id]) times[q.id] = draft.times[q.id];
  }
  return { answers, answer_times: times };
}

/** Read a server draft ({id: value | {value, comment}}) into the local one. */
export function adoptServerDraft(serverDraft) {
  draft.answers = {};
  draft.comments = {};
  for (const [qid, raw] of Object.entries(serverDraft.answers || {})) {
    const q = byId.get(qid);
    if (!q) continue;
    const isObject = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
    const value = isObject ? raw.value : raw;
    if (isObject && raw.comment) draft.comments[qid] = raw.comment;
    if (q.type === 'photo' && value !== NA) continue; // photos come from the photo list
    if (value !== null && value !== undefined) draft.answers[qid] = value;
  }
  draft.times = { ...(serverDraft.answer_times || {}) };
  draft.server_saved_at = serverDraft.saved_at;
  draft.synced_rev = draft.rev;
  applyDraft();
  persist();
}

// -- rendering a question -------------------------------------------------------------------

export function showError(q, message) {
  const box = q.el.querySelector('.q-error');
  box.textContent = message;
  box.hidden = false;
  q.el.classList.add('q-invalid');
}

export function clearError(q) {
  const box = q.el.querySelector('.q-error');
  box.hidden = true;
  box.textContent = '';
  q.el.classList.remove('q-invalid');
}

function problemText(p) {
  return counted(T[p.kind], p.n, { n: p.n });
}

export function refreshQuestion(q) {
  const value = answerOf(q.id);
  q.el.classList.toggle('is-answered', value !== null);
  const cmt = q.el.querySelector('.cmt');
  if (cmt) {
    const needed = commentRequired(q, value) || q.comment === 'required';
    const text = (draft.comments[q.id] || '').trim();
    const open = needed || text || openedComments.has(q.id);
    cmt.querySelector('.cmt-box').hidden = !open;
    cmt.querySelector('.cmt-add').hidden = Boolean(open);
    const label = cmt.querySelector('.cmt-label');
    label.textContent = needed ? label.dataset.required : label.dataset.optional;
    cmt.classList.toggle('is-required', needed);
  }
  const clear = q.el.querySelector('.q-clear');
  clear.hidden = !(editable && value !== null && !q.required && ['yes_no', 'scale', 'choice'].includes(q.type));
  if (q.el.classList.contains('q-invalid')) {
    const p = problemOf(q, value, draft.comments[q.id], activePhotos(q.id).length);
    if (!p) clearError(q);
  }
  if (q.type === 'photo') {
    renderPhotos(q, photos.filter((p) => p.question_id === q.id), T, deletePhoto);
  }
}

function refreshVisibility() {
  setHidden(hiddenQuestions(questions, answerOf));
  for (const q of questions) q.el.hidden = hidden.has(q.id);
}

export function sectionCounts(step) {
  const qs = questions.filter((q) => q.section === step && !hidden.has(q.id));
  const answered = qs.filter((q) => answerOf(q.id) !== null).length;
  const missing = qs.some((q) => problemOf(q, answerOf(q.id), draft.comments[q.id], activePhotos(q.id).length));
  return { answered, total: qs.length, missing };
}

export function refreshProgress() {
  const visible = questions.filter((q) => !hidden.has(q.id));
  const answered = visible.filter((q) => answerOf(q.id) !== null).length;
  // Out of the form (a submitted or closed visit) the bar shows the visit's state instead (nav.js).
  if (!bar.classList.contains('bar-done')) {
    $('.bar-count').textContent = fmt(T.answered, { n: answered, total: visible.length });
    $('.bar-progress span').style.width = `${visible.length ? (100 * answered) / visible.length : 0}%`;
  }
  return { answered, total: visible.length };
}

export function applyDraft() {
  for (const q of questions) {
    writeControl(q, draft.answers[q.id] ?? null);
    if (q.commentBox) q.commentBox.value = draft.comments[q.id] || '';
    clearError(q);
  }
  refreshVisibility();
  for (const q of questions) refreshQuestion(q);
  for (const sw of stopwatches.values()) sw.render();
  refreshProgress();
}

export function validateAll() {
  const missing = [];
  for (const q of questions) {
    if (hidden.has(q.id)) {
      clearError(q);
      continue;
    }
    const p = problemOf(q, answerOf(q.id), draft.comments[q.id], activePhotos(q.id).length);
    if (p) {
      showError(q, problemText(p));
      missing.push(q);
    } else if (!q.el.querySelector('.q-error').dataset.server) clearError(q);
  }
  return missing;
}

// -- photos ------------------------------------------------------------------------------------

export async function addPhoto(q, input) {
  const file = input.files && input.files[0];
  input.value = '';
  if (!file) return;
  if (activePhotos(q.id).length >= q.maxPhotos) {
    showError(q, counted(T.too_many_photos, q.maxPhotos, { n: q.maxPhotos }));
    return;
  }
  // The downscale strips EXIF, so ask the phone where it is now (in parallel with the downscale);
  // without an answer the photo keeps the start position, else none.
  const start = draft.start || {};
  const fallback = start.position ? { latitude: start.position.latitude, longitude: start.position.longitude } : null;
  const located = photoPosition(start.geolocation === 'granted', fallback);
  const source = photoSource(file);
  let blob;
  let exif = null;
  try {
    exif = await exifSegment(file).catch(() => null); // read before the downscale drops it
    blob = await downscale(file);
  } catch (e) {
    showError(q, T.photo_unreadable);
    return;
  }
  const photo = {
    client_photo_id: store.uuid(), visit_id: visitId, question_id: q.id, blob, exif, source, state: 'pending',
    created_at: now(), taken_at: now(), id: null, url: null, thumb_url: null,
    ...(fallback || {}), locating_until: Date.now() + LOCATE_WAIT_MS,
  };
  located.then(async (position) => {
    Object.assign(photo, position || {}, { locating_until: null });
    if (photo.state !== 'pending') return; // deleted (or sent with the fallback) meanwhile
    await store.putPhoto(photo);
    sync.run();
  });
  photos.push(photo);
  noteFirstAnswer(q.id);
  refreshQuestion(q);
  refreshProgress();
  await store.putPhoto(photo);
  changed();
  sync.run(); // photos are the slowest part: start uploading at once
}

async function deletePhoto(photo) {
  forgetPhotoUrl(photo.client_photo_id);
  // Uploaded photos are deleted on the server by the sync; the others are kept as a tombstone
  // in case an upload did reach the server before its answer was lost.
  Object.assign(photo, { state: photo.id ? 'deleting' : 'deleted', blob: null, exif: null });
  const q = byId.get(photo.question_id);
  refreshQuestion(q);
  refreshProgress();
  await store.putPhoto(photo);
  changed();
}

export function mergeServerPhotos(serverPhotos, fresh) {
  const known = new Set(serverPhotos.map((p) => p.id));
  for (const sp of serverPhotos) {
    const local = photos.find((p) => (sp.client_photo_id && p.client_photo_id === sp.client_photo_id) || (p.id && p.id === sp.id));
    const fields = { id: sp.id, url: sp.url, thumb_url: sp.thumb_url };
    // The server could not read it (damaged file): show why, so the shopper takes it again.
    const refused = sp.status === 'rejected' ? { state: 'failed', error: sp.problem || null } : null;
    if (!local) {
      const photo = {
        client_photo_id: sp.client_photo_id || `server-${sp.id}`, visit_id: visitId, question_id: sp.question_id,
        state: 'uploaded', blob: null, created_at: sp.taken_at || now(), ...fields, ...refused,
      };
      photos.push(photo);
      store.putPhoto(photo);
    } else if (refused && local.state !== 'deleted' && local.state !== 'deleting') {
      Object.assign(local, fields, refused);
      store.putPhoto(local);
    } else if (local.state === 'deleted') {
      Object.assign(local, fields, { state: 'deleting' });
      store.putPhoto(local);
    } else if (local.state === 'pending') {
      Object.assign(local, fields, { state: 'uploaded' }); // the upload arrived; its answer was lost
      store.putPhoto(local);
    }
  }
  if (fresh) {
    for (const p of photos) {
      if (p.state === 'uploaded' && !known.has(p.id)) {
        p.state = 'deleted';
        store.putPhoto(p);
      }
    }
  }
}
