// Change subscriptions of the user's department (as consumer or provider)
// and, for one subscription, its webhook deliveries: what was sent, how
// often it was tried, and why the last attempt failed. A consumer's steward
// subscribes through one of the department's active grants (the signing
// secret is shown once, right after) and ends a subscription.
import { api, listAll } from '../api.js';
import { h, link, field, select, emptyState, problemBox, table, when, fill, submitting } from '../dom.js';
import { t } from '../i18n.js';
import { can } from '../roles.js';
import { orgs } from './catalog.js';
import { secretOnce } from './registry.js';

function subscriptionStatus(s) {
  const kind = s.status === 'active' && s.failures > 0 ? 'failing' : s.status;
  return h('span', { class: `badge sub-${kind}` }, t(`sub_status_${kind}`));
}

/** The form that subscribes through one of the department's active grants. */
async function createForm(ctx, status) {
  const grants = await listAll('/api/v1/grants', { role: 'consumer', status: 'active' }, 5000);
  const active = grants.filter((g) => g.status === 'active' && g.consumer_org === ctx.me.org_code);
  if (!active.length) {
    return h('div', { class: 'card' }, h('h2', {}, t('sub_create')),
      emptyState(t('sub_create_no_grant'), h('span', {}, t('sub_create_no_grant_next'), ' ', link('/catalog', t('nav_catalog')))));
  }
  const grant = select('grant', active.map((g) => [g.id, `${g.id} · ${g.resource}`]), active[0].id);
  const url = h('input', { name: 'url', type: 'url', required: true, maxlength: 2000, autocomplete: 'off', spellcheck: 'false',
    placeholder: 'https://', class: 'mono' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('sub_create'));
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, t('sub_create')),
    h('div', { class: 'grid' }, field(t('col_grant'), grant, t('sub_grant_hint')), field(t('col_url'), url, t('sub_url_hint'))),
    submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    if (!url.value.trim()) {
      fill(status, problemBox({ problem: { title: t('form_incomplete'), detail: t('form_missing', { fields: t('col_url') }) } }));
      url.focus();
      return;
    }
    const g = active.find((x) => x.id === grant.value);
    await submitting(submit, status, async () => {
      const made = await api('POST', '/api/v1/subscriptions', { body: { resource: g.resource, grant: g.id, url: url.value.trim() } });
      // The secret is in this answer only: it is kept for the next render, never in the address.
      createdSecret = { id: made.id, secret: made.secret };
      ctx.go(`/subscriptions?created=${encodeURIComponent(made.id)}`);
    });
  });
  return form;
}

let createdSecret = null;

export async function subscriptions(ctx) {
  const { me } = ctx;
  const names = await orgs();
  const items = await listAll('/api/v1/subscriptions', {}, 5000);
  const status = h('div', { 'aria-live': 'polite' });
  let shown = null;
  if (createdSecret && ctx.query.created === createdSecret.id) {
    shown = secretOnce(t('sub_created', { id: createdSecret.id }), t('sub_secret'), createdSecret.secret);
  }
  createdSecret = null;
  const remove = (s) => {
    if (!can.deleteSubscription(me, s)) return '—';
    const b = h('button', { type: 'button', class: 'danger', 'aria-label': t('sub_delete_of', { id: s.id }) }, t('remove'));
    b.addEventListener('click', async () => {
      if (!window.confirm(t('sub_delete_confirm', { id: s.id }))) return;
      b.disabled = true;
      try {
        await api('DELETE', `/api/v1/subscriptions/${encodeURIComponent(s.id)}`);
        ctx.go('/subscriptions?deleted=1');
      } catch (e) { fill(status, problemBox(e)); } finally { b.disabled = false; }
    });
    return b;
  };
  return h('section', {},
    h('h1', {}, t('subs_title')),
    h('p', { class: 'muted' }, t('subs_intro')),
    shown, ctx.query.deleted ? h('div', { class: 'notice ok', role: 'status' }, t('sub_deleted')) : null,
    status,
    items.length
      ? table(t('subs_title'), [t('col_subscription'), t('col_resource'), t('col_provider'), t('col_consumer'), t('col_url'),
        t('col_status'), t('col_failures'), t('col_reason'), t('col_action_taken')],
      items.map((s) => [link(`/subscriptions/${s.id}`, s.id), s.resource, names.get(s.provider_org) || s.provider_org,
        names.get(s.consumer_org) || s.consumer_org, h('span', { class: 'mono' }, s.url), subscriptionStatus(s),
        String(s.failures), s.status_reason || '—', remove(s)]))
      : emptyState(t('subs_empty'), can.createSubscription(me) ? t('subs_empty_next_steward') : t('subs_empty_next')),
    can.createSubscription(me) ? await createForm(ctx, status) : null);
}

export async function subscription(ctx) {
  const id = ctx.params.id;
  const [s, deliveries] = await Promise.all([
    api('GET', `/api/v1/subscriptions/${encodeURIComponent(id)}`),
    api('GET', `/api/v1/subscriptions/${encodeURIComponent(id)}/deliveries`, { query: { limit: 200 } }),
  ]);
  const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value ?? '—')];
  return h('section', {},
    h('p', { class: 'crumbs' }, link('/subscriptions', t('nav_subscriptions'))),
    h('div', { class: 'title-row' }, h('h1', {}, t('sub_heading', { id: s.id })), subscriptionStatus(s)),
    h('dl', { class: 'facts card' },
      fact(t('col_resource'), link(`/resources/${encodeURIComponent(s.resource)}`, s.resource)),
      fact(t('col_url'), h('span', { class: 'mono' }, s.url)),
      fact(t('col_grant'), s.grant_id),
      fact(t('sub_cursor'), String(s.cursor)),
      fact(t('col_failures'), String(s.failures)),
      fact(t('sub_failing_since'), when(s.failing_since, ctx.lang)),
      fact(t('sub_next_attempt'), when(s.next_attempt_at, ctx.lang)),
      s.status_reason ? fact(t('col_reason'), s.status_reason) : null),
    h('h2', {}, t('deliveries_title')),
    deliveries.items.length
      ? table(t('deliveries_title'), [t('col_delivery'), t('deliveries_changes'), t('col_status'), t('deliveries_attempts'),
        t('deliveries_http'), t('deliveries_error'), t('col_updated')],
      deliveries.items.map((d) => [d.id, `${d.first_seq}–${d.last_seq} (${d.changes})`,
        h('span', { class: `badge delivery-${d.status}` }, t(`delivery_${d.status}`)), String(d.attempts),
        d.http_status === null ? '—' : String(d.http_status), d.error || '—', when(d.updated_at, ctx.lang)]))
      : emptyState(t('deliveries_empty')));
}
