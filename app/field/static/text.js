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
export const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
