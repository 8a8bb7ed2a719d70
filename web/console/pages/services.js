// Unified access (统一接入, docs/access.md): the directory of registered
// services (all, or what the user's department may call), one service with
// its operations, health, call address and how to get the right to call it,
// its OpenAPI document, registering a service, and for the provider's people
// and the data bureau its statistics and calls; one call with its audit
// entry's inclusion proof verified in the browser (proofcheck.js).
import { api, listAll } from '../api.js';
import { h, field, select, link, emptyState, problemBox, notice, table, when, fill, actionButton, submitting } from '../dom.js';
import { t } from '../i18n.js';
import { can } from '../roles.js';
import { orgs } from './catalog.js';
import { proofVerifier, entryFacts } from '../proofcheck.js';

const MAX_OPENAPI_BYTES = 2 * 1024 * 1024; // the server's limit (ServiceCreate.openapi)

function healthBadge(health) {
  const cls = health.status === 'down' ? 'badge bad' : `badge health-${health.status}`;
  return h('span', { class: cls }, t(`svc_health_${health.status}`));
}

const servicePath = (id) => `/api/v1/services/${encodeURIComponent(id)}`;

export async function directory(ctx) {
  const { query, me } = ctx;
  const names = await orgs();
  const callable = query.callable === 'true';
  const provider = select('provider', [['', t('any')], ...[...names].map(([code, name]) => [code, name])], query.provider || '');
  provider.addEventListener('change', () => {
    const params = new URLSearchParams();
    if (callable) params.set('callable', 'true');
    if (provider.value) params.set('provider', provider.value);
    ctx.go(`/services${[...params].length ? `?${params}` : ''}`);
  });
  const items = await listAll('/api/v1/services', { provider: query.provider, callable: callable ? 'true' : undefined }, 2000);
  const keep = (extra) => {
    const params = new URLSearchParams(extra);
    if (query.provider) params.set('provider', query.provider);
    return `/services${[...params].length ? `?${params}` : ''}`;
  };
  const tabs = [[keep({}), t('svc_all'), !callable], [keep({ callable: 'true' }), t('svc_callable'), callable]];
  let list;
  if (items.length) {
    list = table(callable ? t('svc_callable') : t('svc_title'),
      [t('svc_code'), t('col_name'), t('col_provider'), t('svc_operations'), t('svc_health')],
      items.map((s) => [link(`/services/${s.id}`, s.code, { 'aria-label': t('svc_open', { code: s.code, name: s.name }) }), s.name,
        names.get(s.provider_org) || s.provider_org, s.operations.length ? String(s.operations.length) : t('svc_whole_only'),
        healthBadge(s.health)]));
  } else if (callable) {
    list = emptyState(t('svc_callable_empty'), h('span', {}, t('svc_callable_empty_next'), ' ', link(keep({}), t('svc_all'))));
  } else if (query.provider) {
    list = emptyState(t('svc_provider_empty'), link('/services', t('clear')));
  } else {
    list = emptyState(t('svc_empty'), can.registerService(me) ? link('/services/new', t('svc_register')) : t('svc_empty_next'));
  }
  return h('section', {},
    h('div', { class: 'title-row' }, h('h1', {}, t('svc_title')),
      can.registerService(me) ? link('/services/new', t('svc_register'), { class: 'button primary' }) : null),
    h('p', { class: 'muted' }, t('svc_intro')),
    h('nav', { class: 'tabs', 'aria-label': t('svc_title') }, tabs.map(([route, label, current]) =>
      link(route, label, { 'aria-current': current ? 'page' : null }))),
    h('div', { class: 'filters' }, field(t('col_provider'), provider)),
    list);
}

