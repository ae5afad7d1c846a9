// The phone form of a visit: one section per screen, answers saved on the phone as the shopper
// goes (IndexedDB), synced to the server whenever there is a network, submitted through an outbox.

import {
  NA, commentRequired, formatDuration, hiddenQuestions, problemOf, readControl, readQuestions, setDisabled,
  writeControl,
} from './form.js';
import {
  LOCATE_WAIT_MS, downscale, forgetPhotoUrl, photoPosition, renderPhotos,
} from './photos.js';
import { mountStopwatch } from './stopwatch.js';
import * as store from './store.js';
import { createSync } from './sync.js';

const form = document.getElementById('fill');
const T = JSON.parse(document.getElementById('fill-text').textContent);
const fmt = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));
const PLURAL_RULES = new Intl.PluralRules(document.documentElement.lang || 'en');
const PLURAL_SAMPLES = [1, 2, 5]; // the counts fill.html rendered each counted text for
// A counted text is [form for 1, for 2, for 5]: use the form whose count has the same plural category.
function plural(forms, count, vars) {
  const category = PLURAL_RULES.select(count);
  const index = PLURAL_SAMPLES.findIndex((sample) => PLURAL_RULES.select(sample) === category);
  return fmt(forms[index < 0 ? forms.length - 1 : index], vars);
}
const counted = (text, count, vars) => (Array.isArray(text) ? plural(text, count, vars) : fmt(text, vars));
const $ = (sel, root = form) => root.querySelector(sel);
const visitId = Number(form.dataset.visitId);
const apiUrl = form.dataset.api;
const questions = readQuestions(form);
const byId = new Map(questions.map((q) => [q.id, q]));
const sectionSteps = [...form.querySelectorAll('.fill-section')].map((s) => s.dataset.step);
const steps = ['intro', ...sectionSteps];
const bar = $('.bar');
const sectionsDialog = document.getElementById('sections-dialog');
const submitDialog = document.getElementById('submit-dialog');

let draft = null;
let photos = [];
let outbox = null;
let hidden = new Set();
let editable = form.dataset.editable === '1';
let serverStartedAt = form.dataset.startedAt || null;
let current = null;
let sync = null;
const stopwatches = new Map();
const openedComments = new Set();

const now = () => new Date().toISOString();
const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function emptyDraft() {
  return {
    visit_id: visitId, answers: {}, comments: {}, times: {}, timers: {}, rev: 0, synced_rev: 0,
    rejected_rev: null, step: null, start: null, server_saved_at: null, changed_at: null,
  };
}

// -- saving ----------------------------------------------------------------------------------

let saving = Promise.resolve();
function persist() {
  const copy = structuredClone(draft);
  saving = saving.then(() => store.putDraft(copy)).catch((e) => console.error('saving on the phone failed', e));
  return saving;
}

