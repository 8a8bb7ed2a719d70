// Backups, for the system administrator: the copies of the database on the
// server's disk, newest first, with their size and SHA-256; the copy being
// made, followed until it is done; the last that failed and why; a button
// that starts a new one, and one per copy that deletes it. A copy is never
// downloaded through the console: it stays on the server, apart from the
// keys it needs.
import { api } from '../api.js';
import { h, emptyState, problemBox, notice, table, when, fill, submitting, actionButton } from '../dom.js';
import { t } from '../i18n.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const onThisPage = () => location.hash.replace(/\?.*/, '') === '#/backups';

/** Polls the list until no copy is being made; null once the user has gone to another page. */
async function finished() {
  while (onThisPage()) {
    const list = await api('GET', '/api/v1/backups');
    if (!list.running) return list;
    await sleep(1000);
  }
  return null;
}

function size(bytes) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u ? v.toFixed(1) : v} ${units[u]}`;
}

export async function backups(ctx) {
  const list = await api('GET', '/api/v1/backups');
  const status = h('div', { 'aria-live': 'polite' });
  const start = h('button', { type: 'submit', class: 'primary' }, t('backup_start'));
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, t('backup_new')), h('p', { class: 'hint' }, t('backup_hint')), status, start);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    await submitting(start, status, async () => {
      const made = await api('POST', '/api/v1/backups');
      fill(status, notice(t('backup_running', { name: made.name, time: when(made.started_at, ctx.lang) }), 'info'));
      start.disabled = true;
      const done = await finished();
      if (done) ctx.go(done.items.length && done.items[0].name === made.name ? '/backups?made=1' : '/backups');
    });
  });
  let running = null;
  if (list.running) {
    start.disabled = true;
    running = h('div', {}, notice(t('backup_running', { name: list.running.name, time: when(list.running.started_at, ctx.lang) }), 'info'),
      actionButton(t('backup_refresh'), async () => ctx.reload()));
  }
  const failure = list.last_failure
    ? problemBox({ problem: { title: t('backup_failed', { name: list.last_failure.name, time: when(list.last_failure.failed_at, ctx.lang) }),
      detail: list.last_failure.error } })
    : null;
  const made = ctx.query.made && list.items.length ? notice(t('backup_made', { name: list.items[0].name })) : null;
  const remove = (b) => {
    const button = h('button', { type: 'button', class: 'danger', 'aria-label': t('backup_delete_of', { name: b.name }) }, t('remove'));
    button.addEventListener('click', async () => {
      if (!window.confirm(t('backup_delete_confirm', { name: b.name }))) return;
      fill(status);
      await submitting(button, status, async () => {
        await api('DELETE', `/api/v1/backups/${encodeURIComponent(b.name)}`);
        ctx.go('/backups?deleted=1');
      });
    });
    return button;
  };
  return h('section', {}, h('h1', {}, t('backups_title')),
    made, ctx.query.deleted ? notice(t('backup_deleted')) : null, running, failure, form,
    list.items.length
      ? table(t('backups_title'), [t('backup_file'), t('backup_bytes'), t('backup_created'), 'SHA-256', t('col_action_taken')],
        list.items.map((b) => [h('span', { class: 'mono' }, b.name), size(b.bytes), when(b.created_at, ctx.lang),
          h('span', { class: 'mono small' }, b.sha256 || '—'), remove(b)]))
      : emptyState(t('backups_empty'), t('backups_empty_next')));
}