/** How the user's department gets the right to call svc (res: its resource, or null when it cannot be read). */
function rightToCall(ctx, svc, res) {
  const { me } = ctx;
  if (svc.provider_org === me.org_code) return h('p', {}, t('svc_right_own'));
  const parts = [h('p', {}, t('svc_right_intro', { resource: svc.resource }))];
  if (res && can.requestShare(me, res)) {
    parts.push(h('p', {}, link(`/resources/${encodeURIComponent(res.code)}/request`, t('svc_request_right'), { class: 'button primary' })));
  } else if (res && res.status !== 'published') {
    parts.push(h('p', { class: 'muted' }, t('svc_right_unpublished')));
  } else {
    parts.push(h('p', { class: 'muted' }, t('svc_right_ask_steward')));
  }
  parts.push(h('p', { class: 'small muted' }, t('svc_right_items')));
  return parts;
}

export async function service(ctx) {
  const { me } = ctx;
  const [svc, names] = await Promise.all([api('GET', servicePath(ctx.params.id)), orgs()]);
  const res = await api('GET', `/api/v1/resources/${encodeURIComponent(svc.resource)}`).catch(() => null);
  const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value ?? '—')];
  const address = `${location.origin}${svc.call_path}/…`;
  const monitor = can.monitorService(me, svc);
  const calls = can.readServiceCalls(me);
  return h('section', {},
    h('p', { class: 'crumbs' }, link('/services', t('nav_services'))),
    h('div', { class: 'title-row' }, h('h1', {}, svc.name), healthBadge(svc.health)),
    svc.health.status === 'down' ? notice(t('svc_down_notice'), 'bad') : null,
    h('dl', { class: 'facts card' },
      fact(t('svc_code'), h('span', { class: 'mono' }, svc.code)),
      fact(t('col_provider'), names.get(svc.provider_org) || svc.provider_org),
      fact(t('svc_description'), svc.description || '—'),
      fact(t('svc_call_address'), h('code', { class: 'mono', id: 'call-address' }, address)),
      svc.base_url ? fact(t('svc_base_url'), h('span', { class: 'mono' }, svc.base_url)) : null,
      fact(t('svc_health'), [healthBadge(svc.health), ' ', t('svc_checked_at', { time: when(svc.health.checked_at, ctx.lang) })]),
      fact(t('svc_health_path'), h('span', { class: 'mono' }, svc.health_path)),
      fact(t('svc_resource'), link(`/resources/${encodeURIComponent(svc.resource)}`, res ? `${res.name} (${svc.resource})` : svc.resource)),
      fact(t('svc_registered'), `${svc.created_by} · ${when(svc.created_at, ctx.lang)}`),
      fact(t('svc_openapi'), svc.has_openapi ? link(`/services/${svc.id}/openapi`, t('svc_openapi_view')) : t('svc_openapi_none'))),
    h('h2', {}, t('svc_operations')),
    svc.operations.length
      ? table(t('svc_operations'), [t('svc_op_name'), t('svc_op_method'), t('svc_op_path')],
        svc.operations.map((o) => [h('span', { class: 'mono' }, o.name), o.method, h('span', { class: 'mono' }, o.path)]))
      : emptyState(t('svc_operations_empty')),
    h('section', { class: 'card', 'aria-labelledby': 'right-title' }, h('h2', { id: 'right-title' }, t('svc_right_title')),
      rightToCall(ctx, svc, res),
      h('p', { class: 'small muted' }, t('svc_call_how', { path: svc.call_path }))),
    monitor || calls
      ? h('p', {}, link(`/services/${svc.id}/stats`, monitor ? t('svc_stats_open') : t('svc_calls_open'), { class: 'button' }))
      : null);
}

export async function openapi(ctx) {
  const svc = await api('GET', servicePath(ctx.params.id));
  const back = h('p', { class: 'crumbs' }, link('/services', t('nav_services')), ' › ', link(`/services/${svc.id}`, svc.name));
  if (!svc.has_openapi) {
    return h('section', {}, back, h('h1', {}, t('svc_openapi_title', { name: svc.name })), emptyState(t('svc_openapi_none'), t('svc_openapi_none_next')));
  }
  const doc = await api('GET', `${servicePath(svc.id)}/openapi`);
  return h('section', {}, back,
    h('h1', {}, t('svc_openapi_title', { name: svc.name })),
    h('pre', { class: 'entry mono', id: 'openapi-doc', tabindex: 0, 'aria-label': t('svc_openapi_title', { name: svc.name }) },
      JSON.stringify(doc, null, 2)));
}