function changed() {
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

function setAnswer(q, value) {
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
function buildAnswers() {
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
function adoptServerDraft(serverDraft) {
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

function showError(q, message) {
  const box = q.el.querySelector('.q-error');
  box.textContent = message;
  box.hidden = false;
  q.el.classList.add('q-invalid');
}

function clearError(q) {
  const box = q.el.querySelector('.q-error');
  box.hidden = true;
  box.textContent = '';
  q.el.classList.remove('q-invalid');
}

function problemText(p) {
  return counted(T[p.kind], p.n, { n: p.n });
}

function refreshQuestion(q) {
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
  hidden = hiddenQuestions(questions, answerOf);
  for (const q of questions) q.el.hidden = hidden.has(q.id);
}

function sectionCounts(step) {
  const qs = questions.filter((q) => q.section === step && !hidden.has(q.id));
  const answered = qs.filter((q) => answerOf(q.id) !== null).length;
  const missing = qs.some((q) => problemOf(q, answerOf(q.id), draft.comments[q.id], activePhotos(q.id).length));
  return { answered, total: qs.length, missing };
}

function refreshProgress() {
  const visible = questions.filter((q) => !hidden.has(q.id));
  const answered = visible.filter((q) => answerOf(q.id) !== null).length;
  $('.bar-count').textContent = fmt(T.answered, { n: answered, total: visible.length });
  $('.bar-progress span').style.width = `${visible.length ? (100 * answered) / visible.length : 0}%`;
  return { answered, total: visible.length };
}

function applyDraft() {
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

// -- photos ------------------------------------------------------------------------------------

async function addPhoto(q, input) {
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
  let blob;
  try {
    blob = await downscale(file);
  } catch (e) {
    showError(q, T.photo_unreadable);
    return;
  }
  const photo = {
    client_photo_id: store.uuid(), visit_id: visitId, question_id: q.id, blob, state: 'pending',
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
  Object.assign(photo, { state: photo.id ? 'deleting' : 'deleted', blob: null });
  const q = byId.get(photo.question_id);
  refreshQuestion(q);
  refreshProgress();
  await store.putPhoto(photo);
  changed();
}

function mergeServerPhotos(serverPhotos, fresh) {
  const known = new Set(serverPhotos.map((p) => p.id));
  for (const sp of serverPhotos) {
    const local = photos.find((p) => (sp.client_photo_id && p.client_photo_id === sp.client_photo_id) || (p.id && p.id === sp.id));
    const fields = { id: sp.id, url: sp.url, thumb_url: sp.thumb_url };
    if (!local) {
      const photo = {
        client_photo_id: sp.client_photo_id || `server-${sp.id}`, visit_id: visitId, question_id: sp.question_id,
        state: 'uploaded', blob: null, created_at: sp.taken_at || now(), ...fields,
      };
      photos.push(photo);
      store.putPhoto(photo);
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

// -- steps and the bottom bar --------------------------------------------------------------------

const started = () => Boolean(draft.start || serverStartedAt);

function go(step, { scroll = true } = {}) {
  current = step;
  form.querySelectorAll('.step[data-step]').forEach((s) => { s.hidden = s.dataset.step !== step; });
  if (steps.includes(step) && draft.step !== step) {
    draft.step = step;
    persist();
  }
  updateBar();
  if (scroll) window.scrollTo({ top: 0 });
}

function updateBar() {
  const index = steps.indexOf(current);
  const inForm = index >= 0 && editable;
  const show = (sel, on) => { $(sel).hidden = !on; };
  const onIntro = current === 'intro';
  show('.bar-start', inForm && onIntro && !started());
  show('.bar-back', inForm && index > 0);
  show('.bar-menu', inForm && (started() || !onIntro));
  show('.bar-next', inForm && index < steps.length - 1 && (started() || !onIntro));
  show('.bar-submit', inForm && index === steps.length - 1);
  $('.bar-menu-label').textContent = index > 0 ? `☰ ${index}/${sectionSteps.length}` : `☰ ${T.intro}`;
  bar.classList.toggle('bar-done', !inForm);
}

function openSections() {
  for (const btn of sectionsDialog.querySelectorAll('[data-goto]')) {
    const step = btn.dataset.goto;
    btn.classList.toggle('is-current', step === current);
    const small = btn.querySelector('.sheet-count');
    if (!small) continue;
    const c = sectionCounts(step);
    small.textContent = `${c.answered}/${c.total}`;
    btn.classList.toggle('is-complete', c.answered === c.total);
    btn.classList.toggle('is-missing', c.missing && c.answered > 0);
  }
  sectionsDialog.showModal();
}

function focusQuestion(q) {
  go(q.section, { scroll: false });
  q.el.scrollIntoView({ block: 'start' });
  const target = q.el.querySelector('input:not([type=hidden]):not([disabled]), textarea, button');
  if (target) target.focus({ preventScroll: true });
}

// -- start, geolocation, submit ----------------------------------------------------------------

function locate(timeout = 15000) {
  return new Promise((resolve) => {
    if (!navigator.geolocation) {
      resolve({ geolocation: 'unavailable', position: null });
      return;
    }
    // Chrome does not count the time the permission prompt is open; a shopper may never answer it.
    const guard = setTimeout(() => resolve({ geolocation: 'unavailable', position: null }), timeout * 2);
    navigator.geolocation.getCurrentPosition(
      (p) => {
        clearTimeout(guard);
        resolve({
          geolocation: 'granted',
          position: { latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: Math.round(p.coords.accuracy) },
        });
      },
      (err) => {
        clearTimeout(guard);
        resolve({ geolocation: err.code === 1 ? 'denied' : 'unavailable', position: null });
      },
      { enableHighAccuracy: true, timeout, maximumAge: 60000 },
    );
  });
}

function showGeo(geo) {
  const box = $('.geo-status');
  box.hidden = false;
  if (!geo) box.textContent = T.geo_asking;
  else if (geo.geolocation === 'granted') box.textContent = fmt(T.geo_granted, { m: geo.position.accuracy });
  else box.textContent = T[geo.geolocation === 'denied' ? 'geo_denied' : 'geo_unavailable'];
  box.className = `geo-status ${geo && geo.geolocation !== 'granted' ? 'notice notice-warn' : 'muted'}`;
}

async function startVisit() {
  draft.start = { started_at: now(), geolocation: null, position: null, sent: false };
  persist();
  showGeo(null);
  go(sectionSteps[0]);
  const geo = await locate();
  Object.assign(draft.start, geo);
  await persist();
  showGeo(geo);
  sync.run();
}

function validateAll() {
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

function pressSubmit() {
  const missing = validateAll();
  if (missing.length) {
    focusQuestion(missing[0]);
    return;
  }
  const { answered, total } = refreshProgress();
  const photoCount = photos.filter((p) => p.state === 'pending' || p.state === 'uploaded').length;
  $('.submit-summary', submitDialog).textContent = counted(T.summary, photoCount, { n: answered, total, photos: photoCount });
  submitDialog.showModal();
}

async function confirmSubmit() {
  submitDialog.close();
  const denied = draft.start && draft.start.geolocation === 'denied';
  const geo = denied ? { geolocation: 'denied', position: null } : await locate(10000);
  const start = draft.start || {};
  outbox = {
    visit_id: visitId,
    client_submission_id: store.uuid(),
    state: 'queued',
    queued_at: now(),
    payload: {
      ...buildAnswers(),
      started_at: start.started_at || serverStartedAt || null,
      submitted_at: now(),
      geolocation: geo.geolocation,
      position: geo.position,
    },
  };
  await store.putOutbox(outbox);
  showDone();
  sync.run();
}

function showDone() {
  go('done');
  const title = $('.done-title');
  const text = $('.done-text');
  const scoreBox = $('.done-score');
  if (outbox && outbox.state === 'sent') {
    const at = outbox.result.submitted_at || now();
    title.textContent = T.sent_title;
    text.textContent = fmt(T.sent_text, { time: clock(at) });
    const r = outbox.result;
    scoreBox.hidden = !(r.score !== undefined && r.score !== null);
    if (!scoreBox.hidden) scoreBox.textContent = fmt(T.score, { score: r.score.toFixed(1), grade: r.grade || '' });
    setStatus('sent');
  } else if (outbox && outbox.state === 'queued') {
    title.textContent = T.queued_title;
    text.textContent = T.queued_text;
  } else {
    title.textContent = T.not_editable;
    text.textContent = outbox && outbox.error === 'conflict' ? T.conflict : '';
  }
  title.focus();
}

// -- sync callbacks ------------------------------------------------------------------------------

let lastSavedAt = null;
function setStatus(kind) {
  const line = $('.bar-sync');
  const signin = $('.bar-signin');
  signin.hidden = kind !== 'signin';
  bar.dataset.sync = kind;
  if (outbox && outbox.state === 'sent') kind = 'sent';
  const texts = {
    local: T.saved_local,
    idle: draft && draft.rev > draft.synced_rev ? T.saved_local : (lastSavedAt || draft?.server_saved_at ? T.saved : ''),
    offline: T.offline,
    sending: T.sending,
    signin: T.signin,
    server_error: T.server_error,
    sent: outbox && outbox.result ? fmt(T.sent, { time: clock(outbox.result.submitted_at || now()) }) : '',
  };
  line.textContent = texts[kind] ?? '';
}

function syncContext() {
  return {
    visitId,
    apiUrl,
    csrfUrl: form.dataset.csrfUrl,
    draft: () => draft,
    photos: () => photos,
    draftDirty: () => editable && draft.rev > draft.synced_rev && draft.rev !== draft.rejected_rev
      && !(draft.start && !draft.start.geolocation),
    draftPayload: () => ({ rev: draft.rev, body: { ...buildAnswers(), client_saved_at: draft.changed_at } }),
    async draftSaved(rev, savedAt) {
      draft.synced_rev = Math.max(draft.synced_rev, rev);
      draft.server_saved_at = savedAt;
      lastSavedAt = savedAt;
      await persist();
    },
    async draftRejected(rev, problems) {
      draft.rejected_rev = rev;
      await persist();
      for (const p of problems) if (byId.has(p.question_id)) showError(byId.get(p.question_id), p.message);
    },
    async startSent() {
      draft.start.sent = true;
      await persist();
    },
    photosChanged() {
      for (const q of questions) if (q.type === 'photo') refreshQuestion(q);
    },
    async submitted(box) {
      outbox = box;
      await store.clearVisit(visitId);
      showDone();
      setStatus('sent');
    },
    async submitRejected(box) {
      outbox = box;
      editable = true;
      const problems = box.problems || [];
      let first = null;
      for (const p of problems) {
        const q = byId.get(p.question_id);
        if (!q) continue;
        showError(q, p.message);
        q.el.querySelector('.q-error').dataset.server = '1';
        first = first || q;
      }
      if (first) focusQuestion(first);
      else go(sectionSteps[sectionSteps.length - 1]);
      setStatus('idle');
      $('.bar-sync').textContent = box.message || T.rejected;
    },
    closed(kind) {
      editable = false;
      if (outbox && outbox.state !== 'sent') outbox.error = kind;
      showDone();
      $('.bar-sync').textContent = kind === 'conflict' ? T.conflict : T.not_editable;
    },
    status: setStatus,
  };
}

// -- loading -----------------------------------------------------------------------------------

async function loadFromServer() {
  let res;
  try {
    res = await fetch(apiUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch (e) {
    return;
  }
  if (res.status === 401) {
    setStatus('signin');
    return;
  }
  if (!res.ok) return;
  const fresh = !res.headers.get('X-FA-Cached');
  const data = await res.json();
  const visit = data.visit || {};
  serverStartedAt = visit.started_at || serverStartedAt;
  if (visit.return_comment) {
    const box = $('.return-box');
    if (box) {
      box.hidden = false;
      $('.return-comment', box).textContent = visit.return_comment;
    }
  }
  if (outbox && outbox.state === 'sent' && visit.status === 'returned') {
    outbox = null; // the earlier submission came back for correction: a new one will be made
  }
  if (outbox && outbox.state === 'queued' && data.submission
      && data.submission.client_submission_id === outbox.client_submission_id) {
    // The submission arrived but its answer was lost on the way back.
    Object.assign(outbox, { state: 'sent', result: { submitted_at: data.submission.submitted_at } });
    await store.putOutbox(outbox);
    await store.clearVisit(visitId);
  }
  editable = data.editable !== false;
  if (outbox && outbox.state !== 'rejected') {
    showDone();
    return;
  }
  if (!editable) {
    showDone();
    return;
  }
  mergeServerPhotos(data.photos || [], fresh);
  const serverDraft = data.draft || {};
  const localDirty = draft.rev > draft.synced_rev;
  const hasServerAnswers = serverDraft.answers && Object.keys(serverDraft.answers).length;
  if ((draft.rev === 0 && hasServerAnswers) || (fresh && !localDirty && serverDraft.saved_at
      && serverDraft.saved_at !== draft.server_saved_at)) {
    adoptServerDraft(serverDraft);
  } else {
    applyDraft();
  }
  if (current === 'intro' && started() && !draft.step) go(sectionSteps[0]);
  updateBar();
}

function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data && event.data.type === 'cached') document.documentElement.dataset.offline = '1';
  });
  navigator.serviceWorker.register(form.dataset.swUrl, { scope: form.dataset.scope })
    .then(() => navigator.serviceWorker.ready)
    .then((reg) => {
      // Ask the worker to keep this page and its data for offline use (this first load was not
      // served by it, so it has not seen them yet; later loads refresh them as they pass).
      reg.active.postMessage({ type: 'cache', urls: [location.pathname, apiUrl] });
    })
    .catch((e) => console.warn('offline mode unavailable', e));
}

function bindEvents() {
  const onControl = (event) => {
    const fs = event.target.closest('fieldset.q');
    if (!fs || !editable) return;
    const q = byId.get(fs.dataset.q);
    const t = event.target;
    if (t.classList.contains('ph-input')) {
      if (event.type === 'change') addPhoto(q, t);
      return;
    }
    if (t.name && t.name.endsWith('__comment')) {
      draft.comments[q.id] = t.value;
      if (!t.value.trim()) delete draft.comments[q.id];
      refreshQuestion(q);
      changed();
      return;
    }
    if (t.matches('[data-na]')) setDisabled(q, t.checked);
    if (event.type === 'input' && t.type === 'radio') return;
    const result = readControl(q);
    if (result.invalid) {
      if (event.type === 'change') showError(q, q.type === 'duration' ? T.bad_duration : T.bad_number);
      if (draft.answers[q.id] !== undefined) setAnswer(q, null);
      return;
    }
    if (q.el.querySelector('.q-error').dataset.server) delete q.el.querySelector('.q-error').dataset.server;
    clearError(q);
    if (result.value !== (draft.answers[q.id] ?? null)) setAnswer(q, result.value);
    if (event.type === 'change' && q.type === 'duration' && typeof result.value === 'number') {
      q.input.value = formatDuration(result.value);
      stopwatches.get(q.id).render();
    }
  };
  form.addEventListener('input', onControl);
  form.addEventListener('change', onControl);
  form.addEventListener('submit', (e) => e.preventDefault());
  form.addEventListener('click', (event) => {
    const t = event.target;
    const fs = t.closest('fieldset.q');
    if (t.classList.contains('cmt-add') && fs) {
      openedComments.add(fs.dataset.q);
      refreshQuestion(byId.get(fs.dataset.q));
      fs.querySelector('.cmt-box textarea').focus();
    } else if (t.classList.contains('q-clear') && fs) {
      const q = byId.get(fs.dataset.q);
      writeControl(q, null);
      setAnswer(q, null);
    }
  });
  $('.bar-start').addEventListener('click', startVisit);
  $('.bar-next').addEventListener('click', () => go(steps[steps.indexOf(current) + 1]));
  $('.bar-back').addEventListener('click', () => go(steps[steps.indexOf(current) - 1]));
  $('.bar-menu').addEventListener('click', openSections);
  $('.bar-submit').addEventListener('click', pressSubmit);
  sectionsDialog.addEventListener('click', (event) => {
    const target = event.target.closest('[data-goto]');
    if (target) go(target.dataset.goto);
    if (target || event.target.closest('.sheet-close') || event.target === sectionsDialog) sectionsDialog.close();
  });
  $('.submit-confirm', submitDialog).addEventListener('click', confirmSubmit);
  $('.submit-cancel', submitDialog).addEventListener('click', () => submitDialog.close());
  // A phone may kill a hidden tab without warning: make sure the last keystrokes are stored.
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') persist(); });
}

async function init() {
  registerWorker();
  draft = { ...emptyDraft(), ...((await store.getDraft(visitId)) || {}) };
  photos = await store.getPhotos(visitId);
  outbox = (await store.getOutbox(visitId)) || null;
  for (const q of questions) {
    if (q.type !== 'duration') continue;
    stopwatches.set(q.id, mountStopwatch(q, {
      timer: () => draft.timers[q.id] || null,
      save: (record) => {
        if (record) draft.timers[q.id] = record;
        else delete draft.timers[q.id];
        persist();
      },
      answer: (seconds) => {
        writeControl(q, seconds);
        clearError(q);
        setAnswer(q, seconds);
      },
      currentValue: () => draft.answers[q.id] ?? null,
    }));
  }
  bindEvents();
  applyDraft();
  if (draft.start && draft.start.geolocation) showGeo(draft.start);
  if (outbox && outbox.state !== 'rejected') showDone();
  else if (!editable) go(form.querySelector('[data-step=closed]') ? 'closed' : 'done');
  else go(draft.step && steps.includes(draft.step) ? draft.step : (started() ? sectionSteps[0] : 'intro'), { scroll: false });
  sync = createSync(syncContext());
  setStatus(draft.rev > draft.synced_rev ? 'local' : 'idle');
  document.documentElement.dataset.ready = '1';
  window.faReadyAt = performance.now();
  await loadFromServer();
  await sync.run();
}

init();
