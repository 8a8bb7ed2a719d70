// The home page: what waits for the signed-in person, by role.
//   stewards      share requests to decide (overdue first), their own requests
//                 still waiting, objections to answer, failing subscriptions,
//                 draft resources
//   org admins    the same to watch, without deciding
//   providers     their registered services that fail their health checks
//   auditors      refused requests in the audit trail, the signed tree head
//   sysadmins     the newest backup, one being made, the last that failed
//   everyone      a way into the catalog
import { api, listAll } from '../api.js';
import { h, link, emptyState, problemBox, table, when } from '../dom.js';
import { t } from '../i18n.js';
import { has, can } from '../roles.js';
import { orgs } from './catalog.js';

/** A panel that loads its own content, so one failing call does not blank the page. */
function panel(title, load) {
  const body = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const section = h('section', { class: 'card panel' }, h('h2', {}, title), body);
  load().then((node) => body.replaceChildren(node)).catch((e) => body.replaceChildren(problemBox(e)));
  return section;
}

function requestRows(ctx, names, items) {
  return items.map((r) => [link(`/requests/${r.id}`, r.id), r.resource, names.get(r.consumer_org) || r.consumer_org,
    r.overdue ? h('span', { class: 'badge bad' }, t('overdue')) : when(r.due_at, ctx.lang)]);
}