export async function register(ctx) {
  const { me } = ctx;
  const ownResources = (await listAll('/api/v1/resources', { provider: me.org_code }, 5000)).filter((r) => r.format === 'api');
  const back = h('p', { class: 'crumbs' }, link('/services', t('nav_services')));
  if (!ownResources.length) {
    return h('section', {}, back, h('h1', {}, t('svc_register')),
      emptyState(t('svc_no_api_resource'), h('span', {}, t('svc_no_api_resource_next'), ' ', link('/resources/new', t('resource_new')))));
  }
  const code = h('input', { name: 'code', maxlength: 64, required: true, pattern: '[a-z0-9][a-z0-9_\\-]{0,63}', autocomplete: 'off' });
  const name = h('input', { name: 'name', maxlength: 600, required: true });
  const baseUrl = h('input', { name: 'base_url', type: 'url', maxlength: 500, required: true, placeholder: 'https://', autocomplete: 'off' });
  const description = h('textarea', { name: 'description', rows: 3, maxlength: 12000 });
  const healthPath = h('input', { name: 'health_path', maxlength: 500, value: '/', autocomplete: 'off' });
  const resource = select('resource', ownResources.map((r) => [r.code, `${r.name} (${r.code})`]), ownResources[0].code);
  const doc = h('textarea', { name: 'openapi', rows: 8, class: 'mono', spellcheck: 'false' });
  const file = h('input', { type: 'file', name: 'openapi_file', accept: '.json,application/json' });
  const status = h('div', { 'aria-live': 'polite' });
  file.addEventListener('change', async () => {
    fill(status);
    const f = file.files[0];
    if (!f) return;
    if (f.size > MAX_OPENAPI_BYTES) {
      fill(status, problemBox({ problem: { title: t('svc_openapi_bad'), detail: t('svc_openapi_too_large') } }));
      return;
    }
    doc.value = await f.text();
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('svc_register_send'));
  const form = h('form', { class: 'card', novalidate: true },
    field(t('svc_code'), code, t('svc_code_hint')), field(t('col_name'), name),
    field(t('svc_base_url'), baseUrl, t('svc_base_url_hint')), field(t('svc_description'), description),
    field(t('svc_health_path'), healthPath, t('svc_health_path_hint')),
    field(t('svc_resource'), resource, t('svc_resource_hint')),
    field(t('svc_openapi_paste'), doc, t('svc_openapi_hint')), field(t('svc_openapi_file'), file),
    status, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    const body = { code: code.value.trim(), name: name.value.trim(), base_url: baseUrl.value.trim(), resource: resource.value };
    const missing = [];
    if (!body.code) missing.push(t('svc_code'));
    if (!body.name) missing.push(t('col_name'));
    if (!body.base_url) missing.push(t('svc_base_url'));
    if (missing.length) {
      fill(status, problemBox({ problem: { title: t('form_incomplete'), detail: t('form_missing', { fields: missing.join(t('list_sep')) }) } }));
      return;
    }
    if (description.value.trim()) body.description = description.value.trim();
    if (healthPath.value.trim()) body.health_path = healthPath.value.trim();
    if (doc.value.trim()) {
      if (new Blob([doc.value]).size > MAX_OPENAPI_BYTES) {
        fill(status, problemBox({ problem: { title: t('svc_openapi_bad'), detail: t('svc_openapi_too_large') } }));
        return;
      }
      try {
        body.openapi = JSON.parse(doc.value);
      } catch (e) {
        fill(status, problemBox({ problem: { title: t('svc_openapi_bad'), detail: t('svc_openapi_not_json', { why: e.message }) } }));
        doc.focus();
        return;
      }
      if (!body.openapi || typeof body.openapi !== 'object' || Array.isArray(body.openapi)) {
        fill(status, problemBox({ problem: { title: t('svc_openapi_bad'), detail: t('svc_openapi_not_object') } }));
        return;
      }
    }
    await submitting(submit, status, async () => {
      const made = await api('POST', '/api/v1/services', { body });
      ctx.go(`/services/${made.id}`);
    });
  });
  return h('section', {}, back, h('h1', {}, t('svc_register')), h('p', { class: 'muted' }, t('svc_register_intro')), form);
}

