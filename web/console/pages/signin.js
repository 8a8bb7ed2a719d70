// Sign-in (password, then the one-time code when the account has TOTP) and
// the forced password change of new or reset accounts.
import { api } from '../api.js';
import { h, field, fill, problemBox, notice, submitting } from '../dom.js';
import { t } from '../i18n.js';

export async function signIn(ctx) {
  const status = h('div', { 'aria-live': 'polite' });
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 64 });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const totp = h('input', {
    name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6,
  });
  const totpField = field(t('totp_code'), totp, t('totp_hint'));
  totpField.hidden = true;
  const submit = h('button', { type: 'submit', class: 'primary' }, t('sign_in'));
  const form = h('form', { class: 'card narrow', novalidate: true },
    field(t('username'), username), field(t('password'), password), totpField, status, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    if (!username.value || !password.value) {
      fill(status, problemBox({ problem: { title: t('signin_missing'), detail: t('signin_missing_detail') } }));
      return;
    }
    const body = { username: username.value.trim(), password: password.value };
    if (!totpField.hidden) body.totp = totp.value.trim();
    submit.disabled = true;
    try {
      const res = await api('POST', '/api/v1/auth/console/login', { body });
      ctx.setMe({ kind: 'user', ...res.user });
      // The session's full description (data_bureau among it) comes from /auth/me.
      if (!res.user.must_change_password) await ctx.refreshMe();
      ctx.go(res.user.must_change_password ? '/password' : ctx.afterSignIn());
    } catch (e) {
      if (e.code === 'totp_required') {
        totpField.hidden = false;
        fill(status, notice(t('totp_needed'), 'info'));
        totp.focus();
      } else {
        fill(status, problemBox(e));
      }
    } finally {
      submit.disabled = false;
    }
  });
  return h('section', { class: 'signin' },
    h('h1', {}, t('signin_title')),
    h('p', { class: 'muted' }, t('signin_intro')),
    form);
}

export async function changePassword(ctx) {
  const me = ctx.me;
  const status = h('div', { 'aria-live': 'polite' });
  const current = h('input', { type: 'password', name: 'current', autocomplete: 'current-password', required: true });
  const next = h('input', { type: 'password', name: 'new', autocomplete: 'new-password', required: true, minlength: 12 });
  const again = h('input', { type: 'password', name: 'again', autocomplete: 'new-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('password_change'));
  const form = h('form', { class: 'card narrow', novalidate: true },
    field(t('password_current'), current),
    field(t('password_new'), next, t('password_rules')),
    field(t('password_again'), again), status, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(status);
    if (next.value !== again.value) {
      fill(status, problemBox({ problem: { title: t('password_mismatch'), detail: t('password_mismatch_detail') } }));
      again.focus();
      return;
    }
    await submitting(submit, status, async () => {
      await api('POST', `/api/v1/users/${encodeURIComponent(me.username)}/password`,
        { body: { current_password: current.value, new_password: next.value } });
      await ctx.refreshMe();
      ctx.go(ctx.afterSignIn());
    });
  });
  return h('section', {},
    h('h1', {}, t('password_title')),
    me.must_change_password ? notice(t('password_forced'), 'info') : null,
    form);
}
