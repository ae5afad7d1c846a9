// The page's texts (fill.html renders them in the page language) and how to fill them in.

export const T = JSON.parse(document.getElementById('fill-text').textContent);
export const fmt = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));
const PLURAL_RULES = new Intl.PluralRules(document.documentElement.lang || 'en');
const PLURAL_SAMPLES = [1, 2, 5]; // the counts fill.html rendered each counted text for
// A counted text is [form for 1, for 2, for 5]: use the form whose count has the same plural category.
function plural(forms, count, vars) {
  const category = PLURAL_RULES.select(count);
  const index = PLURAL_SAMPLES.findIndex((sample) => PLURAL_RULES.select(sample) === category);
  return fmt(forms[index < 0 ? forms.length - 1 : index], vars);
}
export const counted = (text, count, vars) => (Array.isArray(text) ? plural(text, count, vars) : fmt(text, vars));
// Times are the store's wall-clock time (its IANA zone), whatever zone the phone is set to, with the zone named.
const where = document.getElementById('fill')?.dataset || {};
export function clock(iso) {
  const options = { hour: '2-digit', minute: '2-digit' };
  try {
    const time = new Date(iso).toLocaleTimeString([], { ...options, timeZone: where.timezone || undefined });
    return where.zoneLabel ? `${time} (${where.zoneLabel})` : time;
  } catch (e) { // a zone this browser does not know: the phone's own clock
    return new Date(iso).toLocaleTimeString([], options);
  }
}
// The date today in the store's zone, "2026-12-03", or null when the browser does not know the zone.
export function storeToday() {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone: where.timezone, year: 'numeric', month: '2-digit',
      day: '2-digit' }).formatToParts(new Date());
    const part = (type) => parts.find((p) => p.type === type).value;
    return `${part('year')}-${part('month')}-${part('day')}`;
  } catch (e) {
    return null;
  }
}