const SINCE = [['1h', 3600e3], ['24h', 86400e3], ['7d', 7 * 86400e3], ['30d', 30 * 86400e3]];

const bytes = (n) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);
const ms = (n) => (n === null || n === undefined ? '—' : `${n} ms`);

function figuresRow(label, f) {
  return [label, String(f.calls), String(f.errors), ms(f.latency_ms.p50), ms(f.latency_ms.p90), ms(f.latency_ms.p99),
    ms(f.latency_ms.max), bytes(f.request_bytes), bytes(f.response_bytes)];
}

async function statsCard(ctx, svc, names) {
  const since = SINCE.find(([k]) => k === ctx.query.since) ? ctx.query.since : '24h';
  const choice = select('since', SINCE.map(([k]) => [k, t(`svc_since_${k}`)]), since);
  choice.addEventListener('change', () => ctx.go(`/services/${svc.id}/stats?since=${choice.value}`));
  const from = new Date(Date.now() - SINCE.find(([k]) => k === since)[1]).toISOString();
  let body;
  try {
    const s = await api('GET', `${servicePath(svc.id)}/stats`, { query: { since: from } });
    const columns = [t('col_consumer'), t('svc_calls'), t('svc_errors'), 'p50', 'p90', 'p99', t('svc_max'), t('svc_bytes_in'), t('svc_bytes_out')];
    body = s.total.calls
      ? [h('ul', { class: 'counts', id: 'stats-total' },
        h('li', {}, t('svc_total_calls', { n: s.total.calls })),
        h('li', { class: s.total.errors ? 'bad' : 'ok' }, t('svc_total_errors', { n: s.total.errors })),
        h('li', {}, t('svc_total_p50', { ms: ms(s.total.latency_ms.p50) }))),
      table(t('svc_per_consumer'), columns, [
        ...s.consumers.map((c) => figuresRow(names.get(c.consumer_org) || c.consumer_org, c)),
        figuresRow(t('svc_all_consumers'), s.total)])]
      : emptyState(t('svc_stats_empty'), t('svc_stats_empty_next'));
  } catch (e) {
    body = problemBox(e);
  }
  return h('section', { class: 'card', 'aria-labelledby': 'stats-title' }, h('h2', { id: 'stats-title' }, t('svc_stats_title')),
    h('div', { class: 'filters' }, field(t('svc_since'), choice)), body);
}

const CALLS_PAGE = 100;

function callsCard(ctx, svc, names) {
  const rows = [];
  const results = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true }, t('more'));
  let cursor = null;
  async function loadPage() {
    try {
      const page = await api('GET', `${servicePath(svc.id)}/calls`, { query: { limit: CALLS_PAGE, cursor } });
      cursor = page.next_cursor;
      for (const c of page.items) {
        rows.push([link(`/services/${svc.id}/calls/${encodeURIComponent(c.id)}`, c.id, { 'aria-label': t('svc_call_open', { id: c.id }) }),
          when(c.created_at, ctx.lang), names.get(c.consumer_org) || c.consumer_org, c.operation || '—',
          `${c.method} ${c.status}`, h('span', { class: c.outcome === 'ok' ? 'badge' : 'badge bad' }, t(`svc_outcome_${c.outcome}`)),
          ms(c.duration_ms)]);
      }
      results.replaceChildren(rows.length
        ? table(t('svc_calls_title'), [t('svc_call'), t('col_time'), t('col_consumer'), t('svc_op_name'), t('svc_status'), t('svc_outcome'), t('svc_duration')], rows)
        : emptyState(t('svc_calls_empty'), t('svc_calls_empty_next')));
      more.hidden = !cursor || page.items.length < CALLS_PAGE;
    } catch (e) {
      results.replaceChildren(problemBox(e));
    }
  }
  more.addEventListener('click', loadPage);
  return { node: h('section', { class: 'card', 'aria-labelledby': 'calls-title' }, h('h2', { id: 'calls-title' }, t('svc_calls_title')),
    h('p', { class: 'muted' }, svc.provider_org === ctx.me.org_code || ctx.me.data_bureau ? t('svc_calls_all') : t('svc_calls_ours')),
    results, more), load: loadPage };
}

