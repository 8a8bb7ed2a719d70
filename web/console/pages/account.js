// The signed-in person's own account: changing the password, and adding a
// second factor (TOTP): the secret and its otpauth URI go into an
// authenticator app, and a first code confirms it.
import { api } from '../api.js';
import { h, field, link, problemBox, notice, fill } from '../dom.js';
import { t } from '../i18n.js';

export async function account(ctx) {
  const { me } = ctx;
  const totpArea = h('div', { 'aria-live': 'polite' });
  const start = h('button', { type: 'button', class: 'primary', id: 'totp-start' }, t('totp_enrol'));
  start.addEventListener('click', async () => {
    start.disabled = true;
    try {
      const enrol = await api('POST', '/api/v1/auth/totp');
      const code = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6, pattern: '[0-9]{6}' });
      const status = h('div', { 'aria-live': 'polite' });
      const confirm = h('button', { type: 'submit', class: 'primary' }, t('totp_confirm'));
      const form = h('form', { novalidate: true }, field(t('totp_code'), code, t('totp_confirm_hint')), status, confirm);
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        confirm.disabled = true;
        try {
          await api('POST', '/api/v1/auth/totp/confirm', { body: { code: code.value.trim() } });
          await ctx.refreshMe();
          fill(totpArea, notice(t('totp_done'), 'ok'));
          start.hidden = true;
        } catch (e) { fill(status, problemBox(e)); } finally { confirm.disabled = false; }
      });
      fill(totpArea,
        h('ol', {},
          h('li', {}, t('totp_step_app')),
          h('li', {}, t('totp_step_secret'), ' ', h('code', { class: 'mono secret', id: 'totp-secret' }, enrol.secret),
            h('div', { class: 'small mono' }, enrol.otpauth_uri)),
          h('li', {}, t('totp_step_code'))),
        form);
      code.focus();
    } catch (e) {
      fill(totpArea, problemBox(e));
    } finally {
      start.disabled = false;
    }
  });
  return h('section', {},
    h('h1', {}, t('account_title')),
    h('dl', { class: 'facts card' },
      h('dt', {}, t('username')), h('dd', {}, me.username),
      h('dt', {}, t('col_name')), h('dd', {}, me.display_name),
      h('dt', {}, t('col_org')), h('dd', {}, me.org_code),
      h('dt', {}, t('col_roles')), h('dd', {}, me.roles.map((r) => t(`role_${r}`)).join(t('list_sep')))),
    h('section', { class: 'card' }, h('h2', {}, t('password')), link('/password', t('password_change'))),
    h('section', { class: 'card' }, h('h2', {}, t('totp_title')),
      me.totp_enabled ? notice(t('totp_on'), 'ok') : [h('p', {}, t('totp_off')), start, totpArea]));
}
