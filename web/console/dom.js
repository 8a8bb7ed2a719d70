// DOM helpers of the console. Pages build elements with h(); text is always
// set as text (never parsed as HTML), so data from the API cannot become markup.
import { t } from './i18n.js';

/**
 * h('button', {class: 'primary', onclick: fn, 'aria-label': '…'}, 'text', child, [more])
 * Attributes: class, text, on<event> (a function), boolean values set or
 * remove the attribute, null/undefined skip it. Children: nodes, strings,
 * numbers, arrays; null and false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'text') el.textContent = value;
    else if (name === 'value') el.value = value;
    else if (name === 'checked' || name === 'selected') el[name] = Boolean(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of el. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let idSerial = 0;
/** A unique id for label/control pairs. */
export function uid(prefix = 'f') {
  idSerial += 1;
  return `${prefix}-${idSerial}`;
}

/** A labelled control: field(label, h('input', {...}), hint). The control gets an id and aria-describedby. */
export function field(label, control, hint) {
  const id = control.id || uid();
  control.id = id;
  const parts = [h('label', { for: id }, label), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('p', { class: 'hint', id: hintId }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

/** A <select> of [value, label] pairs; the first may be ['', t('any')]. */
export function select(name, options, value) {
  return h('select', { name }, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

/** What an empty list says: what it means and what to do next (a node or text). */
export function emptyState(message, next) {
  return h('div', { class: 'empty', role: 'status' }, h('p', {}, message), next ? h('p', {}, next) : null);
}

/** Hints per problem code: how to fix what went wrong. */
const FIX = {
  unauthenticated: 'fix_signin', invalid_token: 'fix_signin', csrf_failed: 'fix_reload',
  invalid_credentials: 'fix_credentials', account_locked: 'fix_locked', totp_required: 'fix_totp',
  password_change_required: 'fix_password_change', forbidden: 'fix_forbidden', not_found: 'fix_not_found',
  validation_failed: 'fix_validation', invalid_request: 'fix_validation', rate_limited: 'fix_rate',
  conflict: 'fix_conflict', already_decided: 'fix_conflict', body_too_large: 'fix_too_large',
  unavailable: 'fix_retry', busy: 'fix_retry', internal: 'fix_retry', network: 'fix_network',
  weak_password: 'fix_weak_password', no_grant: 'fix_no_grant',
};

/** Statuses whose title the console says in the reader's language (the server's are English). */
const TITLED = new Set([400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 502, 503, 504]);

/** An error box for an ApiError (or any Error): the problem's title and detail, and how to fix it. */
export function problemBox(err) {
  const p = err && err.problem ? err.problem : { title: t('error'), detail: String(err && err.message || err) };
  const fix = FIX[p.code] || (p.status >= 500 ? 'fix_retry' : p.status === 422 ? 'fix_validation' : null);
  const title = TITLED.has(p.status) ? t(`status_${p.status}`) : p.title || t('error');
  return h('div', { class: 'problem', role: 'alert' },
    h('p', { class: 'problem-title' }, `${title}${p.status ? ` (${p.status})` : ''}`),
    p.detail ? h('p', {}, p.detail) : null,
    fix ? h('p', { class: 'fix' }, t(fix)) : null,
    p.request_id ? h('p', { class: 'small muted' }, t('request_id', { id: p.request_id })) : null);
}

/** Runs a form's work with its button disabled; a failure is shown in status as a problem box. */
export async function submitting(submit, status, work) {
  submit.disabled = true;
  try {
    await work();
  } catch (e) {
    fill(status, problemBox(e));
  } finally {
    submit.disabled = false;
  }
}

/** A status line that screen readers announce. */
export function notice(message, kind = 'ok') {
  return h('div', { class: `notice ${kind}`, role: 'status' }, message);
}

/** Formats an RFC 3339 time in the current language. */
export function when(value, lang) {
  if (!value) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** A table with a caption, header cells with scope, and one row per item. */
export function table(caption, columns, rows) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c))))))));
}

/** A link inside the console (hash route). */
export function link(route, text, attrs = {}) {
  return h('a', { href: `#${route}`, ...attrs }, text);
}

/** A button that disables itself while its async action runs. */
export function actionButton(label, action, attrs = {}) {
  const b = h('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try { await action(); } finally { b.disabled = false; }
  });
  return b;
}
