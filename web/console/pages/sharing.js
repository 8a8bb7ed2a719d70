// Sharing: filing a share request for a resource, the lists of requests and
// grants of the user's department, deciding a request (approve with the
// items and their masking, or reject with a reason) and revoking a grant.
import { api, listAll } from '../api.js';
import { h, field, select, link, emptyState, problemBox, notice, table, when, fill, submitting } from '../dom.js';
import { t } from '../i18n.js';
import { can, has } from '../roles.js';
import { orgs } from './catalog.js';

/** Requests and grants listed at most (every page up to this many). */
const LIST_MAX = 5000;

export async function fileRequest(ctx) {
  const res = await api('GET', `/api/v1/resources/${encodeURIComponent(ctx.params.code)}`);
  const back = link(`/resources/${encodeURIComponent(res.code)}`, t('back_to', { name: res.name }));
  if (!can.requestShare(ctx.me, res)) {
    return h('section', {}, h('h1', {}, t('request_title')), notice(t('request_not_possible'), 'info'), back);
  }
  const boxes = res.items.map((i) => h('input', { type: 'checkbox', name: 'items', value: i.name, checked: true, id: `item-${i.name}` }));
  const items = h('fieldset', {}, h('legend', {}, t('request_items')),
    res.items.map((i, n) => h('div', { class: 'check' }, boxes[n],
      h('label', { for: boxes[n].id }, `${i.title || i.name} (${i.name}) · ${i.sensitivity}`))));
  const purpose = h('textarea', { name: 'purpose', rows: 2, maxlength: 1000, required: true });
  const basis = h('textarea', { name: 'legal_basis', rows: 2, maxlength: 1000, required: true });
  const scenario = h('textarea', { name: 'scenario', rows: 2, maxlength: 1000, required: true });
  const until = h('input', { type: 'date', name: 'valid_until' });
  const quota = h('input', { type: 'number', name: 'daily_quota', min: 1, max: 100000000, inputmode: 'numeric' });
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('request_send'));
  const form = h('form', { class: 'card', novalidate: true }, items,
    field(t('col_purpose'), purpose, t('purpose_hint')), field(t('col_legal_basis'), basis, t('legal_basis_hint')),
    field(t('col_scenario'), scenario), field(t('col_valid_until'), until, t('valid_until_hint')),
    field(t('col_daily_quota'), quota, t('daily_quota_hint')), status, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    const body = {
      resource: res.code, items: boxes.filter((b) => b.checked).map((b) => b.value),
      purpose: purpose.value.trim(), legal_basis: basis.value.trim(), scenario: scenario.value.trim(),
    };
    const missing = [];
    if (!body.items.length) missing.push(t('request_items'));
    if (!body.purpose) missing.push(t('col_purpose'));
    if (!body.legal_basis) missing.push(t('col_legal_basis'));
    if (!body.scenario) missing.push(t('col_scenario'));
    if (missing.length) {
      fill(status, problemBox({ problem: { title: t('form_incomplete'), detail: t('form_missing', { fields: missing.join(t('list_sep')) }) } }));
      return;
    }
    if (until.value) body.valid_until = new Date(`${until.value}T23:59:59`).toISOString();
    if (quota.value) body.daily_quota = Number(quota.value);
    await submitting(submit, status, async () => {
      const made = await api('POST', '/api/v1/share-requests', { body });
      ctx.go(`/requests/${made.id}`);
    });
  });
  return h('section', {},
    h('p', { class: 'crumbs' }, back),
    h('h1', {}, t('request_title_of', { name: res.name })),
    h('p', { class: 'muted' }, res.share_type === 'unconditional' ? t('request_intro_unconditional') : t('request_intro_conditional')),
    form);
}

function requestStatus(r) {
  if (r.status === 'pending' && r.overdue) return h('span', { class: 'badge bad' }, t('overdue'));
  return h('span', { class: `badge status-${r.status}` }, t(`sr_${r.status}`));
}

