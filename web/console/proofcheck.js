// The "verify in the browser" block of an audit inclusion proof, shared by
// the audit entry page and the service call page: one button that fetches
// the signed tree head, runs merkle.js's checks (leaf, root, signature) and
// shows each step and the verdict (#proof-result).
import { api } from './api.js';
import { h, problemBox, notice, when, fill, actionButton } from './dom.js';
import { t } from './i18n.js';
import { verifyInclusion } from './merkle.js';

/** The intro, the button and the live result for proof (an InclusionProof). */
export function proofVerifier(proof, lang) {
  const result = h('div', { 'aria-live': 'polite' });
  const verify = actionButton(t('audit_verify'), async () => {
    fill(result, h('p', { class: 'muted' }, t('audit_verifying')));
    try {
      const head = await api('GET', '/api/v1/audit/tree-head');
      const steps = await verifyInclusion(proof, head.public_key);
      const good = steps[0].ok === true && steps[1].ok === true && steps[2].ok !== false;
      fill(result,
        h('ol', { class: 'steps' }, steps.map((s) => h('li', { class: s.ok === true ? 'ok' : s.ok === false ? 'bad' : 'muted' },
          h('strong', {}, t(`verify_${s.name}`)), ' ',
          t(s.ok === true ? 'verify_ok' : s.ok === false ? 'verify_bad' : 'verify_unavailable'),
          h('div', { class: 'mono small' }, s.value)))),
        h('p', { class: 'small muted' }, t('audit_against', { size: proof.tree_size, time: when(proof.tree_head.timestamp, lang) })),
        h('div', { id: 'proof-result' }, notice(good ? t('audit_proof_good') : t('audit_proof_bad'), good ? 'ok' : 'bad')));
    } catch (e) {
      fill(result, problemBox(e));
    }
  }, { class: 'primary', id: 'verify-proof' });
  return h('div', { class: 'proof' },
    h('p', { class: 'muted' }, t('audit_verify_intro', { n: proof.audit_path.length })), verify, result);
}

/** The entry's text as label/value pairs when it is a JSON object, else as it is. */
export function entryFacts(text) {
  let obj = null;
  try { obj = JSON.parse(text); } catch { /* shown as text */ }
  if (!obj || typeof obj !== 'object') return h('pre', { class: 'entry' }, text);
  return h('dl', { class: 'facts card' }, Object.entries(obj).map(([k, v]) => [h('dt', {}, k),
    h('dd', { class: 'mono' }, v === null ? '—' : Array.isArray(v) ? v.join(t('list_sep')) || '—' : String(v))]));
}
