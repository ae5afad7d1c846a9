// Steps and the bottom bar: which step shows, the bar's buttons and the sections sheet.

import { refreshProgress, sectionCounts } from './answers.js';
import {
  $, bar, draft, editable, form, outbox, persist, sectionSteps, started, steps, visitStatus,
} from './state.js';
import { T } from './text.js';

const sectionsDialog = document.getElementById('sections-dialog');
export let current = null;

export function go(step, { scroll = true } = {}) {
  current = step;
  form.querySelectorAll('.step[data-step]').forEach((s) => { s.hidden = s.dataset.step !== step; });
  if (steps.includes(step) && draft.step !== step) {
    draft.step = step;
    persist();
  }
  updateBar();
  if (scroll) window.scrollTo({ top: 0 });
}

export function updateBar() {
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
  if (inForm) refreshProgress();
  else showState();
}

// Out of the form, "0 of 16 answered" would be wrong: a submitted visit opened on another phone (or after the
// phone's copy was cleared) has no answers here. The bar says what became of the visit instead.
const OPEN_STATES = ['planned', 'in_progress', 'returned'];
function showState() {
  // An open state read before the visit closed (submitted from another tab) is stale: the sync part says why.
  let text = editable || !OPEN_STATES.includes(visitStatus) ? T.statuses[visitStatus] || '' : '';
  if (outbox && outbox.state === 'sent') text = T.statuses.submitted;
  else if (outbox && outbox.state === 'queued') text = ''; // the sync part says it: waiting, sending
  $('.bar-count').textContent = text;
  $('.bar-progress span').style.width = '100%';
}

export function openSections() {
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

export function focusQuestion(q) {
  go(q.section, { scroll: false });
  q.el.scrollIntoView({ block: 'start' });
  const target = q.el.querySelector('input:not([type=hidden]):not([disabled]), textarea, button');
  if (target) target.focus({ preventScroll: true });
}

/** Wire the bar's back, next and sections buttons and the sections sheet. */
export function bindNav() {
  $('.bar-next').addEventListener('click', () => go(steps[steps.indexOf(current) + 1]));
  $('.bar-back').addEventListener('click', () => go(steps[steps.indexOf(current) - 1]));
  $('.bar-menu').addEventListener('click', openSections);
  sectionsDialog.addEventListener('click', (event) => {
    const target = event.target.closest('[data-goto]');
    if (target) go(target.dataset.goto);
    if (target || event.target.closest('.sheet-close') || event.target === sectionsDialog) sectionsDialog.close();
  });
}