export async function requests(ctx) {
  const { query } = ctx;
  const names = await orgs();
  const role = query.role || (has(ctx.me, 'steward') ? 'provider' : '');
  const tabs = [['provider', t('requests_to_us')], ['consumer', t('requests_ours')], ['', t('requests_all')]];
  const status = query.status ?? (role === 'provider' ? 'pending' : '');
  const statusSelect = select('status', [['', t('any')], ['pending', t('sr_pending')], ['approved', t('sr_approved')], ['rejected', t('sr_rejected')]], status);
  statusSelect.addEventListener('change', () => ctx.go(`/requests?role=${role}&status=${statusSelect.value}`));
  const items = await listAll('/api/v1/share-requests', { role, status }, LIST_MAX);
  const list = items.length
    ? table(t('requests_title'), [t('col_request'), t('col_resource'), t('col_provider'), t('col_consumer'), t('col_created'), t('col_status')],
      items.map((r) => [link(`/requests/${r.id}`, r.id), r.resource, names.get(r.provider_org) || r.provider_org,
        names.get(r.consumer_org) || r.consumer_org, when(r.created_at, ctx.lang), requestStatus(r)]))
    : emptyState(role === 'provider' ? t('requests_empty_provider') : t('requests_empty'),
      h('span', {}, t('requests_empty_next'), ' ', link('/catalog', t('nav_catalog'))));
  return h('section', {},
    h('h1', {}, t('requests_title')),
    h('nav', { class: 'tabs', 'aria-label': t('requests_title') }, tabs.map(([r, label]) =>
      link(`/requests?role=${r}`, label, { 'aria-current': r === role ? 'page' : null }))),
    h('div', { class: 'filters' }, field(t('col_status'), statusSelect)),
    list);
}

export async function request(ctx) {
  const { me } = ctx;
  const [r, names] = await Promise.all([api('GET', `/api/v1/share-requests/${encodeURIComponent(ctx.params.id)}`), orgs()]);
  const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value ?? '—')];
  const parts = [
    h('p', { class: 'crumbs' }, link('/requests', t('nav_requests'))),
    h('div', { class: 'title-row' }, h('h1', {}, t('request_heading', { id: r.id })), requestStatus(r)),
    h('dl', { class: 'facts card' },
      fact(t('col_resource'), link(`/resources/${encodeURIComponent(r.resource)}`, r.resource)),
      fact(t('col_provider'), names.get(r.provider_org) || r.provider_org),
      fact(t('col_consumer'), names.get(r.consumer_org) || r.consumer_org),
      fact(t('col_requested_by'), r.requested_by),
      fact(t('request_items'), r.items.join(t('list_sep'))),
      fact(t('col_purpose'), r.purpose), fact(t('col_legal_basis'), r.legal_basis), fact(t('col_scenario'), r.scenario),
      fact(t('col_valid_until'), when(r.valid_until, ctx.lang)),
      fact(t('col_daily_quota'), r.daily_quota === null ? t('unlimited') : String(r.daily_quota)),
      fact(t('col_due'), when(r.due_at, ctx.lang)),
      r.decided_by ? fact(t('col_decided_by'), `${r.decided_by} · ${when(r.decided_at, ctx.lang)}`) : null,
      r.reason ? fact(t('col_reason'), r.reason) : null,
      r.grant_id ? fact(t('col_grant'), link(`/grants?focus=${r.grant_id}`, r.grant_id)) : null),
  ];
  if (can.decideShare(me, r)) parts.push(decideForm(ctx, r));
  return h('section', {}, parts);
}

