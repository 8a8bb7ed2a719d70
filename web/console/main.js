// The console's shell: who is signed in, the navigation they may use, the
// language switch, and a hash router that loads each page's module.
//
// A page module exports functions page(ctx) → Node; ctx = {me, lang, params,
// query, go(route), reload(), refreshMe(), afterSignIn(), setMe(me)}. Routes are matched in order; a
// route with `allowed` is offered in the navigation (and opened) only when
// allowed(me) says so.
import { api } from './api.js';
import { h, fill, problemBox, link } from './dom.js';
import { t, lang, setLang, LANGS } from './i18n.js';
import { can } from './roles.js';

const ROUTES = [
  { path: /^\/signin$/, module: 'signin', fn: 'signIn', public: true },
  { path: /^\/password$/, module: 'signin', fn: 'changePassword', during_change: true },
  { path: /^\/$/, module: 'home', fn: 'home' },
  { path: /^\/account$/, module: 'account', fn: 'account' },
  { path: /^\/catalog$/, module: 'catalog', fn: 'catalog', nav: 'nav_catalog', href: '/catalog', allowed: can.readCatalog },
  { path: /^\/resources\/new$/, module: 'resource', fn: 'create', allowed: can.createResource },
  { path: /^\/resources\/([^/]+)$/, module: 'resource', fn: 'detail', params: ['code'] },
  { path: /^\/resources\/([^/]+)\/edit$/, module: 'resource', fn: 'edit', params: ['code'] },
  { path: /^\/resources\/([^/]+)\/import$/, module: 'importer', fn: 'importPage', params: ['code'] },
  { path: /^\/resources\/([^/]+)\/records$/, module: 'records', fn: 'lookup', params: ['code'] },
  { path: /^\/resources\/([^/]+)\/request$/, module: 'sharing', fn: 'fileRequest', params: ['code'] },
  { path: /^\/requests$/, module: 'sharing', fn: 'requests', nav: 'nav_requests', href: '/requests', allowed: can.readSharing },
  { path: /^\/requests\/([^/]+)$/, module: 'sharing', fn: 'request', params: ['id'], allowed: can.readSharing },
  { path: /^\/grants$/, module: 'sharing', fn: 'grants', nav: 'nav_grants', href: '/grants', allowed: can.readSharing },
  { path: /^\/subscriptions$/, module: 'subscriptions', fn: 'subscriptions', nav: 'nav_subscriptions', href: '/subscriptions', allowed: can.readSubscriptions },
  { path: /^\/subscriptions\/([^/]+)$/, module: 'subscriptions', fn: 'subscription', params: ['id'], allowed: can.readSubscriptions },
  { path: /^\/objections$/, module: 'objections', fn: 'objections', nav: 'nav_objections', href: '/objections', allowed: can.readObjections },
  { path: /^\/conflicts$/, module: 'objections', fn: 'conflicts', nav: 'nav_conflicts', href: '/conflicts', allowed: can.readConflicts },
  { path: /^\/services$/, module: 'services', fn: 'directory', nav: 'nav_services', href: '/services', allowed: can.readServices },
  { path: /^\/services\/new$/, module: 'services', fn: 'register', allowed: can.registerService },
  { path: /^\/services\/(SV\d+)$/, module: 'services', fn: 'service', params: ['id'], allowed: can.readServices },
  { path: /^\/services\/(SV\d+)\/openapi$/, module: 'services', fn: 'openapi', params: ['id'], allowed: can.readServices },
  { path: /^\/services\/(SV\d+)\/stats$/, module: 'services', fn: 'stats', params: ['id'], allowed: can.readServices },
  { path: /^\/services\/(SV\d+)\/calls\/([^/]+)$/, module: 'services', fn: 'call', params: ['id', 'call'], allowed: can.readServiceCalls },
  { path: /^\/audit$/, module: 'audit', fn: 'events', nav: 'nav_audit', href: '/audit', allowed: can.readAudit },
  { path: /^\/audit\/(\d+)$/, module: 'audit', fn: 'entry', params: ['seq'], allowed: can.readAudit },
  { path: /^\/elements$/, module: 'elements', fn: 'elements', nav: 'nav_elements', href: '/elements', allowed: can.readElements },
  { path: /^\/elements\/([^/]+)$/, module: 'elements', fn: 'element', params: ['id'], allowed: can.readElements },
  { path: /^\/orgs$/, module: 'registry', fn: 'orgs', nav: 'nav_orgs', href: '/orgs', allowed: can.readOrgs },
  { path: /^\/orgs\/([^/]+)$/, module: 'registry', fn: 'org', params: ['code'], allowed: can.readOrgs },
  { path: /^\/users$/, module: 'registry', fn: 'users', nav: 'nav_users', href: '/users', allowed: can.readUsers },
  { path: /^\/users\/([^/]+)$/, module: 'registry', fn: 'user', params: ['username'], allowed: can.readUsers },
  { path: /^\/clients$/, module: 'registry', fn: 'clients', nav: 'nav_clients', href: '/clients', allowed: can.readClients },
  { path: /^\/backups$/, module: 'backups', fn: 'backups', nav: 'nav_backups', href: '/backups', allowed: can.manageBackups },
];

