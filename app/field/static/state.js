// What the modules of the phone form share: the page's elements, the visit's questions and steps,
// and the state of the visit being filled. ES module bindings are live, so the other modules read
// `draft`, `outbox`, `editable`... directly; they change them only through the setters below.

import { readQuestions } from './form.js';
import * as store from './store.js';

export const form = document.getElementById('fill');
export const $ = (sel, root = form) => root.querySelector(sel);
export const visitId = Number(form.dataset.visitId);
export const apiUrl = form.dataset.api;
export const questions = readQuestions(form);
export const byId = new Map(questions.map((q) => [q.id, q]));
export const sectionSteps = [...form.querySelectorAll('.fill-section')].map((s) => s.dataset.step);
export const steps = ['intro', ...sectionSteps];
export const bar = $('.bar');

export let draft = null;
export let photos = [];
export let outbox = null;
export let hidden = new Set();
export let editable = form.dataset.editable === '1';
export let visitStatus = form.dataset.status; // as the server last said: planned, in_progress, submitted...
export let serverStartedAt = form.dataset.startedAt || null;
export let sync = null;
export const stopwatches = new Map();

export const setDraft = (value) => { draft = value; };
export const setPhotos = (value) => { photos = value; };
export const setOutbox = (value) => { outbox = value; };
export const setHidden = (value) => { hidden = value; };
export const setEditable = (value) => { editable = value; };
export const setVisitStatus = (value) => { visitStatus = value; };
export const setServerStartedAt = (value) => { serverStartedAt = value; };
export const setSync = (value) => { sync = value; };

export const now = () => new Date().toISOString();
export const started = () => Boolean(draft.start || serverStartedAt);

export function emptyDraft() {
  return {
    visit_id: visitId, answers: {}, comments: {}, times: {}, timers: {}, rev: 0, synced_rev: 0,
    rejected_rev: null, step: null, start: null, server_saved_at: null, changed_at: null,
  };
}

// -- saving ----------------------------------------------------------------------------------

let saving = Promise.resolve();
export function persist() {
  const copy = structuredClone(draft);
  saving = saving.then(() => store.putDraft(copy)).catch((e) => console.error('saving on the phone failed', e));
  return saving;
}