export async function home(ctx) {
  const { me } = ctx;
  const panels = [];
  const names = await orgs().catch(() => new Map());
  if (has(me, 'steward') || has(me, 'org_admin')) {
    const deciding = has(me, 'steward');
    panels.push(panel(deciding ? t('home_to_decide') : t('home_pending_provider'), async () => {
      const page = await api('GET', '/api/v1/share-requests', { query: { role: 'provider', status: 'pending', limit: 100 } });
      if (!page.items.length) return emptyState(t('home_to_decide_empty'), t('home_to_decide_next'));
      const items = [...page.items].sort((a, b) => Number(b.overdue) - Number(a.overdue));
      const overdue = items.filter((r) => r.overdue).length;
      return h('div', {},
        overdue ? h('p', { class: 'badge bad' }, t('home_overdue_count', { n: overdue })) : null,
        table(t('home_to_decide'), [t('col_request'), t('col_resource'), t('col_consumer'), t('col_due')], requestRows(ctx, names, items)));
    }));
    panels.push(panel(t('home_my_requests'), async () => {
      const page = await api('GET', '/api/v1/share-requests', { query: { role: 'consumer', status: 'pending', limit: 100 } });
      if (!page.items.length) return emptyState(t('home_my_requests_empty'), link('/catalog', t('home_find_data')));
      return table(t('home_my_requests'), [t('col_request'), t('col_resource'), t('col_provider'), t('col_due')],
        page.items.map((r) => [link(`/requests/${r.id}`, r.id), r.resource, names.get(r.provider_org) || r.provider_org, when(r.due_at, ctx.lang)]));
    }));
    panels.push(panel(t('home_objections'), async () => {
      const page = await api('GET', '/api/v1/objections', { query: { role: 'provider', status: 'open', limit: 100 } });
      if (!page.items.length) return emptyState(t('home_objections_empty'));
      const items = [...page.items].sort((a, b) => Number(b.overdue) - Number(a.overdue));
      return table(t('home_objections'), [t('col_objection'), t('col_resource'), t('col_consumer'), t('col_due')],
        items.map((o) => [link('/objections?role=provider', o.id), o.resource, names.get(o.consumer_org) || o.consumer_org,
          o.overdue ? h('span', { class: 'badge bad' }, t('overdue')) : when(o.due_at, ctx.lang)]));
    }));
    panels.push(panel(t('home_failed_deliveries'), async () => {
      const page = await api('GET', '/api/v1/subscriptions', { query: { limit: 200 } });
      const failing = page.items.filter((s) => s.status === 'failed' || s.failures > 0);
      if (!failing.length) return emptyState(t('home_failed_deliveries_empty'));
      return table(t('home_failed_deliveries'), [t('col_subscription'), t('col_resource'), t('col_failures'), t('col_reason')],
        failing.map((s) => [link(`/subscriptions/${s.id}`, s.id), s.resource, String(s.failures), s.status_reason || t(`sub_status_${s.status}`)]));
    }));
    if (has(me, 'steward')) {
      panels.push(panel(t('home_drafts'), async () => {
        const page = await api('GET', '/api/v1/resources', { query: { provider: me.org_code, status: 'draft', limit: 100 } });
        if (!page.items.length) return emptyState(t('home_drafts_empty'), link('/resources/new', t('resource_new')));
        return table(t('home_drafts'), [t('col_code'), t('col_name'), t('col_updated')],
          page.items.map((r) => [link(`/resources/${encodeURIComponent(r.code)}`, r.code), r.name, when(r.updated_at, ctx.lang)]));
      }));
    }
  }
  if (me.org_code && ['steward', 'org_admin', 'monitor'].some((r) => has(me, r))) {
    // Only for a department that has registered services: their health, the ones down first.
    const own = await listAll('/api/v1/services', { provider: me.org_code }, 1000).catch(() => []);
    if (own.length) {
      panels.push(panel(t('home_services'), async () => {
        const down = own.filter((s) => s.health.status === 'down');
        if (!down.length) return emptyState(t('home_services_up', { n: own.length }), link(`/services?provider=${me.org_code}`, t('nav_services')));
        return table(t('home_services_down'), [t('svc_code'), t('col_name'), t('svc_health')],
          down.map((s) => [link(`/services/${s.id}`, s.code), s.name, h('span', { class: 'badge bad' }, t('svc_health_down'))]));
      }));
    }
  }
  if (can.readAudit(me)) {
    panels.push(panel(t('home_denied'), async () => {
      const weekAgo = new Date(Date.now() - 7 * 86400000).toISOString();
      const page = await api('GET', '/api/v1/audit/events', { query: { result: 'denied', from: weekAgo, limit: 1000 } });
      const recent = page.items.slice(-10).reverse();
      if (!recent.length) return emptyState(t('home_denied_empty'));
      return table(t('home_denied'), [t('col_seq'), t('col_time'), t('col_actor'), t('col_action')],
        recent.map((e) => [link(`/audit/${e.seq}`, String(e.seq)), when(e.time, ctx.lang), e.actor || '—', e.action || '—']));
    }));
    panels.push(panel(t('home_tree_head'), async () => {
      const head = await api('GET', '/api/v1/audit/tree-head');
      return h('dl', { class: 'facts' },
        h('dt', {}, t('tree_size')), h('dd', {}, String(head.tree_size)),
        h('dt', {}, t('tree_root')), h('dd', { class: 'mono' }, head.root_hash),
        h('dt', {}, t('tree_signed_at')), h('dd', {}, when(head.timestamp, ctx.lang)));
    }));
  }
  if (can.manageBackups(me)) {
    panels.push(panel(t('home_backup'), async () => {
      const list = await api('GET', '/api/v1/backups');
      const newest = list.items[0];
      return h('div', {},
        list.running ? h('p', {}, t('backup_running', { name: list.running.name, time: when(list.running.started_at, ctx.lang) })) : null,
        list.last_failure ? h('p', { class: 'badge bad' }, t('backup_failed', { name: list.last_failure.name, time: when(list.last_failure.failed_at, ctx.lang) })) : null,
        newest
          ? h('p', {}, t('home_backup_newest', { time: when(newest.created_at, ctx.lang), n: list.items.length }), ' ', link('/backups', t('nav_backups')))
          : emptyState(t('backups_empty'), link('/backups', t('backup_start'))));
    }));
  }
  if (can.readUsers(me)) {
    panels.push(panel(t('home_users'), async () => h('p', {}, link('/users', t('home_users_link')))));
  }
  panels.push(panel(t('home_catalog'), async () => h('p', {}, t('home_catalog_text'), ' ', link('/catalog', t('nav_catalog')))));
  return h('section', {},
    h('h1', {}, t('home_title', { name: me.display_name })),
    h('p', { class: 'muted' }, t('home_intro')),
    h('div', { class: 'panels' }, panels));
}
