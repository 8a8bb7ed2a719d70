// Looking up one record by its key: the provider's stewards see the whole
// record; people of a consumer department see it through their grant, only
// the granted items, masked where the grant says. Each look-up is an audit
// entry, whose seq the page shows. The key (often an ID number) stays in the
// form: it never goes into the page's address or the browser's history.
import { apiAudited, api } from '../api.js';
import { h, field, link, problemBox, notice, table, when, fill } from '../dom.js';
import { t } from '../i18n.js';
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
    submit.disabled = true;
    try {
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
          : t('lookup_audited', { seq: auditSeq })) : null));
    } catch (e) {
      fill(status, problemBox(e));
    } finally {
      submit.disabled = false;
    }
  });
  return h('section', {},
    h('p', { class: 'crumbs' }, back),
    h('h1', {}, t('lookup_title_of', { name: res.name })),
    h('p', { class: 'muted' }, res.provider_org === me.org_code ? t('lookup_intro_provider') : t('lookup_intro_consumer')),
    form, status);
}
