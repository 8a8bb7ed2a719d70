// A resource: its description and items; for the provider's stewards, the
// editor (create and change a draft), publishing, retiring and the way to
// the record import; for other departments' stewards, the way to ask for it.
import { api, listAll } from '../api.js';
import { h, field, select, link, problemBox, notice, table, when, fill, actionButton, submitting } from '../dom.js';
import { t } from '../i18n.js';
import { can } from '../roles.js';
import { orgs, statusBadge, SHARE_TYPES, CATEGORIES, FORMATS } from './catalog.js';

const METHODS = ['api', 'file', 'subscription'];
const OPEN_TYPES = ['open', 'conditional', 'closed'];
const CYCLES = ['realtime', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly'];
const SENSITIVITY = ['L1', 'L2', 'L3', 'L4'];
const MASKS = ['none', 'id_card', 'phone', 'name', 'address', 'bank_card', 'full'];

const resourcePath = (code) => `/api/v1/resources/${encodeURIComponent(code)}`;

export async function detail(ctx) {
  const { me, params } = ctx;
  const [res, names] = await Promise.all([api('GET', resourcePath(params.code)), orgs()]);
  const status = h('div', { 'aria-live': 'polite' });
  const actions = [];
  const manage = can.manageResource(me, res);
  if (manage && res.status === 'draft') {
    actions.push(link(`/resources/${encodeURIComponent(res.code)}/edit`, t('edit'), { class: 'button' }));
    actions.push(actionButton(t('publish'), async () => {
      try {
        await api('POST', `${resourcePath(res.code)}/publish`);
        ctx.reload();
      } catch (e) { fill(status, problemBox(e)); }
    }, { class: 'primary', id: 'publish' }));
  }
  if (manage && res.status === 'published') {
    actions.push(actionButton(t('retire'), async () => {
      if (!window.confirm(t('retire_confirm'))) return;
      try {
        await api('POST', `${resourcePath(res.code)}/retire`);
        ctx.reload();
      } catch (e) { fill(status, problemBox(e)); }
    }));
  }
  if (can.importRecords(me, res)) {
    actions.push(link(`/resources/${encodeURIComponent(res.code)}/import`, t('import_records'), { class: 'button' }));
  }
  if (can.lookupRecords(me, res)) {
    actions.push(link(`/resources/${encodeURIComponent(res.code)}/records`, t('lookup_records'), { class: 'button' }));
  }
  if (can.requestShare(me, res)) {
    actions.push(link(`/resources/${encodeURIComponent(res.code)}/request`, t('request_share'), { class: 'button primary' }));
  }
  const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value ?? '—')];
  const quality = await api('GET', `${resourcePath(res.code)}/quality`).catch(() => null);
  const part = (name) => `${quality[name].score}`;
  return h('section', {},
    h('p', { class: 'crumbs' }, link('/catalog', t('nav_catalog'))),
    h('div', { class: 'title-row' }, h('h1', {}, res.name), statusBadge(res.status)),
    res.summary ? h('p', {}, res.summary) : null,
    actions.length ? h('div', { class: 'actions' }, actions) : null,
    status,
    h('dl', { class: 'facts card' },
      fact(t('col_code'), res.code),
      fact(t('col_provider'), names.get(res.provider_org) || res.provider_org),
      fact(t('col_category'), res.category && t(`category_${res.category}`)),
      fact(t('col_format'), res.format && t(`format_${res.format}`)),
      fact(t('col_share_type'), res.share_type && t(`share_${res.share_type}`)),
      fact(t('col_share_condition'), res.share_condition),
      fact(t('col_share_method'), res.share_method && t(`method_${res.share_method}`)),
      fact(t('col_open_type'), res.open_type && t(`open_${res.open_type}`)),
      fact(t('col_update_cycle'), res.update_cycle && t(`cycle_${res.update_cycle}`)),
      fact(t('col_key_item'), res.key_item),
      fact(t('col_version'), String(res.version)),
      fact(t('col_published'), when(res.published_at, ctx.lang))),
    res.items.length
      ? table(t('items_title'), [t('col_item'), t('col_title'), t('col_element'), t('col_required'), t('col_sensitivity'), t('col_mask')],
        res.items.map((i) => [i.name, i.title || '—', i.element || '—', i.required ? t('yes') : t('no'), i.sensitivity, t(`mask_${i.mask}`)]))
      : h('p', { class: 'empty' }, manage ? t('items_empty_manage') : t('items_empty')),
    quality ? h('section', { class: 'card', 'aria-labelledby': 'quality-title' },
      h('h2', { id: 'quality-title' }, t('quality_title')),
      h('dl', { class: 'facts' },
        fact(t('quality_score'), h('strong', {}, `${quality.score} / 100`)),
        fact(t('quality_records'), String(quality.records)),
        fact(t('quality_completeness'), part('completeness')), fact(t('quality_validity'), part('validity')),
        fact(t('quality_timeliness'), part('timeliness')), fact(t('quality_consistency'), part('consistency')))) : null);
}

export async function create(ctx) {
  return editor(ctx, null);
}

export async function edit(ctx) {
  const res = await api('GET', resourcePath(ctx.params.code));
  if (!can.manageResource(ctx.me, res) || res.status !== 'draft') {
    return h('section', {}, h('h1', {}, res.name), notice(t('edit_only_drafts'), 'info'),
      link(`/resources/${encodeURIComponent(res.code)}`, t('back')));
  }
  return editor(ctx, res);
}

