// Stopwatch of a duration question. Time is kept as timestamps in the draft (not as ticks),
// so it keeps running while the phone is locked or the page is reloaded.

import { formatDuration } from './form.js';

/**
 * Wire the stopwatch of duration question `q`.
 * `timer()` returns the saved {since, base} record (since: epoch ms while running, base: seconds),
 * `save(record)` stores it, `answer(seconds|null)` sets the question's answer.
 */
export function mountStopwatch(q, { timer, save, answer, currentValue }) {
  const box = q.el.querySelector('.sw');
  const display = box.querySelector('.sw-time');
  const toggle = box.querySelector('.sw-toggle');
  const reset = box.querySelector('.sw-reset');
  let ticking = null;

  const elapsed = () => {
    const t = timer();
    if (!t) return null;
    return t.base + (t.since ? (Date.now() - t.since) / 1000 : 0);
  };

  function render() {
    const t = timer();
    const running = Boolean(t && t.since);
    const value = running ? elapsed() : currentValue();
    display.textContent = formatDuration(typeof value === 'number' ? value : 0);
    box.classList.toggle('is-running', running);
    toggle.textContent = running ? toggle.dataset.stop : toggle.dataset.start;
    toggle.setAttribute('aria-pressed', String(running));
    if (running && !ticking) ticking = setInterval(render, 250);
    if (!running && ticking) { clearInterval(ticking); ticking = null; }
  }

  toggle.addEventListener('click', () => {
    const t = timer();
    if (t && t.since) {
      const seconds = Math.round(elapsed());
      save({ since: null, base: seconds });
      answer(seconds);
    } else {
      // Continue from the answer already there (typed or timed), as a paused stopwatch would.
      const current = currentValue();
      save({ since: Date.now(), base: typeof current === 'number' ? current : 0 });
    }
    render();
  });
  reset.addEventListener('click', () => {
    save(null);
    answer(null);
    render();
  });
  document.addEventListener('visibilitychange', render);
  return { render };
}