export async function stats(ctx) {
  const { me } = ctx;
  const [svc, names] = await Promise.all([api('GET', servicePath(ctx.params.id)), orgs()]);
  const back = h('p', { class: 'crumbs' }, link('/services', t('nav_services')), ' › ', link(`/services/${svc.id}`, svc.name));
  const monitor = can.monitorService(me, svc);
  const calls = can.readServiceCalls(me);
  if (!monitor && !calls) {
    return h('section', {}, back, h('h1', {}, t('svc_stats_heading', { name: svc.name })), notice(t('svc_stats_not_allowed'), 'info'));
  }
  const parts = [back, h('h1', {}, t('svc_stats_heading', { name: svc.name }))];
  if (monitor) parts.push(await statsCard(ctx, svc, names));
  if (calls) {
    const list = callsCard(ctx, svc, names);
    await list.load();
    parts.push(list.node);
  }
  return h('section', {}, parts);
}

export async function call(ctx) {
  const [svc, c, names] = await Promise.all([api('GET', servicePath(ctx.params.id)),
    api('GET', `${servicePath(ctx.params.id)}/calls/${encodeURIComponent(ctx.params.call)}`), orgs()]);
  const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value ?? '—')];
  const mono = (v) => h('span', { class: 'mono' }, v);
  const back = h('p', { class: 'crumbs' }, link('/services', t('nav_services')), ' › ', link(`/services/${svc.id}`, svc.name),
    ' › ', link(`/services/${svc.id}/stats`, t('svc_calls_title')));
  const parts = [back,
    h('div', { class: 'title-row' }, h('h1', {}, t('svc_call_heading', { id: c.id })),
      h('span', { class: c.outcome === 'ok' ? 'badge' : 'badge bad' }, t(`svc_outcome_${c.outcome}`))),
    h('dl', { class: 'facts card' },
      fact(t('col_time'), when(c.created_at, ctx.lang)),
      fact(t('col_consumer'), names.get(c.consumer_org) || c.consumer_org),
      fact(t('svc_client'), mono(c.client_id)),
      fact(t('col_grant'), c.grant_id || t('svc_no_grant_own')),
      fact(t('svc_op_name'), c.operation || '—'),
      fact(t('svc_status'), `${c.method} → ${c.status}`),
      fact(t('svc_duration'), ms(c.duration_ms)),
      fact(t('svc_bytes_in'), bytes(c.request_bytes)), fact(t('svc_bytes_out'), bytes(c.response_bytes)),
      fact(t('svc_request_sha256'), mono(c.request_sha256)), fact(t('svc_response_sha256'), mono(c.response_sha256)),
      fact(t('svc_audit_seq'), String(c.audit_seq))),
    h('h2', {}, t('audit_proof_title'))];
  try {
    const proof = await api('GET', `${servicePath(svc.id)}/calls/${encodeURIComponent(c.id)}/proof`);
    let logged = null;
    try { logged = JSON.parse(proof.entry); } catch { /* not the call's entry */ }
    const matches = Boolean(logged) && logged.action === 'service.call' && logged.request_id === c.id
      && logged.request_sha256 === c.request_sha256 && logged.response_sha256 === c.response_sha256;
    parts.push(h('p', { class: 'muted' }, t('svc_proof_intro')), entryFacts(proof.entry),
      h('div', { id: 'entry-matches' }, notice(matches ? t('svc_entry_matches') : t('svc_entry_differs'), matches ? 'ok' : 'bad')),
      proofVerifier(proof, ctx.lang));
  } catch (e) {
    parts.push(problemBox(e), e.code === 'not_yet_signed' ? actionButton(t('retry'), async () => ctx.reload()) : null);
  }
  return h('section', {}, parts);
}
