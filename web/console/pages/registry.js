// The registry: departments (orgs), people (users) and department systems
// (clients). The API decides who sees which: every user sees the orgs;
// security admins see and create all users and clients, org admins those of
// their own org. A new user's password and a new client's secret are shown
// once, right after creation, and never again.
import { api, listAll } from '../api.js';
import { h, field, select, emptyState, problemBox, notice, table, when, fill } from '../dom.js';
import { t } from '../i18n.js';
import { has } from '../roles.js';

const ORG_ROLES = ['org_admin', 'steward', 'clerk', 'approver', 'inspector', 'dispatcher', 'monitor'];
const PLATFORM_ROLES = ['sysadmin', 'secadmin', 'auditor'];

export async function orgs(ctx) {
  const page = await api('GET', '/api/v1/orgs', { query: { limit: 1000 } });
  return h('section', {}, h('h1', {}, t('orgs_title')),
    page.items.length
      ? table(t('orgs_title'), [t('col_code'), t('col_name'), t('col_level'), t('col_region')],
        page.items.map((o) => [o.code, o.name, o.level ? t(`level_${o.level}`) : '—', o.region_code || '—']))
      : emptyState(t('orgs_empty')));
}

/** The org a new user or client may belong to: any for a security admin, else one's own. */
async function orgChoice(me) {
  if (has(me, 'secadmin')) {
    const all = await listAll('/api/v1/orgs', {}, 5000);
    return select('org_code', all.map((o) => [o.code, o.name]), me.org_code);
  }
  return select('org_code', [[me.org_code, me.org_code]], me.org_code);
}

/** Shows a secret once, with the warning that it will not be shown again. */
function secretOnce(title, label, value) {
  return h('div', { class: 'notice ok', role: 'status' },
    h('p', {}, h('strong', {}, title)),
    h('p', {}, `${label}：`, h('code', { class: 'mono secret' }, value)),
    h('p', { class: 'small' }, t('secret_once')));
}

export async function users(ctx) {
  const { me } = ctx;
  const page = await api('GET', '/api/v1/users', { query: { limit: 1000 } });
  const status = h('div', { 'aria-live': 'polite' });
  const username = h('input', { name: 'username', required: true, maxlength: 64, pattern: '[a-z][a-z0-9._-]{2,63}', autocomplete: 'off' });
  const display = h('input', { name: 'display_name', required: true, maxlength: 256 });
  const org = await orgChoice(me);
  const roleNames = has(me, 'secadmin') ? [...ORG_ROLES, ...PLATFORM_ROLES] : ORG_ROLES;
  const boxes = roleNames.map((r) => h('input', { type: 'checkbox', name: 'roles', value: r, id: `role-${r}` }));
  const submit = h('button', { type: 'submit', class: 'primary' }, t('user_create'));
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, t('user_create')),
    h('div', { class: 'grid' }, field(t('username'), username, t('username_hint')), field(t('col_name'), display), field(t('col_org'), org)),
    h('fieldset', {}, h('legend', {}, t('col_roles')),
      roleNames.map((r, i) => h('div', { class: 'check' }, boxes[i], h('label', { for: boxes[i].id }, t(`role_${r}`))))),
    h('p', { class: 'hint' }, t('roles_hint')), status, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    const body = { username: username.value.trim(), display_name: display.value.trim(), org_code: org.value,
      roles: boxes.filter((b) => b.checked).map((b) => b.value) };
    const missing = [];
    if (!body.username) missing.push(t('username'));
    if (!body.display_name) missing.push(t('col_name'));
    if (!body.roles.length) missing.push(t('col_roles'));
    if (missing.length) {
      fill(status, problemBox({ problem: { title: t('form_incomplete'), detail: t('form_missing', { fields: missing.join(t('list_sep')) }) } }));
      return;
    }
    submit.disabled = true;
    try {
      const made = await api('POST', '/api/v1/users', { body });
      form.reset();
      fill(status, secretOnce(t('user_created', { name: made.username }), t('user_first_password'), made.password));
    } catch (e) { fill(status, problemBox(e)); } finally { submit.disabled = false; }
  });
  return h('section', {}, h('h1', {}, t('users_title')),
    form,
    page.items.length
      ? table(t('users_title'), [t('username'), t('col_name'), t('col_org'), t('col_roles'), t('col_status')],
        page.items.map((u) => [u.username, u.display_name, u.org_code, (u.roles || []).map((r) => t(`role_${r}`)).join(t('list_sep')),
          t(`user_${u.status}`)]))
      : emptyState(t('users_empty')));
}

export async function clients(ctx) {
  const { me } = ctx;
  const page = await api('GET', '/api/v1/clients', { query: { limit: 1000 } });
  const status = h('div', { 'aria-live': 'polite' });
  const org = await orgChoice(me);
  const name = h('input', { name: 'name', required: true, maxlength: 48, pattern: '[a-z0-9][a-z0-9-]{0,47}', autocomplete: 'off' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('client_create'));
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, t('client_create')),
    h('div', { class: 'grid' }, field(t('col_org'), org), field(t('client_name'), name, t('client_name_hint'))), status, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    if (!name.value.trim()) {
      fill(status, problemBox({ problem: { title: t('form_incomplete'), detail: t('form_missing', { fields: t('client_name') }) } }));
      name.focus();
      return;
    }
    submit.disabled = true;
    try {
      const made = await api('POST', '/api/v1/clients', { body: { org_code: org.value, name: name.value.trim() } });
      form.reset();
      fill(status, secretOnce(t('client_created', { id: made.id }), t('client_secret'), made.secret));
    } catch (e) { fill(status, problemBox(e)); } finally { submit.disabled = false; }
  });
  const listStatus = h('div', { 'aria-live': 'polite' });
  const revoke = (c) => {
    if (c.status !== 'active') return '—';
    const b = h('button', { type: 'button', class: 'danger', 'aria-label': t('client_revoke_of', { id: c.id }) }, t('revoke'));
    b.addEventListener('click', async () => {
      if (!window.confirm(t('client_revoke_confirm', { id: c.id }))) return;
      b.disabled = true;
      try {
        const [orgCode, clientName] = c.id.split('/');
        await api('DELETE', `/api/v1/clients/${encodeURIComponent(orgCode)}/${encodeURIComponent(clientName)}`);
        ctx.reload();
      } catch (e) { fill(listStatus, problemBox(e)); } finally { b.disabled = false; }
    });
    return b;
  };
  return h('section', {}, h('h1', {}, t('clients_title')),
    form, listStatus,
    page.items.length
      ? table(t('clients_title'), [t('col_client'), t('col_name'), t('col_org'), t('col_status'), t('col_created'), t('clients_last_used'), t('col_action_taken')],
        page.items.map((c) => [c.id, c.name, c.org_code, t(`client_${c.status}`), when(c.created_at, ctx.lang),
          when(c.last_used_at, ctx.lang), revoke(c)]))
      : emptyState(t('clients_empty'), t('clients_empty_next')));
}
