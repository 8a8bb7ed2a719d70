// The resource catalog: Chinese full-text search (?q=) with filters by
// provider, status, category, format and share type, one page at a time. The
// filters live in the address (#/catalog?q=…), so a search can be shared.
import { api, listAll } from '../api.js';
import { h, field, select, link, emptyState, problemBox, table } from '../dom.js';
import { t } from '../i18n.js';
import { can } from '../roles.js';

export const SHARE_TYPES = ['unconditional', 'conditional', 'none'];
export const STATUSES = ['draft', 'published', 'retired'];
export const CATEGORIES = ['base', 'theme', 'department'];
export const FORMATS = ['table', 'file', 'api'];

let orgNames = null;
/** Code → name of every org, loaded once per page load. */
export async function orgs() {
  if (!orgNames) {
    const items = await listAll('/api/v1/orgs', {}, 5000);
    orgNames = new Map(items.map((o) => [o.code, o.name]));
  }
  return orgNames;
}

export function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, t(`status_${status}`));
}

export async function catalog(ctx) {
  const { query, me } = ctx;
  const names = await orgs();
  const q = h('input', { type: 'search', name: 'q', value: query.q || '', maxlength: 200, placeholder: t('catalog_q_placeholder') });
  const provider = select('provider', [['', t('any')], ...[...names].map(([code, name]) => [code, name])], query.provider || '');
  const status = select('status', [['', t('any')], ...STATUSES.map((s) => [s, t(`status_${s}`)])], query.status || '');
  const category = select('category', [['', t('any')], ...CATEGORIES.map((s) => [s, t(`category_${s}`)])], query.category || '');
  const format = select('format', [['', t('any')], ...FORMATS.map((s) => [s, t(`format_${s}`)])], query.format || '');
  const share = select('share_type', [['', t('any')], ...SHARE_TYPES.map((s) => [s, t(`share_${s}`)])], query.share_type || '');
  const form = h('form', { class: 'filters', role: 'search' },
    field(t('catalog_q'), q), field(t('col_provider'), provider), field(t('col_status'), status),
    field(t('col_category'), category), field(t('col_format'), format), field(t('col_share_type'), share),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', class: 'primary' }, t('search')),
      h('button', { type: 'reset', onclick: () => ctx.go('/catalog') }, t('clear'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const params = new URLSearchParams(Object.entries({
      q: q.value.trim(), provider: provider.value, status: status.value, category: category.value, format: format.value,
      share_type: share.value,
    }).filter(([, v]) => v));
    ctx.go(`/catalog${[...params].length ? `?${params}` : ''}`);
  });

  const results = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true }, t('more'));
  const rows = [];
  let cursor = null;
  const filters = { q: query.q, provider: query.provider, status: query.status, category: query.category, format: query.format,
    share_type: query.share_type };
  async function loadPage() {
    more.disabled = true;
    try {
      const page = await api('GET', '/api/v1/resources', { query: { ...filters, limit: 50, cursor } });
      cursor = page.next_cursor;
      for (const r of page.items) {
        rows.push([link(`/resources/${encodeURIComponent(r.code)}`, r.name), r.code, names.get(r.provider_org) || r.provider_org,
          r.share_type ? t(`share_${r.share_type}`) : '—', statusBadge(r.status)]);
      }
      const anyFilter = Object.values(filters).some(Boolean);
      if (!rows.length) {
        results.replaceChildren(emptyState(anyFilter ? t('catalog_empty_filtered') : t('catalog_empty'),
          can.createResource(me) ? link('/resources/new', t('resource_new')) : t('catalog_empty_next')));
      } else {
        results.replaceChildren(h('p', { class: 'muted' }, t('catalog_count', { n: rows.length })),
          table(t('catalog_results'), [t('col_name'), t('col_code'), t('col_provider'), t('col_share_type'), t('col_status')], rows));
      }
      more.hidden = !cursor || page.items.length === 0;
    } catch (e) {
      results.replaceChildren(problemBox(e));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', loadPage);
  await loadPage();
  return h('section', {},
    h('div', { class: 'title-row' }, h('h1', {}, t('catalog_title')),
      can.createResource(me) ? link('/resources/new', t('resource_new'), { class: 'button primary' }) : null),
    form, results, more);
}
