// The audit trail: entries filtered by actor, action, object, result and
// time, and one entry with its inclusion proof verified in the browser
// (proofcheck.js, merkle.js): the leaf hash recomputed from the entry's text, the path
// folded up to the root of the signed tree head, and the head's signature.
// The log's consistency is checked the same way: this browser keeps the last
// head it verified and proves that today's log extends it unchanged.
import { api } from '../api.js';
import { h, field, select, link, emptyState, problemBox, notice, table, when, fill, actionButton } from '../dom.js';
import { t } from '../i18n.js';
import { consistent, headSigned, fromBase64 } from '../merkle.js';
import { proofVerifier, entryFacts } from '../proofcheck.js';

const FILTERS = ['actor', 'action', 'object', 'result', 'from', 'to'];

function toRfc3339(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

const LAST_HEAD = 'yw_audit_verified_head';

/** The card that proves the log only grew since this browser last looked. */
function consistencyCard(ctx) {
  const result = h('div', { 'aria-live': 'polite' });
  const saved = () => { try { return JSON.parse(localStorage.getItem(LAST_HEAD)); } catch { return null; } };
  const describe = () => {
    const last = saved();
    return last ? t('consistency_last', { size: last.tree_size, time: when(last.timestamp, ctx.lang) }) : t('consistency_none');
  };
  const lastLine = h('p', { class: 'muted' }, describe());
  const run = actionButton(t('consistency_check'), async () => {
    fill(result, h('p', { class: 'muted' }, t('audit_verifying')));
    try {
      const head = await api('GET', '/api/v1/audit/tree-head');
      const signed = await headSigned(head, head.public_key);
      if (signed === false) { fill(result, notice(t('consistency_bad_signature'), 'bad')); return; }
      const last = saved();
      let verdict;
      if (!last) {
        verdict = notice(t('consistency_baseline', { size: head.tree_size }), 'ok');
      } else if (last.tree_size > head.tree_size) {
        fill(result, notice(t('consistency_shrank', { from: last.tree_size, to: head.tree_size }), 'bad'));
        return;
      } else {
        let proof = [];
        if (last.tree_size !== head.tree_size && last.tree_size > 0) {
          const answer = await api('GET', '/api/v1/audit/consistency', { query: { from: last.tree_size, to: head.tree_size } });
          proof = answer.proof.map(fromBase64);
        }
        const ok = await consistent(last.tree_size, head.tree_size, fromBase64(last.root_hash), fromBase64(head.root_hash), proof);
        if (!ok) { fill(result, notice(t('consistency_bad', { from: last.tree_size, to: head.tree_size }), 'bad')); return; }
        verdict = notice(t('consistency_good', { from: last.tree_size, to: head.tree_size }), 'ok');
      }
      localStorage.setItem(LAST_HEAD, JSON.stringify({ tree_size: head.tree_size, root_hash: head.root_hash, timestamp: head.timestamp }));
      lastLine.textContent = describe();
      fill(result, h('div', { id: 'consistency-result' }, verdict,
        signed === null ? h('p', { class: 'small muted' }, t('verify_unavailable')) : null));
    } catch (e) {
      fill(result, problemBox(e));
    }
  }, { id: 'consistency-check' });
  return h('section', { class: 'card', 'aria-labelledby': 'consistency-title' },
    h('h2', { id: 'consistency-title' }, t('consistency_title')), h('p', {}, t('consistency_intro')), lastLine, run, result);
}

export async function events(ctx) {
  const { query } = ctx;
  const inputs = {
    actor: h('input', { name: 'actor', value: query.actor || '', maxlength: 200 }),
    action: h('input', { name: 'action', value: query.action || '', maxlength: 100, placeholder: 'share.approve' }),
    object: h('input', { name: 'object', value: query.object || '', maxlength: 200 }),
    result: select('result', [['', t('any')], ['ok', t('result_ok')], ['denied', t('result_denied')], ['error', t('result_error')]], query.result || ''),
    from: h('input', { type: 'datetime-local', name: 'from', value: query.from_local || '' }),
    to: h('input', { type: 'datetime-local', name: 'to', value: query.to_local || '' }),
  };
  const results = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true }, t('more'));
  const form = h('form', { class: 'filters', role: 'search' },
    field(t('col_actor'), inputs.actor), field(t('col_action'), inputs.action, t('audit_action_hint')),
    field(t('col_object'), inputs.object, t('audit_object_hint')), field(t('col_result'), inputs.result),
    field(t('audit_from'), inputs.from), field(t('audit_to'), inputs.to),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', class: 'primary' }, t('search')),
      h('button', { type: 'reset', onclick: () => ctx.go('/audit') }, t('clear'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const params = new URLSearchParams();
    for (const k of ['actor', 'action', 'object', 'result']) if (inputs[k].value.trim()) params.set(k, inputs[k].value.trim());
    if (inputs.from.value) params.set('from_local', inputs.from.value);
    if (inputs.to.value) params.set('to_local', inputs.to.value);
    results.replaceChildren(h('p', { class: 'muted' }, t('loading'))); // not the previous search's entries meanwhile
    more.hidden = true;
    ctx.go(`/audit${[...params].length ? `?${params}` : ''}`);
  });
  const filters = Object.fromEntries(FILTERS.map((k) => [k, query[k]]));
  filters.from = toRfc3339(query.from_local);
  filters.to = toRfc3339(query.to_local);
  const rows = [];
  let cursor = null;
  async function loadPage() {
    try {
      const page = await api('GET', '/api/v1/audit/events', { query: { ...filters, limit: 100, cursor } });
      cursor = page.next_cursor;
      for (const e of page.items) {
        rows.push([link(`/audit/${e.seq}`, String(e.seq), { 'aria-label': t('audit_open', { seq: e.seq }) }), when(e.time, ctx.lang),
          `${e.actor || t('anonymous')}${e.actor_org ? ` · ${e.actor_org}` : ''}`, e.action || '—',
          e.object_ids.join(t('list_sep')) || '—', h('span', { class: `badge result-${e.result}` }, t(`result_${e.result}`))]);
      }
      results.replaceChildren(rows.length
        ? table(t('audit_results'), [t('col_seq'), t('col_time'), t('col_actor'), t('col_action'), t('col_object'), t('col_result')], rows)
        : emptyState(t('audit_empty'), t('audit_empty_next')));
      more.hidden = !cursor || page.items.length === 0;
    } catch (e) {
      results.replaceChildren(problemBox(e));
    }
  }
  more.addEventListener('click', loadPage);
  await loadPage();
  return h('section', {}, h('h1', {}, t('audit_title')), h('p', { class: 'muted' }, t('audit_intro')),
    consistencyCard(ctx), form, results, more);
}

export async function entry(ctx) {
  const seq = Number(ctx.params.seq);
  const back = h('p', { class: 'crumbs' }, link('/audit', t('nav_audit')));
  let proof;
  try {
    proof = await api('GET', `/api/v1/audit/proof/${seq}`);
  } catch (e) {
    return h('section', {}, back, h('h1', {}, t('audit_entry_title', { seq })), problemBox(e),
      e.code === 'not_yet_signed' ? actionButton(t('retry'), async () => ctx.reload()) : null);
  }
  return h('section', {}, back,
    h('h1', {}, t('audit_entry_title', { seq })),
    entryFacts(proof.entry),
    h('h2', {}, t('audit_proof_title')),
    proofVerifier(proof, ctx.lang));
}
