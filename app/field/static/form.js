// The questions of the server-rendered form: reading and writing their controls, show_if,
// fractions (for comment: required_on_fail) and the checks a complete visit must pass.
// Answer values follow the checklist contract: "yes"/"no", integers, option values, seconds, "na".

export const NA = 'na';

/** Return one object per question fieldset, in the order they are asked. */
export function readQuestions(form) {
  return [...form.querySelectorAll('fieldset.q')].map((el) => {
    const d = el.dataset;
    const num = (v) => (v === undefined || v === '' ? null : Number(v));
    return {
      id: d.q,
      el,
      type: d.type,
      required: d.required === '1',
      comment: d.comment,
      showIf: d.showIf ? JSON.parse(d.showIf) : null,
      expected: d.expected,
      min: num(d.min),
      max: num(d.max),
      target: num(d.target),
      limit: num(d.limit),
      minPhotos: num(d.minPhotos) || 0,
      maxPhotos: num(d.maxPhotos) || 5,
      section: el.closest('[data-step]').dataset.step,
      na: el.querySelector('[data-na]'),
      input: el.querySelector(`[name="${CSS.escape(d.q)}"]:not([type=radio])`),
      commentBox: el.querySelector('textarea[name$="__comment"]'),
    };
  });
}

/** Parse "m:ss", "h:mm:ss", plain seconds ("45") or microwave-style digits ("230" = 2:30). */
export function parseDuration(text) {
  const t = String(text).trim().replace(/[.,]/g, ':');
  if (!t) return null;
  let m = /^(?:(\d+):)?(\d+):([0-5]?\d)$/.exec(t);
  if (m) return (Number(m[1] || 0) * 3600) + Number(m[2]) * 60 + Number(m[3]);
  m = /^(\d{1,6})$/.exec(t);
  if (!m) return undefined;
  if (t.length <= 2) return Number(t);
  const secs = Number(t.slice(-2));
  if (secs > 59) return undefined;
  return Number(t.slice(0, -2)) * 60 + secs;
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/**
 * Read a question's answer from its controls.
 * Returns {value} (null when unanswered) or {invalid: true} for text that is not a number or time.
 */
export function readControl(q) {
  if (q.na && q.na.checked) return { value: NA };
  switch (q.type) {
    case 'yes_no':
    case 'choice':
    case 'scale': {
      const checked = q.el.querySelector(`input[type=radio][name="${CSS.escape(q.id)}"]:checked`);
      if (!checked) return { value: null };
      if (checked.value === NA) return { value: NA };
      return { value: q.type === 'scale' ? Number(checked.value) : checked.value };
    }
    case 'number': {
      if (q.input.validity.badInput) return { invalid: true };
      if (q.input.value.trim() === '') return { value: null };
      const v = Number(q.input.value);
      return Number.isFinite(v) ? { value: v } : { invalid: true };
    }
    case 'duration': {
      const v = parseDuration(q.input.value);
      return v === undefined ? { invalid: true } : { value: v };
    }
    case 'text':
      return { value: q.input.value.trim() ? q.input.value : null };
    default:
      return { value: null }; // photo answers come from the photo records
  }
}

/** Put an answer value into a question's controls. */
export function writeControl(q, value) {
  if (q.na) {
    q.na.checked = value === NA;
    setDisabled(q, value === NA);
  }
  switch (q.type) {
    case 'yes_no':
    case 'choice':
    case 'scale':
      q.el.querySelectorAll(`input[type=radio][name="${CSS.escape(q.id)}"]`).forEach((r) => {
        r.checked = value !== null && value !== undefined && r.value === String(value);
      });
      break;
    case 'number':
    case 'text':
      q.input.value = value === null || value === undefined || value === NA ? '' : value;
      break;
    case 'duration':
      q.input.value = typeof value === 'number' ? formatDuration(value) : '';
      break;
    default:
  }
}

export function setDisabled(q, disabled) {
  q.el.querySelectorAll('input:not([data-na]), textarea:not([name$="__comment"]), .sw button, .ph-add')
    .forEach((c) => {
      if (c.classList.contains('ph-add')) c.classList.toggle('is-disabled', disabled);
      else c.disabled = disabled;
    });
}

/** Return the share of points an answer earns (for required_on_fail), or null when unscored. */
export function fraction(q, value) {
  if (value === null || value === undefined || value === NA) return null;
  switch (q.type) {
    case 'yes_no': return value === q.expected ? 1 : 0;
    case 'scale': return (value - q.min) / (q.max - q.min);
    case 'choice': {
      const r = [...q.el.querySelectorAll('input[type=radio]')].find((x) => x.value === String(value));
      return r && r.dataset.score !== undefined ? Number(r.dataset.score) : null;
    }
    case 'number':
    case 'duration':
      if (q.target === null) return null;
      if (value <= q.target) return 1;
      if (value >= q.limit) return 0;
      return (q.limit - value) / (q.limit - q.target);
    default: return null;
  }
}

/** Return true when the comment box must be filled for this answer. */
export function commentRequired(q, value) {
  if (value === null || value === undefined) return false;
  if (q.comment === 'required') return true;
  if (q.comment === 'required_on_fail') {
    const f = fraction(q, value);
    return f !== null && f < 1;
  }
  return false;
}

/** Return the set of question ids hidden by show_if, given the answers (in question order). */
export function hiddenQuestions(questions, answerOf) {
  const hidden = new Set();
  for (const q of questions) {
    if (!q.showIf) continue;
    const parent = q.showIf.question;
    const value = hidden.has(parent) ? null : answerOf(parent);
    const wanted = 'in' in q.showIf ? q.showIf.in : [q.showIf.equals];
    if (value === null || value === undefined || !wanted.some((w) => String(w) === String(value))) hidden.add(q.id);
  }
  return hidden;
}

/** Return why a visible question stops a complete visit ({kind, n}), or null. */
export function problemOf(q, value, comment, photoCount) {
  if (q.type === 'photo' && value !== NA) {
    if (photoCount === 0) return q.required ? { kind: 'required' } : null;
    if (photoCount < q.minPhotos) return { kind: 'photos_needed', n: q.minPhotos };
  } else if (value === null || value === undefined) {
    return q.required ? { kind: 'required' } : null;
  }
  if (commentRequired(q, value) && !(comment || '').trim()) return { kind: 'comment_required' };
  return null;
}