function decideForm(ctx, r) {
  const status = h('div', { 'aria-live': 'polite' });
  const rows = r.items.map((name) => {
    const box = h('input', { type: 'checkbox', name: 'approve_item', value: name, checked: true, id: `approve-${name}` });
    const mode = select(`mode-${name}`, [['clear', t('mode_clear')], ['masked', t('mode_masked')]], 'clear');
    mode.id = `mode-${name}`;
    return { name, box, mode, node: h('div', { class: 'check' }, box, h('label', { for: box.id }, name),
      h('label', { for: mode.id, class: 'sr-only' }, t('mode_of', { item: name })), mode) };
  });
  const approve = h('button', { type: 'submit', class: 'primary', id: 'approve' }, t('approve'));
  const approveForm = h('form', { class: 'card', novalidate: true },
    h('h2', {}, t('approve_title')), h('p', { class: 'hint' }, t('approve_hint')),
    h('fieldset', {}, h('legend', {}, t('approve_items')), rows.map((x) => x.node)), approve);
  approveForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const chosen = rows.filter((x) => x.box.checked);
    if (!chosen.length) {
      fill(status, problemBox({ problem: { title: t('approve_none'), detail: t('approve_none_detail') } }));
      return;
    }
    approve.disabled = true;
    try {
      await api('POST', `/api/v1/share-requests/${r.id}/approve`, {
        body: { items: chosen.map((x) => x.name), modes: Object.fromEntries(chosen.map((x) => [x.name, x.mode.value])) },
      });
      ctx.reload();
    } catch (e) { fill(status, problemBox(e)); } finally { approve.disabled = false; }
  });
  const reason = h('textarea', { name: 'reason', rows: 2, maxlength: 1000, required: true });
  const reject = h('button', { type: 'submit', class: 'danger', id: 'reject' }, t('reject'));
  const rejectForm = h('form', { class: 'card', novalidate: true },
    h('h2', {}, t('reject_title')), field(t('col_reason'), reason, t('reject_hint')), reject);
  rejectForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!reason.value.trim()) {
      fill(status, problemBox({ problem: { title: t('reason_missing'), detail: t('reason_missing_detail') } }));
      reason.focus();
      return;
    }
    reject.disabled = true;
    try {
      await api('POST', `/api/v1/share-requests/${r.id}/reject`, { body: { reason: reason.value.trim() } });
      ctx.reload();
    } catch (e) { fill(status, problemBox(e)); } finally { reject.disabled = false; }
  });
  return h('div', { class: 'decide' }, status, h('div', { class: 'two' }, approveForm, rejectForm));
}

export async function grants(ctx) {
  const { query, me } = ctx;
  const names = await orgs();
  const role = query.role || '';
  const tabs = [['', t('requests_all')], ['provider', t('grants_given')], ['consumer', t('grants_received')]];
  const items = await listAll('/api/v1/grants', { role }, LIST_MAX);
  const status = h('div', { 'aria-live': 'polite' });
  const revokeCell = (g) => {
    if (!can.revokeGrant(me, g)) return '—';
    const reason = h('input', { name: 'reason', maxlength: 1000, 'aria-label': t('revoke_reason_of', { id: g.id }), placeholder: t('col_reason') });
    const button = h('button', { type: 'submit', class: 'danger' }, t('revoke'));
    const form = h('form', { class: 'inline' }, reason, button);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!window.confirm(t('revoke_confirm', { id: g.id }))) return;
      button.disabled = true;
      try {
        await api('DELETE', `/api/v1/grants/${g.id}`, { query: { reason: reason.value.trim() } });
        ctx.reload();
      } catch (e) { fill(status, problemBox(e)); } finally { button.disabled = false; }
    });
    return form;
  };
  const list = items.length
    ? table(t('grants_title'), [t('col_grant'), t('col_resource'), t('col_provider'), t('col_consumer'), t('col_items'), t('col_valid_until'), t('col_status'), t('col_action_taken')],
      items.map((g) => [h('span', { id: `grant-${g.id}`, class: query.focus === g.id ? 'focus-row' : null }, g.id),
        link(`/resources/${encodeURIComponent(g.resource)}`, g.resource),
        names.get(g.provider_org) || g.provider_org, names.get(g.consumer_org) || g.consumer_org,
        Object.entries(g.items).map(([k, m]) => `${k}${m === 'masked' ? `（${t('mode_masked')}）` : ''}`).join(t('list_sep')),
        when(g.valid_until, ctx.lang), h('span', { class: `badge status-${g.status}` }, t(`grant_${g.status}`)), revokeCell(g)]))
    : emptyState(t('grants_empty'), h('span', {}, t('grants_empty_next'), ' ', link('/catalog', t('nav_catalog'))));
  return h('section', {},
    h('h1', {}, t('grants_title')),
    h('nav', { class: 'tabs', 'aria-label': t('grants_title') }, tabs.map(([r, label]) =>
      link(`/grants?role=${r}`, label, { 'aria-current': r === role ? 'page' : null }))),
    status, list);
}
