// The registry: departments (orgs), people (users) and department systems
// (clients), as lists. The API decides who sees which: every user sees the
// orgs; security admins see all users and clients, org admins their own org's.
import { api } from '../api.js';
import { h, emptyState, table, when } from '../dom.js';
import { t } from '../i18n.js';

export async function orgs(ctx) {
  const page = await api('GET', '/api/v1/orgs', { query: { limit: 1000 } });
  return h('section', {}, h('h1', {}, t('orgs_title')),
    page.items.length
      ? table(t('orgs_title'), [t('col_code'), t('col_name'), t('col_level'), t('col_region')],
        page.items.map((o) => [o.code, o.name, o.level ? t(`level_${o.level}`) : '—', o.region_code || '—']))
      : emptyState(t('orgs_empty')));
}

export async function users(ctx) {
  const page = await api('GET', '/api/v1/users', { query: { limit: 1000 } });
  return h('section', {}, h('h1', {}, t('users_title')),
    page.items.length
      ? table(t('users_title'), [t('username'), t('col_name'), t('col_org'), t('col_roles'), t('col_status')],
        page.items.map((u) => [u.username, u.display_name, u.org_code, (u.roles || []).map((r) => t(`role_${r}`)).join(t('list_sep')),
          t(`user_${u.status}`)]))
      : emptyState(t('users_empty')));
}

export async function clients(ctx) {
  const page = await api('GET', '/api/v1/clients', { query: { limit: 1000 } });
  return h('section', {}, h('h1', {}, t('clients_title')),
    page.items.length
      ? table(t('clients_title'), [t('col_client'), t('col_name'), t('col_org'), t('col_status'), t('col_created')],
        page.items.map((c) => [c.id, c.name, c.org_code, t(`client_${c.status}`), when(c.created_at, ctx.lang)]))
      : emptyState(t('clients_empty'), t('clients_empty_next')));
}
