// The phone form of a visit: one section per screen, answers saved on the phone as the shopper
// goes (IndexedDB), synced to the server whenever there is a network, submitted through an outbox.

import {
  addPhoto, adoptServerDraft, applyDraft, buildAnswers, changed, clearError, mergeServerPhotos, openedComments,
  refreshProgress, refreshQuestion, setAnswer, showError, validateAll,
} from './answers.js';
import { formatDuration, readControl, setDisabled, writeControl } from './form.js';
import { locate, showGeo } from './geo.js';
import { bindNav, current, focusQuestion, go, updateBar } from './nav.js';
import {
  $, apiUrl, byId, draft, editable, emptyDraft, form, now, outbox, persist, photos, questions, sectionSteps,
  serverStartedAt, setDraft, setEditable, setOutbox, setPhotos, setServerStartedAt, setSync, setVisitStatus,
  started, steps, stopwatches, sync, visitId,
} from './state.js';
import { noteSaved, setStatus } from './status.js';
import { mountStopwatch } from './stopwatch.js';
import * as store from './store.js';
import { createSync } from './sync.js';
import { T, clock, counted, fmt, storeToday } from './text.js';

const submitDialog = document.getElementById('submit-dialog');

// -- start, submit ------------------------------------------------------------------------------

// -- the window: warn (never block) before starting outside it, on the store's calendar ----------

const days = (later, earlier) => Math.round((Date.parse(later) - Date.parse(earlier)) / 86400000);

function showWindowNotice() {
  const box = $('.window-warning');
  const today = storeToday();
  if (!box || !today) return; // without the zone, the server's notice stands
  const { windowStart, windowEnd } = form.dataset;
  let text = '';
  if (!started() && editable && today < windowStart) {
    const n = days(windowStart, today);
    text = counted(T.window_early, n, { n });
  } else if (!started() && editable && today > windowEnd) {
    const n = days(today, windowEnd);
    text = counted(T.window_late, n, { n });
  }
  box.textContent = text;
  box.hidden = !text;
}

async function startVisit() {
  draft.start = { started_at: now(), geolocation: null, position: null, sent: false };
  persist();
  showWindowNotice();
  showGeo(null);
  go(sectionSteps[0]);
  const geo = await locate();
  Object.assign(draft.start, geo);
  await persist();
  showGeo(geo);
  sync.run();
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
  setOutbox({
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
  });
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
    // The server stores the checklist's label; a default band's label is shown in the reader's language.
    const grade = (r.grade && T.grades[r.grade]) || r.grade || '';
    if (!scoreBox.hidden) scoreBox.textContent = fmt(T.score, { score: r.score.toFixed(1), grade });
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
      noteSaved(savedAt);
      await persist();
    },
    async draftRejected(rev, problems, message) {
      // Refused for good (a 4xx): this version of the draft is not sent again; the answers stay here.
      draft.rejected_rev = rev;
      await persist();
      const shown = problems.filter((p) => byId.has(p.question_id));
      for (const p of shown) showError(byId.get(p.question_id), p.message);
      if (!shown.length && message) $('.bar-sync').textContent = message;
    },
    async startSent() {
      draft.start.sent = true;
      await persist();
    },
    photosChanged() {
      for (const q of questions) if (q.type === 'photo') refreshQuestion(q);
    },
    async submitted(box) {
      setOutbox(box);
      await store.clearVisit(visitId);
      showDone();
      setStatus('sent');
    },
    async submitRejected(box) {
      setOutbox(box);
      setEditable(true);
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
      setEditable(false);
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
  setServerStartedAt(visit.started_at || serverStartedAt);
  if (visit.return_comment) {
    const box = $('.return-box');
    if (box) {
      box.hidden = false;
      $('.return-comment', box).textContent = visit.return_comment;
    }
  }
  if (outbox && outbox.state === 'sent' && visit.status === 'returned') {
    setOutbox(null); // the earlier submission came back for correction: a new one will be made
  }
  if (outbox && outbox.state === 'queued' && data.submission
      && data.submission.client_submission_id === outbox.client_submission_id) {
    // The submission arrived but its answer was lost on the way back.
    Object.assign(outbox, { state: 'sent', result: { submitted_at: data.submission.submitted_at } });
    await store.putOutbox(outbox);
    await store.clearVisit(visitId);
  }
  if (visit.status) setVisitStatus(visit.status);
  setEditable(data.editable !== false);
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
    } else if (t.closest('[data-goto-q]')) {
      const q = byId.get(t.closest('[data-goto-q]').dataset.gotoQ);
      if (q) focusQuestion(q);
    } else if (t.classList.contains('q-clear') && fs) {
      const q = byId.get(fs.dataset.q);
      writeControl(q, null);
      setAnswer(q, null);
    }
  });
  bindNav();
  $('.bar-start').addEventListener('click', startVisit);
  $('.bar-submit').addEventListener('click', pressSubmit);
  $('.submit-confirm', submitDialog).addEventListener('click', confirmSubmit);
  $('.submit-cancel', submitDialog).addEventListener('click', () => submitDialog.close());
  // A phone may kill a hidden tab without warning: make sure the last keystrokes are stored.
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') persist(); });
}

// A returned visit opens once at the first question the reviewer marked, whatever step the phone last showed:
// that is what the shopper came back to fix. Afterwards the shopper's own place wins again.
function openAtFirstMark() {
  const { firstStep, firstQuestion, returnKey } = form.dataset;
  if (!returnKey || !firstStep || !steps.includes(firstStep) || draft.return_opened === returnKey) return false;
  draft.return_opened = returnKey;
  go(firstStep);
  // The return comment above the step stays in view when the question is near the top too; otherwise the
  // question is scrolled to. Never focused: that would open the phone's keyboard over the reviewer's note.
  const q = byId.get(firstQuestion);
  if (q && q.el.getBoundingClientRect().top > window.innerHeight * 0.5) q.el.scrollIntoView({ block: 'start' });
  persist();
  return true;
}

async function init() {
  registerWorker();
  setDraft({ ...emptyDraft(), ...((await store.getDraft(visitId)) || {}) });
  setPhotos(await store.getPhotos(visitId));
  setOutbox((await store.getOutbox(visitId)) || null);
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
  showWindowNotice();
  if (outbox && outbox.state !== 'rejected') showDone();
  else if (!editable) go(form.querySelector('[data-step=closed]') ? 'closed' : 'done');
  else if (!openAtFirstMark()) {
    go(draft.step && steps.includes(draft.step) ? draft.step : (started() ? sectionSteps[0] : 'intro'), { scroll: false });
  }
  setSync(createSync(syncContext()));
  setStatus(draft.rev > draft.synced_rev ? 'local' : 'idle');
  document.documentElement.dataset.ready = '1';
  window.faReadyAt = performance.now();
  await loadFromServer();
  await sync.run();
}

init();
