// The registry: departments (orgs), people (users) and department systems
// (clients). The API decides who sees which: every user sees the orgs, and
// the system admin registers and changes them; security admins see, create
// and change all users and clients, org admins those of their own org. A new
// user's password and a new client's secret are shown once, right after
// creation, and never again. An administrator's password reset makes the
// user choose a new one at the next sign-in.
import { api, listAll } from '../api.js';
import { h, field, select, emptyState, problemBox, notice, table, when, fill, link, submitting } from '../dom.js';
import { t } from '../i18n.js';
import { has, can } from '../roles.js';
import { orgs as orgNames } from './catalog.js';

const ORG_ROLES = ['org_admin', 'steward', 'clerk', 'approver', 'inspector', 'dispatcher', 'monitor'];
const PLATFORM_ROLES = ['sysadmin', 'secadmin', 'auditor'];

const LEVELS = ['province', 'city', 'district'];

/** The fields of an org, filled from org (or empty for a new one); parent choices exclude the org itself. */
function orgFields(all, org) {
  const name = h('input', { name: 'name', required: true, maxlength: 128, value: org ? org.name : '' });
  const region = h('input', { name: 'region_code', required: true, maxlength: 6, inputmode: 'numeric', pattern: '[0-9]{6}',
    value: org ? org.region_code : '' });
  const level = select('level', [['', t('choose')], ...LEVELS.map((l) => [l, t(`level_${l}`)])], org ? org.level : '');
  const parent = select('parent_code', [['', t('none')], ...all.filter((o) => !org || o.code !== org.code).map((o) => [o.code, o.name])],
    org && org.parent_code ? org.parent_code : '');
  return { name, region, level, parent };
}

/** What the form lacks, by label: empty required fields. */
function missingOf(pairs) {
  return pairs.filter(([, el]) => !el.value.trim()).map(([label]) => label);
}

function incomplete(status, missing) {
  fill(status, problemBox({ problem: { title: t('form_incomplete'), detail: t('form_missing', { fields: missing.join(t('list_sep')) }) } }));
}

export async function orgs(ctx) {
  const { me } = ctx;
  const all = await listAll('/api/v1/orgs', {}, 5000);
  const names = new Map(all.map((o) => [o.code, o.name]));
  let form = null;
  if (can.manageOrgs(me)) {
    const status = h('div', { 'aria-live': 'polite' });
    const code = h('input', { name: 'code', required: true, maxlength: 18, autocomplete: 'off', spellcheck: 'false', class: 'mono' });
    const f = orgFields(all, null);
    const legacy = h('input', { type: 'checkbox', name: 'legacy_code', id: 'org-legacy' });
    const submit = h('button', { type: 'submit', class: 'primary' }, t('org_create'));
    form = h('form', { class: 'card', novalidate: true },
      h('h2', {}, t('org_create')),
      h('div', { class: 'grid' },
        field(t('org_code'), code, t('org_code_hint')), field(t('col_name'), f.name),
        field(t('col_region'), f.region, t('org_region_hint')), field(t('col_level'), f.level),
        field(t('org_parent'), f.parent, t('org_parent_hint'))),
      h('div', { class: 'check' }, legacy, h('label', { for: legacy.id }, t('org_legacy'))),
      h('p', { class: 'hint' }, t('org_legacy_hint')), status, submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      fill(status);
      const missing = missingOf([[t('org_code'), code], [t('col_name'), f.name], [t('col_region'), f.region], [t('col_level'), f.level]]);
      if (missing.length) { incomplete(status, missing); return; }
      const body = { code: code.value.trim().toUpperCase(), name: f.name.value.trim(), region_code: f.region.value.trim(), level: f.level.value };
      if (f.parent.value) body.parent_code = f.parent.value;
      if (legacy.checked) body.legacy_code = true;
      await submitting(submit, status, async () => {
        const made = await api('POST', '/api/v1/orgs', { body });
        ctx.go(`/orgs/${encodeURIComponent(made.code)}?created=1`);
      });
    });
  }
  return h('section', {}, h('h1', {}, t('orgs_title')),
    form,
    all.length
      ? table(t('orgs_title'), [t('col_code'), t('col_name'), t('col_level'), t('col_region'), t('org_parent'), t('col_status')],
        all.map((o) => [link(`/orgs/${encodeURIComponent(o.code)}`, o.code, { class: 'mono' }), o.name,
          o.level ? t(`level_${o.level}`) : '—', o.region_code || '—',
          o.parent_code ? names.get(o.parent_code) || o.parent_code : '—', t(`org_${o.status || 'active'}`)]))
      : emptyState(t('orgs_empty'), can.manageOrgs(me) ? t('orgs_empty_next') : null));
}

