// The page's words in English and Korean, from one catalogue (i18n.json, which the server reads too).
// The language: the page's switch (?lang= in the address), else what the server chose (--lang, or
// the browser's Accept-Language), else navigator.languages, else English.
export const LANGS = ['en', 'ko'];
const catalogue = await (await fetch('/static/i18n.json')).json();
const listeners = [];

function initial() {
  const asked = new URLSearchParams(location.search).get('lang');
  if (LANGS.includes(asked)) return asked;
  const chosen = document.documentElement.dataset.chosen;
  if (LANGS.includes(chosen)) return chosen;
  for (const l of navigator.languages || [navigator.language || '']) {
    const base = String(l).toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

export let lang = initial();

// One message: t('count', { n: 3, total: 10 }). An unknown key is a bug: say so, visibly.
export function t(key, values = {}) {
  const entry = catalogue[key];
  if (!entry) { console.error(`i18n: no message ${key}`); return key; }
  return (entry[lang] || entry.en).replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
}

export function has(key) { return key in catalogue; }

// A key's text when the catalogue has it, else the fallback (drop reasons, event names we may not know).
export function tOr(key, fallback, values = {}) { return has(key) ? t(key, values) : fallback; }

// A message from the server: {key, args} in our language, else its English text as it came.
export function tMsg(msg) { return msg.key && has(msg.key) ? t(msg.key, msg.args || {}) : msg.message; }

// Elements name their words: data-i18n (text), data-i18n-title, -placeholder, -aria (aria-label).
export function applyDom(root = document) {
  document.documentElement.lang = lang;
  for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll('[data-i18n-title]')) e.title = t(e.dataset.i18nTitle);
  for (const e of root.querySelectorAll('[data-i18n-placeholder]')) e.placeholder = t(e.dataset.i18nPlaceholder);
  for (const e of root.querySelectorAll('[data-i18n-aria]')) e.setAttribute('aria-label', t(e.dataset.i18nAria));
  document.title = t('page.title');
}

export function onLang(fn) { listeners.push(fn); }

export function setLang(l) {
  if (!LANGS.includes(l) || l === lang) return;
  lang = l;
  const url = new URL(location.href);
  url.searchParams.set('lang', l);
  history.replaceState(null, '', url);  // a reload keeps the choice
  applyDom();
  for (const fn of listeners) fn(l);
}

// What happened, in the page's language: protocol names stay, the words around them do not.
export function reasonWords(r) { return tOr(`reason.${r}`, r); }
export function eventWords(e) {
  if (e.event === 'drop') return t('row.drop', { reason: e.reason ? reasonWords(e.reason) : '' });
  return `${tOr(`layer.${e.layer}`, e.layer)} ${tOr(`event.${e.event}`, e.event)}`;
}

// A layer's name as the detail view shows it ("quoted IPv4" for the header an ICMP error quotes).
export function layerWords(name) {
  return name.startsWith('quoted ') ? t('detail.quoted', { name: name.slice(7) }) : name;
}
