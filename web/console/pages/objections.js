// Data objections (数据异议) of the user's department: those it filed and
// those it must answer, with the provider's decision (accept and correct
// the record, or reject with a reason); and the cross-department conflicts
// found among the department's resources.
import { api } from '../api.js';
import { h, field, select, link, emptyState, problemBox, table, when, fill, submitting } from '../dom.js';
import { t } from '../i18n.js';
import { has } from '../roles.js';
import { orgs } from './catalog.js';

function objectionStatus(o) {
  if (o.status === 'open' && o.overdue) return h('span', { class: 'badge bad' }, t('overdue'));
  return h('span', { class: `badge objection-${o.status}` }, t(`objection_${o.status}`));
}

const canResolve = (me, o) => has(me, 'steward') && o.provider_org === me.org_code && o.status === 'open';

function resolveForm(ctx, o) {
  const status = h('div', { 'aria-live': 'polite' });
  const decision = select('decision', [['accept', t('objection_accept')], ['reject', t('objection_reject')]], 'accept');
  const value = h('input', { name: 'value', maxlength: 4000, value: o.proposed_value ?? '' });
  const reason = h('input', { name: 'reason', maxlength: 1000 });
  const valueField = field(t('objection_value'), value, t('objection_value_hint'));
  decision.addEventListener('change', () => { valueField.hidden = decision.value !== 'accept'; });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('objection_resolve'));
  const form = h('form', { class: 'inline-card', novalidate: true }, field(t('objection_decision'), decision), valueField,
    field(t('col_reason'), reason), submit, status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    const body = { decision: decision.value };
    if (reason.value.trim()) body.reason = reason.value.trim();
    if (decision.value === 'accept' && value.value !== '') body.value = value.value;
    if (decision.value === 'reject' && !body.reason) {
      fill(status, problemBox({ problem: { title: t('reason_missing'), detail: t('objection_reason_detail') } }));
      reason.focus();
      return;
    }
    await submitting(submit, status, async () => {
      await api('POST', `/api/v1/objections/${o.id}/resolve`, { body });
      ctx.reload();
    });
  });
  return form;
}

export async function objections(ctx) {
  const { query, me } = ctx;
  const names = await orgs();
  const role = query.role ?? (has(me, 'steward') ? 'provider' : '');
  const tabs = [['provider', t('objections_to_us')], ['consumer', t('objections_ours')], ['', t('requests_all')]];
  const page = await api('GET', '/api/v1/objections', { query: { role, limit: 200 } });
  const rows = page.items.map((o) => [o.id, link(`/resources/${encodeURIComponent(o.resource)}`, o.resource),
    names.get(o.consumer_org) || o.consumer_org, o.item, o.reason, o.proposed_value ?? '—', when(o.due_at, ctx.lang),
    objectionStatus(o), canResolve(me, o) ? resolveForm(ctx, o) : (o.resolution || '—')]);
  return h('section', {},
    h('h1', {}, t('objections_title')),
    h('p', { class: 'muted' }, t('objections_intro')),
    h('nav', { class: 'tabs', 'aria-label': t('objections_title') }, tabs.map(([r, label]) =>
      link(`/objections?role=${r}`, label, { 'aria-current': r === role ? 'page' : null }))),
    rows.length
      ? table(t('objections_title'), [t('col_objection'), t('col_resource'), t('col_consumer'), t('col_item'), t('col_reason'),
        t('objection_proposed'), t('col_due'), t('col_status'), t('col_action_taken')], rows)
      : emptyState(role === 'provider' ? t('objections_empty_provider') : t('objections_empty'), t('objections_empty_next')));
}

export async function conflicts(ctx) {
  const names = await orgs();
  const page = await api('GET', '/api/v1/conflicts', { query: { limit: 200 } });
  const describe = (c) => c.differences.map((d) => `${d.element}: ${d.sources.map((s) =>
    `${names.get(s.provider_org) || s.provider_org}（${s.resource}）${s.value ?? '—'}`).join(' ≠ ')}`).join(t('list_sep'));
  return h('section', {},
    h('h1', {}, t('conflicts_title')),
    h('p', { class: 'muted' }, t('conflicts_intro')),
    page.items.length
      ? table(t('conflicts_title'), [t('conflicts_key'), t('conflicts_values'), t('conflicts_objections')],
        page.items.map((c) => [c.element, describe(c), String(c.objections.length)]))
      : emptyState(t('conflicts_empty')));
}
