// Change subscriptions of the user's department (as consumer or provider)
// and, for one subscription, its webhook deliveries: what was sent, how
// often it was tried, and why the last attempt failed.
import { api } from '../api.js';
import { h, link, emptyState, table, when } from '../dom.js';
import { t } from '../i18n.js';
import { orgs } from './catalog.js';

function subscriptionStatus(s) {
  const kind = s.status === 'active' && s.failures > 0 ? 'failing' : s.status;
  return h('span', { class: `badge sub-${kind}` }, t(`sub_status_${kind}`));
}

export async function subscriptions(ctx) {
  const names = await orgs();
  const page = await api('GET', '/api/v1/subscriptions', { query: { limit: 500 } });
  return h('section', {},
    h('h1', {}, t('subs_title')),
    h('p', { class: 'muted' }, t('subs_intro')),
    page.items.length
      ? table(t('subs_title'), [t('col_subscription'), t('col_resource'), t('col_provider'), t('col_consumer'), t('col_url'),
        t('col_status'), t('col_failures'), t('col_reason')],
      page.items.map((s) => [link(`/subscriptions/${s.id}`, s.id), s.resource, names.get(s.provider_org) || s.provider_org,
        names.get(s.consumer_org) || s.consumer_org, h('span', { class: 'mono' }, s.url), subscriptionStatus(s),
        String(s.failures), s.status_reason || '—']))
      : emptyState(t('subs_empty'), t('subs_empty_next')));
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