const state = { me: null };
const main = () => document.getElementById('main');

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/'; // path parameters and the query are decoded where read
  const [path, qs = ''] = raw.split('?');
  return { path, query: Object.fromEntries(new URLSearchParams(qs)) };
}

export function go(route) {
  if (location.hash === `#${route}`) render();
  else location.hash = route;
}

async function refreshMe() {
  try {
    state.me = await api('GET', '/api/v1/auth/me');
    if (state.me.kind !== 'user') state.me = null;
  } catch (e) {
    state.me = null;
    if (e.code === 'password_change_required') {
      // Only the password change is open to this session; who it is was kept at sign-in.
      const username = sessionStorage.getItem('yw_user');
      if (username) state.me = { kind: 'user', username, display_name: username, roles: [], must_change_password: true };
    } else if (e.status !== 401) {
      throw e;
    }
  }
  if (state.me) sessionStorage.setItem('yw_user', state.me.username);
  return state.me;
}

/** Where to go after signing in: the page that asked for it, else home. */
export function afterSignIn() {
  const next = sessionStorage.getItem('yw_next');
  sessionStorage.removeItem('yw_next');
  return next && next.startsWith('/') && !next.startsWith('/signin') && !next.startsWith('/password') ? next : '/';
}

function rememberPage() {
  const { path, query } = parseHash();
  if (path === '/signin' || path === '/password') return;
  const qs = new URLSearchParams(query).toString();
  sessionStorage.setItem('yw_next', qs ? `${path}?${qs}` : path);
}

function renderChrome(current) {
  document.documentElement.lang = lang();
  document.getElementById('skip-link').textContent = t('skip_to_main');
  const brand = document.getElementById('brand');
  brand.textContent = t('brand');
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('nav_label'));
  const me = state.me;
  const items = me && !me.must_change_password
    ? [{ route: '/', label: t('nav_home') }, ...ROUTES.filter((r) => r.nav && r.allowed(me))
      .map((r) => ({ route: r.href, label: t(r.nav) }))]
    : [];
  fill(nav, h('ul', {}, items.map((i) => h('li', {},
    link(i.route, i.label, { 'aria-current': current === i.route || (i.route !== '/' && current.startsWith(i.route)) ? 'page' : null })))));
  const langSelect = h('select', { id: 'lang-switch', 'aria-label': t('language') },
    LANGS.map(([code, name]) => h('option', { value: code, selected: code === lang() }, name)));
  langSelect.addEventListener('change', () => { setLang(langSelect.value); render(); });
  const session = document.getElementById('session');
  fill(session,
    h('label', { for: 'lang-switch', class: 'sr-only' }, t('language')), langSelect,
    me && !me.must_change_password
      ? link('/account', `${me.display_name} · ${me.roles.map((r) => t(`role_${r}`)).join(t('list_sep'))}`, { class: 'who', title: t('account_title') })
      : null,
    me ? h('button', { type: 'button', class: 'link', id: 'sign-out', onclick: signOut }, t('sign_out')) : null);
}

async function signOut() {
  try { await api('POST', '/api/v1/auth/logout'); } catch { /* the session may already be gone */ }
  state.me = null;
  sessionStorage.removeItem('yw_user');
  sessionStorage.removeItem('yw_next');
  go('/signin');
}

let rendering = 0;
export async function render() {
  const serial = ++rendering;
  const { path, query } = parseHash();
  const route = ROUTES.find((r) => r.path.test(path));
  const el = main();
  if (!route) {
    renderChrome(path);
    fill(el, h('h1', {}, t('not_found_title')), h('p', {}, t('not_found_text')), link('/', t('nav_home')));
    return;
  }
  if (!route.public && !state.me) {
    try { await refreshMe(); } catch (e) { fill(el, problemBox(e)); return; }
    if (!state.me) { rememberPage(); go('/signin'); return; }
  }
  if (state.me && state.me.must_change_password && !route.during_change && !route.public) { go('/password'); return; }
  renderChrome(path);
  if (route.allowed && !route.allowed(state.me)) {
    fill(el, h('h1', {}, t('not_allowed_title')), h('p', {}, t('not_allowed_text')), link('/', t('nav_home')));
    return;
  }
  const m = path.match(route.path);
  const params = Object.fromEntries((route.params || []).map((name, i) => [name, decodeURIComponent(m[i + 1])]));
  fill(el, h('p', { class: 'muted', role: 'status' }, t('loading')));
  try {
    const mod = await import(`./pages/${route.module}.js`);
    const node = await mod[route.fn]({
      me: state.me, lang: lang(), params, query, go, reload: render, refreshMe, afterSignIn,
      setMe: (me) => { state.me = me; sessionStorage.setItem('yw_user', me.username); },
    });
    if (serial !== rendering) return; // a newer navigation won
    fill(el, node);
  } catch (e) {
    if (serial !== rendering) return;
    fill(el, h('h1', {}, t('error')), problemBox(e));
  }
  const h1 = el.querySelector('h1');
  document.title = `${h1 ? h1.textContent : t('brand')} · ${t('brand')}`;
  if (document.activeElement === document.body || !el.contains(document.activeElement)) el.focus({ preventScroll: true });
}

window.addEventListener('hashchange', render);
window.addEventListener('yw:signed-out', () => {
  state.me = null;
  const { path } = parseHash();
  if (path !== '/signin') { rememberPage(); go('/signin'); }
});
render();