/** One editable row of the items table. */
function itemRow(elements, item, onRemove) {
  const name = h('input', { name: 'item_name', value: item.name || '', required: true, maxlength: 64, 'aria-label': t('col_item') });
  const title = h('input', { name: 'item_title', value: item.title || '', maxlength: 200, 'aria-label': t('col_title') });
  const element = select('item_element', [['', t('none')], ...elements.map((e) => [e.id, `${e.name} (${e.id})`])], item.element || '');
  element.setAttribute('aria-label', t('col_element'));
  element.addEventListener('change', () => {
    const el = elements.find((e) => e.id === element.value);
    if (el && !name.value) name.value = el.id;
    if (el && !title.value) title.value = el.name;
  });
  const required = h('input', { type: 'checkbox', name: 'item_required', checked: Boolean(item.required), 'aria-label': t('col_required') });
  const sens = select('item_sensitivity', [['', t('by_element')], ...SENSITIVITY.map((s) => [s, s])], item.sensitivity || '');
  sens.setAttribute('aria-label', t('col_sensitivity'));
  const mask = select('item_mask', [['', t('by_element')], ...MASKS.map((m) => [m, t(`mask_${m}`)])], item.mask || '');
  mask.setAttribute('aria-label', t('col_mask'));
  const row = h('tr', {},
    h('td', {}, name), h('td', {}, title), h('td', {}, element), h('td', {}, required), h('td', {}, sens), h('td', {}, mask),
    h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => onRemove(row) }, t('remove'))));
  row.read = () => {
    const out = { name: name.value.trim(), required: required.checked };
    if (title.value.trim()) out.title = title.value.trim();
    if (element.value) out.element = element.value;
    if (sens.value) out.sensitivity = sens.value;
    if (mask.value) out.mask = mask.value;
    return out;
  };
  return row;
}

async function editor(ctx, res) {
  const { me } = ctx;
  const elements = await listAll('/api/v1/elements', {}, 2000);
  const v = res || {};
  const input = (name, attrs = {}) => h('input', { name, value: v[name] || '', ...attrs });
  const name = input('name', { required: true, maxlength: 600 });
  const summary = h('textarea', { name: 'summary', rows: 3, maxlength: 12000 }, v.summary || '');
  const pick = (nameAttr, values, prefix) => select(nameAttr, [['', t('choose')], ...values.map((x) => [x, t(`${prefix}_${x}`)])], v[nameAttr] || '');
  const category = pick('category', CATEGORIES, 'category');
  const format = pick('format', FORMATS, 'format');
  const shareType = pick('share_type', SHARE_TYPES, 'share');
  const condition = input('share_condition', { maxlength: 6000 });
  const method = pick('share_method', METHODS, 'method');
  const openType = pick('open_type', OPEN_TYPES, 'open');
  const cycle = pick('update_cycle', CYCLES, 'cycle');
  const keyItem = input('key_item', { maxlength: 64 });
  const tbody = h('tbody', {});
  const remove = (row) => row.remove();
  for (const item of v.items || []) tbody.append(itemRow(elements, item, remove));
  if (!res) tbody.append(itemRow(elements, {}, remove));
  const addItem = h('button', { type: 'button', onclick: () => { const r = itemRow(elements, {}, remove); tbody.append(r); r.querySelector('input').focus(); } }, t('item_add'));
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, res ? t('save') : t('create_draft'));
  const form = h('form', { class: 'card', novalidate: true },
    h('div', { class: 'grid' },
      field(t('col_name'), name), field(t('col_category'), category), field(t('col_format'), format),
      field(t('col_share_type'), shareType, t('share_type_hint')), field(t('col_share_condition'), condition),
      field(t('col_share_method'), method), field(t('col_open_type'), openType), field(t('col_update_cycle'), cycle),
      field(t('col_key_item'), keyItem, t('key_item_hint'))),
    field(t('col_summary'), summary),
    h('h2', {}, t('items_title')),
    h('p', { class: 'hint' }, t('items_hint')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'edit' },
      h('caption', { class: 'sr-only' }, t('items_title')),
      h('thead', {}, h('tr', {}, [t('col_item'), t('col_title'), t('col_element'), t('col_required'), t('col_sensitivity'), t('col_mask'), '']
        .map((c) => h('th', { scope: 'col' }, c)))), tbody)),
    addItem, status, h('div', { class: 'actions' }, submit,
      link(res ? `/resources/${encodeURIComponent(res.code)}` : '/catalog', t('cancel'), { class: 'button' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    const body = { name: name.value.trim() };
    if (!res) body.provider_org = me.org_code;
    for (const [k, el] of Object.entries({ summary, category, format, share_type: shareType, share_condition: condition,
      share_method: method, open_type: openType, update_cycle: cycle, key_item: keyItem })) {
      if (el.value.trim()) body[k] = el.value.trim();
    }
    body.items = [...tbody.children].map((row) => row.read()).filter((i) => i.name);
    if (!body.name) {
      fill(status, problemBox({ problem: { title: t('name_missing'), detail: t('name_missing_detail') } }));
      name.focus();
      return;
    }
    await submitting(submit, status, async () => {
      const saved = res ? await api('PATCH', resourcePath(res.code), { body }) : await api('POST', '/api/v1/resources', { body });
      ctx.go(`/resources/${encodeURIComponent(saved.code)}`);
    });
  });
  return h('section', {},
    h('h1', {}, res ? t('resource_edit_title', { name: res.name }) : t('resource_new')),
    h('p', { class: 'muted' }, res ? t('resource_edit_intro') : t('resource_new_intro')),
    form);
}
