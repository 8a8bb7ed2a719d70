// Data elements (数据元, GB/T 19488): the platform's shared definitions that
// resource items bind to for their type, checks, sensitivity and masking.
// Everyone signed in reads them, searched by id or name (?q= in the
// address); the system admin and the data bureau's stewards and org admins
// add new ones. An element is never edited once created, so the form says so
// before it is sent.
import { api } from '../api.js';
import { h, field, select, link, emptyState, problemBox, notice, table, when, fill, submitting } from '../dom.js';
import { t } from '../i18n.js';
import { can } from '../roles.js';

const TYPES = ['C', 'N', 'Y', 'D', 'T', 'L', 'M', 'G', 'B', 'I', 'F'];
const SENSITIVITIES = ['L1', 'L2', 'L3', 'L4'];
const MASKS = ['none', 'id_card', 'phone', 'name', 'address', 'bank_card', 'full'];

function createForm(ctx) {
  const status = h('div', { 'aria-live': 'polite' });
  const id = h('input', { name: 'id', required: true, maxlength: 64, pattern: '[a-z][a-z0-9_]{1,63}', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const name = h('input', { name: 'name', required: true, maxlength: 256 });
  const definition = h('textarea', { name: 'definition', rows: 2, maxlength: 2000 });
  const type = select('type', TYPES.map((x) => [x, `${x} · ${t(`element_type_${x}`)}`]), 'C');
  const length = h('input', { name: 'length', type: 'number', min: 0, max: 1000000, step: 1, value: '0', inputmode: 'numeric' });
  const validator = h('input', { name: 'validator', maxlength: 1024, autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const sensitivity = select('sensitivity', SENSITIVITIES.map((x) => [x, t(`sensitivity_${x}`)]), 'L1');
  const mask = select('mask', MASKS.map((x) => [x, t(`mask_${x}`)]), 'none');
  const source = h('input', { name: 'source', maxlength: 200 });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('element_create'));
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, t('element_create')),
    h('p', { class: 'hint' }, t('element_create_intro')),
    h('div', { class: 'grid' },
      field(t('element_id'), id, t('element_id_hint')), field(t('col_name'), name),
      field(t('element_type'), type), field(t('element_length'), length, t('element_length_hint')),
      field(t('element_validator'), validator, t('element_validator_hint')),
      field(t('col_sensitivity'), sensitivity), field(t('col_mask'), mask, t('element_mask_hint')),
      field(t('element_source'), source, t('element_source_hint'))),
    field(t('element_definition'), definition),
    status, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    const missing = [[t('element_id'), id], [t('col_name'), name]].filter(([, el]) => !el.value.trim()).map(([label]) => label);
    if (missing.length) {
      fill(status, problemBox({ problem: { title: t('form_incomplete'), detail: t('form_missing', { fields: missing.join(t('list_sep')) }) } }));
      return;
    }
    const body = { id: id.value.trim(), name: name.value.trim(), type: type.value, sensitivity: sensitivity.value, mask: mask.value };
    const n = Number(length.value || '0');
    if (!Number.isInteger(n) || n < 0 || n > 1000000) {
      fill(status, problemBox({ problem: { title: t('element_length_bad'), detail: t('element_length_hint') } }));
      length.focus();
      return;
    }
    body.length = n;
    if (definition.value.trim()) body.definition = definition.value.trim();
    if (validator.value.trim()) body.validator = validator.value.trim();
    if (source.value.trim()) body.source = source.value.trim();
    await submitting(submit, status, async () => {
      const made = await api('POST', '/api/v1/elements', { body });
      ctx.go(`/elements/${encodeURIComponent(made.id)}?created=1`);
    });
  });
  return form;
}

export async function elements(ctx) {
  const { query, me } = ctx;
  const q = h('input', { type: 'search', name: 'q', value: query.q || '', maxlength: 100, placeholder: t('elements_q_placeholder') });
  const search = h('form', { class: 'filters', role: 'search' },
    field(t('catalog_q'), q, t('elements_q_hint')),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', class: 'primary' }, t('search')),
      h('button', { type: 'reset', onclick: () => ctx.go('/elements') }, t('clear'))));
  search.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = q.value.trim();
    ctx.go(v ? `/elements?q=${encodeURIComponent(v)}` : '/elements');
  });
  const page = await api('GET', '/api/v1/elements', { query: { q: query.q, limit: 500 } });
  const manage = can.manageElements(me);
  const list = page.items.length
    ? table(t('elements_title'), [t('element_id'), t('col_name'), t('element_type'), t('element_validator'), t('col_sensitivity'), t('col_mask')],
      page.items.map((e) => [link(`/elements/${encodeURIComponent(e.id)}`, e.id, { class: 'mono' }), e.name,
        t(`element_type_${e.type}`), e.validator ? h('span', { class: 'mono' }, e.validator) : '—',
        t(`sensitivity_${e.sensitivity}`), t(`mask_${e.mask}`)]))
    : emptyState(query.q ? t('elements_empty_filtered') : t('elements_empty'),
      manage ? t('elements_empty_next_manage') : t('elements_empty_next'));
  return h('section', {},
    h('h1', {}, t('elements_title')),
    h('p', { class: 'muted' }, t('elements_intro')),
    search,
    page.next_cursor ? h('p', { class: 'muted' }, t('elements_more')) : null,
    list,
    manage ? createForm(ctx) : null);
}

export async function element(ctx) {
  const e = await api('GET', `/api/v1/elements/${encodeURIComponent(ctx.params.id)}`);
  const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value === null || value === undefined || value === '' ? '—' : value)];
  return h('section', {},
    h('p', { class: 'crumbs' }, link('/elements', t('nav_elements'))),
    h('h1', {}, t('element_heading', { name: e.name })),
    ctx.query.created ? notice(t('element_created', { id: e.id }), 'ok') : null,
    h('dl', { class: 'facts card' },
      fact(t('element_id'), h('span', { class: 'mono' }, e.id)),
      fact(t('element_definition'), e.definition),
      fact(t('element_type'), `${e.type} · ${t(`element_type_${e.type}`)}`),
      fact(t('element_length'), e.length ? String(e.length) : t('unlimited')),
      fact(t('element_validator'), e.validator ? h('span', { class: 'mono' }, e.validator) : null),
      fact(t('col_sensitivity'), t(`sensitivity_${e.sensitivity}`)),
      fact(t('col_mask'), t(`mask_${e.mask}`)),
      fact(t('element_source'), e.source),
      fact(t('element_created_at'), when(e.created_at, ctx.lang))),
    h('p', { class: 'small muted' }, t('element_fixed')));
}