export async function org(ctx) {
  const { me } = ctx;
  const o = await api('GET', `/api/v1/orgs/${encodeURIComponent(ctx.params.code)}`);
  const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value ?? '—')];
  let editor = null;
  if (can.manageOrgs(me)) {
    const all = await listAll('/api/v1/orgs', {}, 5000);
    const status = h('div', { 'aria-live': 'polite' });
    const f = orgFields(all, o);
    const state = select('status', [['active', t('org_active')], ['inactive', t('org_inactive')]], o.status);
    const submit = h('button', { type: 'submit', class: 'primary' }, t('save'));
    editor = h('form', { class: 'card', novalidate: true },
      h('h2', {}, t('org_edit')),
      h('div', { class: 'grid' },
        field(t('col_name'), f.name), field(t('col_region'), f.region, t('org_region_hint')), field(t('col_level'), f.level),
        field(t('org_parent'), f.parent, t('org_parent_keep')), field(t('col_status'), state, t('org_status_hint'))),
      status, submit);
    editor.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      fill(status);
      const missing = missingOf([[t('col_name'), f.name], [t('col_region'), f.region], [t('col_level'), f.level]]);
      if (missing.length) { incomplete(status, missing); return; }
      // Only what changed is sent; a parent cannot be cleared once set.
      const body = {};
      if (f.name.value.trim() !== o.name) body.name = f.name.value.trim();
      if (f.region.value.trim() !== o.region_code) body.region_code = f.region.value.trim();
      if (f.level.value !== o.level) body.level = f.level.value;
      if (f.parent.value && f.parent.value !== o.parent_code) body.parent_code = f.parent.value;
      if (state.value !== o.status) body.status = state.value;
      if (!Object.keys(body).length) { fill(status, notice(t('nothing_changed'), 'info')); return; }
      await submitting(submit, status, async () => {
        await api('PATCH', `/api/v1/orgs/${encodeURIComponent(o.code)}`, { body });
        ctx.go(`/orgs/${encodeURIComponent(o.code)}?saved=1`);
      });
    });
  }
  return h('section', {},
    h('p', { class: 'crumbs' }, link('/orgs', t('nav_orgs'))),
    h('h1', {}, o.name),
    ctx.query.created ? notice(t('org_created', { name: o.name }), 'ok') : null,
    ctx.query.saved ? notice(t('saved'), 'ok') : null,
    h('dl', { class: 'facts card' },
      fact(t('org_code'), h('span', { class: 'mono' }, o.code)),
      fact(t('col_level'), t(`level_${o.level}`)), fact(t('col_region'), o.region_code),
      fact(t('org_parent'), o.parent_code ? link(`/orgs/${encodeURIComponent(o.parent_code)}`, o.parent_code) : '—'),
      fact(t('col_status'), t(`org_${o.status}`)),
      o.legacy_code ? fact(t('org_legacy'), t('yes')) : null,
      fact(t('col_updated'), when(o.updated_at, ctx.lang))),
    editor);
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
export function secretOnce(title, label, value) {
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
    await submitting(submit, status, async () => {
      const made = await api('POST', '/api/v1/users', { body });
      form.reset();
      fill(status, secretOnce(t('user_created', { name: made.username }), t('user_first_password'), made.password));
    });
  });
  return h('section', {}, h('h1', {}, t('users_title')),
    form,
    page.items.length
      ? table(t('users_title'), [t('username'), t('col_name'), t('col_org'), t('col_roles'), t('col_status')],
        page.items.map((u) => [can.editUser(me, u) ? link(`/users/${encodeURIComponent(u.username)}`, u.username) : u.username, u.display_name, u.org_code, (u.roles || []).map((r) => t(`role_${r}`)).join(t('list_sep')),
          t(`user_${u.status}`)]))
      : emptyState(t('users_empty')));
}

