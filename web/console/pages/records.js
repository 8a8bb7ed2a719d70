// Looking up one record by its key: the provider's stewards see the whole
// record; people of a consumer department see it through their grant, only
// the granted items, masked where the grant says. Each look-up is an audit
// entry, whose seq the page shows. The key (often an ID number) stays in the
// form: it never goes into the page's address or the browser's history.
// A consumer's steward who finds a granted value wrong files a data
// objection on it from here, for the provider to correct or answer.
import { apiAudited, api } from '../api.js';
import { h, field, select, link, problemBox, notice, table, when, fill, submitting } from '../dom.js';
import { t, lang } from '../i18n.js';
import { can } from '../roles.js';

export async function lookup(ctx) {
  const { me } = ctx;
  const res = await api('GET', `/api/v1/resources/${encodeURIComponent(ctx.params.code)}`);
  const back = link(`/resources/${encodeURIComponent(res.code)}`, t('back_to', { name: res.name }));
  if (!can.lookupRecords(me, res)) {
    return h('section', {}, h('h1', {}, t('lookup_title')), notice(t('lookup_not_possible'), 'info'), back);
  }
  const keyItem = res.items.find((i) => i.name === res.key_item);
  const key = h('input', { name: 'key', required: true, maxlength: 200, autocomplete: 'off', spellcheck: 'false' });
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('lookup_send'));
  const form = h('form', { class: 'card narrow', novalidate: true },
    field(keyItem ? `${keyItem.title || keyItem.name}（${keyItem.name}）` : t('lookup_key'), key, t('lookup_key_hint')), submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    if (!key.value.trim()) { key.focus(); return; }
    await submitting(submit, status, async () => {
      const { body: rec, auditSeq } = await apiAudited('GET',
        `/api/v1/resources/${encodeURIComponent(res.code)}/records/${encodeURIComponent(key.value.trim())}`);
      const titles = new Map(res.items.map((i) => [i.name, i.title || i.name]));
      fill(status, h('section', { class: 'card', 'aria-labelledby': 'record-title' },
        h('h2', { id: 'record-title' }, t('lookup_result', { version: rec.version })),
        table(t('lookup_result', { version: rec.version }), [t('col_item'), t('col_title'), t('lookup_value')],
          Object.entries(rec.data).map(([name, value]) => [name, titles.get(name) || name,
            h('span', { class: 'mono' }, value === null ? '—' : String(value))])),
        h('p', { class: 'small muted' }, t('lookup_updated', { time: when(rec.updated_at, ctx.lang) }),
          rec.grant ? ` · ${t('lookup_through', { grant: rec.grant })}` : ''),
        auditSeq !== null ? h('p', { class: 'small' }, can.readAudit(me)
          ? link(`/audit/${auditSeq}`, t('lookup_audited', { seq: auditSeq }))
          : t('lookup_audited', { seq: auditSeq })) : null),
      can.fileObjection(me, res, rec) ? objectionForm(res, key.value.trim(), rec, titles) : null);
    });
  });
  return h('section', {},
    h('p', { class: 'crumbs' }, back),
    h('h1', {}, t('lookup_title_of', { name: res.name })),
    h('p', { class: 'muted' }, res.provider_org === me.org_code ? t('lookup_intro_provider') : t('lookup_intro_consumer')),
    form, status);
}

/** Objecting to one granted value of the record just read: the item, what is wrong, and the right value if known. */
function objectionForm(res, recordKey, rec, titles) {
  const items = Object.keys(rec.data).filter((name) => name !== res.key_item);
  if (!items.length) return null;
  const status = h('div', { 'aria-live': 'polite' });
  const item = select('item', [['', t('choose')], ...items.map((name) => [name, `${titles.get(name) || name}（${name}）`])], '');
  const reason = h('textarea', { name: 'reason', rows: 2, maxlength: 1000, required: true });
  const proposed = h('input', { name: 'proposed_value', maxlength: 4000, autocomplete: 'off' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('objection_file'));
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'objection-file-title' },
    h('h2', { id: 'objection-file-title' }, t('objection_file_title')),
    h('p', { class: 'hint' }, t('objection_file_intro')),
    h('div', { class: 'grid' }, field(t('col_item'), item), field(t('objection_proposed'), proposed, t('objection_proposed_hint'))),
    field(t('col_reason'), reason, t('objection_reason_hint')),
    status, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    const missing = [[t('col_item'), item], [t('col_reason'), reason]].filter(([, el]) => !el.value.trim()).map(([label]) => label);
    if (missing.length) {
      fill(status, problemBox({ problem: { title: t('form_incomplete'), detail: t('form_missing', { fields: missing.join(t('list_sep')) }) } }));
      return;
    }
    const body = { item: item.value, reason: reason.value.trim() };
    if (proposed.value.trim()) body.proposed_value = proposed.value.trim();
    await submitting(submit, status, async () => {
      const made = await api('POST',
        `/api/v1/resources/${encodeURIComponent(res.code)}/records/${encodeURIComponent(recordKey)}/objections`, { body });
      form.replaceChildren(notice(h('span', {}, t('objection_filed', { id: made.id, due: when(made.due_at, lang()) }), ' ',
        link('/objections?role=consumer', t('nav_objections'))), 'ok'));
    });
  });
  return form;
}
