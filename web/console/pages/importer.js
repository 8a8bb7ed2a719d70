// Record import: a CSV file (header row = item names) sent as text/csv to
// POST /api/v1/resources/{code}/records:import, and its per-row report:
// rows accepted, unchanged and rejected, each rejection with its line,
// item and reason.
import { api } from '../api.js';
import { h, field, link, problemBox, notice, table, fill, submitting } from '../dom.js';
import { t } from '../i18n.js';
import { can } from '../roles.js';

const MAX_BYTES = 64 * 1024 * 1024;

function report(rep) {
  const summary = h('ul', { class: 'counts' },
    h('li', { class: 'ok' }, t('import_accepted', { n: rep.accepted })),
    h('li', {}, t('import_unchanged', { n: rep.unchanged })),
    h('li', { class: rep.rejected ? 'bad' : '' }, t('import_rejected', { n: rep.rejected })));
  const parts = [h('h2', { id: 'import-report' }, t('import_report')), summary];
  if (rep.errors.length) {
    parts.push(h('p', {}, t('import_fix_rows')));
    parts.push(table(t('import_errors'), [t('col_row'), t('col_item'), t('col_reason')],
      rep.errors.map((e) => [String(e.row), e.item || '—', e.reason])));
    if (rep.errors_truncated) parts.push(notice(t('import_truncated'), 'info'));
  } else {
    parts.push(notice(t('import_all_good'), 'ok'));
  }
  return h('section', { class: 'card report', 'aria-labelledby': 'import-report' }, parts);
}

export async function importPage(ctx) {
  const res = await api('GET', `/api/v1/resources/${encodeURIComponent(ctx.params.code)}`);
  const back = link(`/resources/${encodeURIComponent(res.code)}`, t('back_to', { name: res.name }));
  if (!can.importRecords(ctx.me, res)) {
    return h('section', {}, h('h1', {}, t('import_title')), notice(t('import_not_yours'), 'info'), back);
  }
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,text/csv' });
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('import_send'));
  const header = res.items.map((i) => i.name).join(',');
  const form = h('form', { class: 'card', novalidate: true },
    field(t('import_file'), file, t('import_file_hint', { header })),
    status, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    const f = file.files[0];
    if (!f) {
      fill(status, problemBox({ problem: { title: t('import_no_file'), detail: t('import_no_file_detail') } }));
      file.focus();
      return;
    }
    if (f.size > MAX_BYTES) {
      fill(status, problemBox({ problem: { title: t('import_too_big'), detail: t('import_too_big_detail') } }));
      return;
    }
    fill(status, h('p', { class: 'muted' }, t('import_sending')));
    await submitting(submit, status, async () => {
      const rep = await api('POST', `/api/v1/resources/${encodeURIComponent(res.code)}/records:import`,
        { raw: await f.arrayBuffer(), type: 'text/csv' });
      fill(status, report(rep));
      status.querySelector('h2').setAttribute('tabindex', '-1');
      status.querySelector('h2').focus();
    });
  });
  return h('section', {},
    h('p', { class: 'crumbs' }, back),
    h('h1', {}, t('import_title_of', { name: res.name })),
    h('p', { class: 'muted' }, t('import_intro')),
    form);
}