/** One account: its name, roles and status changed, and its password reset by an administrator. */
export async function user(ctx) {
  const { me } = ctx;
  const [u, names] = await Promise.all([api('GET', `/api/v1/users/${encodeURIComponent(ctx.params.username)}`), orgNames()]);
  const back = h('p', { class: 'crumbs' }, link('/users', t('nav_users')));
  const facts = h('dl', { class: 'facts card' },
    h('dt', {}, t('username')), h('dd', { class: 'mono' }, u.username),
    h('dt', {}, t('col_org')), h('dd', {}, link(`/orgs/${encodeURIComponent(u.org_code)}`, names.get(u.org_code) || u.org_code)),
    h('dt', {}, t('col_roles')), h('dd', {}, (u.roles || []).map((r) => t(`role_${r}`)).join(t('list_sep')) || '—'),
    h('dt', {}, t('col_status')), h('dd', {}, t(`user_${u.status}`)),
    u.must_change_password ? [h('dt', {}, t('password')), h('dd', {}, t('user_must_change'))] : null);
  if (!can.editUser(me, u)) {
    return h('section', {}, back, h('h1', {}, u.display_name), facts, notice(t('user_not_yours'), 'info'));
  }
  const access = can.editUserAccess(me, u);
  const status = h('div', { 'aria-live': 'polite' });
  const display = h('input', { name: 'display_name', required: true, maxlength: 256, value: u.display_name });
  const roleNames = has(me, 'secadmin') ? [...ORG_ROLES, ...PLATFORM_ROLES] : ORG_ROLES;
  const boxes = roleNames.map((r) => h('input', { type: 'checkbox', name: 'roles', value: r, id: `edit-role-${r}`, checked: (u.roles || []).includes(r) }));
  const state = select('status', [['active', t('user_active')], ['disabled', t('user_disabled')]], u.status);
  const submit = h('button', { type: 'submit', class: 'primary' }, t('save'));
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, t('user_edit')),
    h('div', { class: 'grid' }, field(t('col_name'), display),
      access ? field(t('col_status'), state, t('user_status_hint')) : null),
    access
      ? [h('fieldset', {}, h('legend', {}, t('col_roles')),
        roleNames.map((r, i) => h('div', { class: 'check' }, boxes[i], h('label', { for: boxes[i].id }, t(`role_${r}`))))),
      h('p', { class: 'hint' }, t('roles_hint'))]
      : h('p', { class: 'hint' }, t('user_self_hint')),
    status, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    const body = {};
    const name = display.value.trim();
    if (!name) { incomplete(status, [t('col_name')]); display.focus(); return; }
    if (name !== u.display_name) body.display_name = name;
    if (access) {
      const roles = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!roles.length) { incomplete(status, [t('col_roles')]); return; }
      if (roles.join() !== [...(u.roles || [])].sort((a, b) => roleNames.indexOf(a) - roleNames.indexOf(b)).join()) body.roles = roles;
      if (state.value !== u.status) body.status = state.value;
    }
    if (!Object.keys(body).length) { fill(status, notice(t('nothing_changed'), 'info')); return; }
    await submitting(submit, status, async () => {
      await api('PATCH', `/api/v1/users/${encodeURIComponent(u.username)}`, { body });
      ctx.go(`/users/${encodeURIComponent(u.username)}?saved=1`);
    });
  });
  let reset = null;
  if (access) {
    const resetStatus = h('div', { 'aria-live': 'polite' });
    const pw = h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password', maxlength: 256 });
    const again = h('input', { type: 'password', name: 'new_password_again', autocomplete: 'new-password', maxlength: 256 });
    const send = h('button', { type: 'submit', class: 'danger' }, t('user_reset_password'));
    reset = h('form', { class: 'card', novalidate: true },
      h('h2', {}, t('user_reset_password')),
      h('p', {}, t('user_reset_intro')),
      h('div', { class: 'grid' }, field(t('password_new'), pw, t('password_rules')), field(t('password_again'), again)),
      resetStatus, send);
    reset.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      fill(resetStatus);
      if (!pw.value) {
        fill(resetStatus, problemBox({ problem: { title: t('form_incomplete'), detail: t('form_missing', { fields: t('password_new') }) } }));
        pw.focus();
        return;
      }
      if (pw.value !== again.value) {
        fill(resetStatus, problemBox({ problem: { title: t('password_mismatch'), detail: t('password_mismatch_detail') } }));
        again.focus();
        return;
      }
      send.disabled = true;
      try {
        await api('POST', `/api/v1/users/${encodeURIComponent(u.username)}/password`, { body: { new_password: pw.value } });
        reset.reset();
        fill(resetStatus, notice(t('user_password_reset', { name: u.username }), 'ok'));
      } catch (e) { fill(resetStatus, problemBox(e)); } finally { send.disabled = false; }
    });
  }
  return h('section', {}, back,
    h('h1', {}, u.display_name),
    ctx.query.saved ? notice(t('saved'), 'ok') : null,
    facts, form, reset);
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
    await submitting(submit, status, async () => {
      const made = await api('POST', '/api/v1/clients', { body: { org_code: org.value, name: name.value.trim() } });
      form.reset();
      fill(status, secretOnce(t('client_created', { id: made.id }), t('client_secret'), made.secret));
    });
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
