// Identity: sign-in, forced password changes, lockout, sessions (logout,
// idle and absolute expiry, sign-out of other sessions), TOTP and client
// secrets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, orgOf } from './lib/server.mjs';
import { assertProblem, RFC3339, sleep, totpCode, totpStep } from './lib/util.mjs';

let srv, sec, GAJ;
const login = (username, password, totp) =>
  srv.call('POST', '/api/v1/auth/login', { body: totp === undefined ? { username, password } : { username, password, totp } });
const me = (token, server = srv) => server.call('GET', '/api/v1/auth/me', { token });

let n = 0;
/** A new gaj clerk made by the secadmin: {username, password} (generated, must be changed). */
async function newUser(roles = ['clerk']) {
  const username = `id_user_${Date.now().toString(36)}_${n++}`;
  const res = await srv.call('POST', '/api/v1/users', {
    token: sec, body: { username, display_name: '身份测试', org_code: GAJ, roles },
  });
  assert.equal(res.status, 201, res.text);
  return { username, password: res.json.password };
}

before(async () => {
  srv = await startServer();
  sec = await srv.adminToken('secadmin');
  GAJ = orgOf(srv.accounts, 'gaj_admin');
});
after(() => srv?.stop());

test('sign-in returns a token, its expiry and the user', async () => {
  const t0 = Date.now();
  const res = await login('gaj_clerk', srv.accounts.password);
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(Object.keys(res.json).sort(), ['expires_at', 'token', 'user']);
  assert.match(res.json.token, /^yws_[A-Za-z0-9_-]{43}$/);
  assert.match(res.json.expires_at, RFC3339);
  const lifetime = Date.parse(res.json.expires_at) - t0;
  assert.ok(Math.abs(lifetime - 12 * 3600 * 1000) < 60000, `12-hour session, got ${lifetime} ms`);
  const u = res.json.user;
  assert.equal(u.username, 'gaj_clerk');
  assert.equal(u.org_code, GAJ);
  assert.deepEqual(u.roles, ['clerk']);
  assert.equal(u.must_change_password, false);
  assert.equal(typeof u.display_name, 'string');
  const who = await me(res.json.token);
  assert.equal(who.status, 200, who.text);
  assert.equal(who.json.kind, 'user');
  assert.equal(who.json.username, 'gaj_clerk');
  assert.equal(who.json.org_code, GAJ);
  assert.deepEqual(who.json.roles, ['clerk']);
  assert.equal(who.json.must_change_password, false);
  assert.equal(who.json.session_expires_at, res.json.expires_at);
  assert.equal(who.json.data_bureau, false, 'gaj is not the data bureau');
  // two sign-ins are two sessions
  const again = await login('gaj_clerk', srv.accounts.password);
  assert.notEqual(again.json.token, res.json.token);
});

test('/auth/me says whether the user belongs to the data bureau', async () => {
  for (const [username, expected] of [['dsj_steward', true], ['dsj_admin', true], ['gaj_steward', false], ['scjg_admin', false]]) {
    const who = await me(await srv.login(username));
    assert.equal(who.status, 200, who.text);
    assert.equal(who.json.data_bureau, expected, username);
  }
  const platform = await me(sec); // the platform accounts live in the bureau too
  assert.equal(platform.json.data_bureau, true);
});

test('a wrong password or an unknown user: 401 invalid_credentials, alike', async () => {
  const wrong = await login('gaj_steward', 'Wrong-Passw0rd!');
  assertProblem(wrong, 401, 'invalid_credentials');
  const unknown = await login('nobody_here', 'Wrong-Passw0rd!');
  assertProblem(unknown, 401, 'invalid_credentials');
  assert.equal(wrong.json.detail, unknown.json.detail, 'the answer must not reveal which usernames exist');
  assert.equal(wrong.headers.get('www-authenticate'), unknown.headers.get('www-authenticate'));
  // a bearer that is not a session
  assertProblem(await me('yws_' + 'x'.repeat(43)), 401, 'invalid_token');
  assertProblem(await me('not a token at all'), 401, 'invalid_token');
  const none = await me(undefined);
  assertProblem(none, 401, 'unauthenticated');
  assert.match(none.headers.get('www-authenticate'), /^Bearer /);
  const basic = await srv.call('GET', '/api/v1/auth/me', { headers: { Authorization: 'Basic Z2FqX2NsZXJrOng=' } });
  assertProblem(basic, 401, 'unauthenticated');
});

test('a generated password (init) must be changed before anything else works', async () => {
  const { username, password } = srv.admins.auditor;
  const res = await login(username, password);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.user.must_change_password, true);
  assert.deepEqual(res.json.user.roles, ['auditor']);
  const token = res.json.token;
  assertProblem(await me(token), 403, 'password_change_required');
  assertProblem(await srv.call('GET', '/api/v1/orgs', { token }), 403, 'password_change_required');
  assertProblem(await srv.call('POST', '/api/v1/auth/totp', { token }), 403, 'password_change_required');
  // someone else's password is not the change that is pending
  assertProblem(await srv.call('POST', '/api/v1/users/gaj_clerk/password', { token, body: { new_password: 'Some-G00d-Passw0rd' } }),
    403, 'password_change_required');
  // signing out works meanwhile
  const other = (await login(username, password)).json.token;
  assert.equal((await srv.call('POST', '/api/v1/auth/logout', { token: other })).status, 204);
  assertProblem(await me(other), 401, 'invalid_token');
  // the change itself works, and then everything does
  const next = 'Audit-Tr41l-Passw0rd';
  const change = await srv.call('POST', `/api/v1/users/${username}/password`, {
    token, body: { current_password: password, new_password: next },
  });
  assert.equal(change.status, 204, change.text);
  const after = await me(token);
  assert.equal(after.status, 200, after.text);
  assert.equal(after.json.must_change_password, false);
  assert.equal((await srv.call('GET', '/api/v1/orgs', { token })).status, 200);
  assertProblem(await login(username, password), 401, 'invalid_credentials');
  const fresh = await login(username, next);
  assert.equal(fresh.status, 200);
  assert.equal(fresh.json.user.must_change_password, false);
  srv.admins.auditor.password = next;
});

test('a generated password (POST /users) must be changed too', async () => {
  const { username, password } = await newUser();
  assert.match(password, /^.{16}$/);
  const res = await login(username, password);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.user.must_change_password, true);
  const token = res.json.token;
  assertProblem(await me(token), 403, 'password_change_required');
  assertProblem(await srv.call('GET', `/api/v1/users/${username}`, { token }), 403, 'password_change_required');
  const change = await srv.call('POST', `/api/v1/users/${username}/password`, {
    token, body: { current_password: password, new_password: 'Brand-N3w-Secret' },
  });
  assert.equal(change.status, 204, change.text);
  const who = await me(token);
  assert.equal(who.status, 200);
  assert.equal(who.json.must_change_password, false);
  // the account no longer shows the forced change
  assert.equal((await srv.call('GET', `/api/v1/users/${username}`, { token: sec })).json.must_change_password, false);
});

test('five failures lock the account for 15 minutes; a secadmin reset lifts the lock', async () => {
  const { username, password } = await newUser();
  for (let i = 1; i <= 5; i++) assertProblem(await login(username, `Wrong-${i}-Passw0rd`), 401, 'invalid_credentials');
  const t0 = Date.now();
  const locked = await login(username, password);
  assertProblem(locked, 401, 'account_locked');
  const retry = Number(locked.headers.get('retry-after'));
  assert.ok(Number.isInteger(retry) && retry > 890 && retry <= 901, `Retry-After ${locked.headers.get('retry-after')}`);
  const info = await srv.call('GET', `/api/v1/users/${username}`, { token: sec });
  assert.match(info.json.locked_until, RFC3339);
  const until = Date.parse(info.json.locked_until) - t0;
  assert.ok(until > 14 * 60000 && until <= 15 * 60000 + 1000, `locked for ${until} ms`);
  // still locked for the next attempts, right or wrong
  assertProblem(await login(username, 'Wrong-Passw0rd-6'), 401, 'account_locked');
  assertProblem(await login(username, password), 401, 'account_locked');
  // the secadmin's reset lifts it (and forces a change)
  const reset = await srv.call('POST', `/api/v1/users/${username}/password`, { token: sec, body: { new_password: 'Unl0cked-By-Secadmin' } });
  assert.equal(reset.status, 204, reset.text);
  assert.equal((await srv.call('GET', `/api/v1/users/${username}`, { token: sec })).json.locked_until, null);
  const ok = await login(username, 'Unl0cked-By-Secadmin');
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.user.must_change_password, true);
});

test('failures must be in a row to lock: a success resets the count', async () => {
  const username = 'rsj_clerk';
  const password = srv.accounts.password;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 4; i++) assertProblem(await login(username, 'Wrong-Passw0rd-1'), 401, 'invalid_credentials');
    const res = await login(username, password);
    assert.equal(res.status, 200, `round ${round}: ${res.text}`);
  }
});

test('logout revokes the token at once', async () => {
  const token = (await login('gaj_steward', srv.accounts.password)).json.token;
  const other = (await login('gaj_steward', srv.accounts.password)).json.token;
  assert.equal((await me(token)).status, 200);
  const out = await srv.call('POST', '/api/v1/auth/logout', { token });
  assert.equal(out.status, 204);
  assert.equal(out.text, '');
  assertProblem(await me(token), 401, 'invalid_token');
  assertProblem(await srv.call('POST', '/api/v1/auth/logout', { token }), 401, 'invalid_token');
  // only that session ended
  assert.equal((await me(other)).status, 200);
});

test('changing one\'s password signs out one\'s other sessions', async () => {
  const { username, password } = await newUser();
  const first = (await login(username, password)).json.token;
  const next = 'Chang3d-Own-Secret';
  assert.equal((await srv.call('POST', `/api/v1/users/${username}/password`, {
    token: first, body: { current_password: password, new_password: next },
  })).status, 204);
  const a = (await login(username, next)).json.token;
  const b = (await login(username, next)).json.token;
  const final = 'Chang3d-Again-Secret';
  assert.equal((await srv.call('POST', `/api/v1/users/${username}/password`, {
    token: a, body: { current_password: next, new_password: final },
  })).status, 204);
  assert.equal((await me(a)).status, 200, 'the session that changed it stays');
  assertProblem(await me(b), 401, 'invalid_token');
  assertProblem(await me(first), 401, 'invalid_token');
  assertProblem(await login(username, next), 401, 'invalid_credentials');
  assert.equal((await login(username, final)).status, 200);
});

test('a secadmin reset ends every session and forces a change at next sign-in', async () => {
  const { username, password } = await newUser();
  const first = (await login(username, password)).json.token;
  await srv.call('POST', `/api/v1/users/${username}/password`, {
    token: first, body: { current_password: password, new_password: 'Users-Own-Secret1' },
  });
  const s1 = (await login(username, 'Users-Own-Secret1')).json.token;
  assert.equal((await me(s1)).json.must_change_password, false);
  const reset = await srv.call('POST', `/api/v1/users/${username}/password`, { token: sec, body: { new_password: 'Temp-Fr0m-Secadmin' } });
  assert.equal(reset.status, 204, reset.text);
  assertProblem(await me(s1), 401, 'invalid_token');
  assertProblem(await me(first), 401, 'invalid_token');
  assertProblem(await login(username, 'Users-Own-Secret1'), 401, 'invalid_credentials');
  const res = await login(username, 'Temp-Fr0m-Secadmin');
  assert.equal(res.json.user.must_change_password, true);
  assertProblem(await me(res.json.token), 403, 'password_change_required');
  assert.equal((await srv.call('GET', `/api/v1/users/${username}`, { token: sec })).json.must_change_password, true);
  // the org admin of the user's org may reset too, with the same effect
  const admin = await srv.login('gaj_admin');
  assert.equal((await srv.call('POST', `/api/v1/users/${username}/password`, {
    token: admin, body: { new_password: 'Temp-Fr0m-OrgAdmin' },
  })).status, 204);
  assertProblem(await me(res.json.token), 401, 'invalid_token');
  assert.equal((await login(username, 'Temp-Fr0m-OrgAdmin')).json.user.must_change_password, true);
});

test('TOTP: enrol, confirm, then sign-in needs a fresh code; a secadmin removes it', async () => {
  const username = 'zjj_clerk';
  const password = srv.accounts.password;
  const token = (await login(username, password)).json.token;
  const enrol = await srv.call('POST', '/api/v1/auth/totp', { token });
  assert.equal(enrol.status, 201, enrol.text);
  const { secret } = enrol.json;
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.match(enrol.json.otpauth_uri, new RegExp(`^otpauth://totp/.*secret=${secret}`));
  // pending until confirmed: sign-in still takes the password alone
  assert.equal((await login(username, password)).status, 200);
  // a wrong code does not confirm
  const step = totpStep();
  const valid = new Set([-1, 0, 1, 2].map((d) => totpCode(secret, step + d)));
  const wrong = ['000000', '123456', '999999', '314159'].find((c) => !valid.has(c));
  assertProblem(await srv.call('POST', '/api/v1/auth/totp/confirm', { token, body: { code: wrong } }), 422, 'wrong_code');
  assertProblem(await srv.call('POST', '/api/v1/auth/totp/confirm', { token, body: { code: '12345' } }), 422, 'wrong_code');
  assert.equal((await login(username, password)).status, 200);
  const conf = await srv.call('POST', '/api/v1/auth/totp/confirm', { token, body: { code: totpCode(secret, step) } });
  assert.equal(conf.status, 200, conf.text);
  assert.deepEqual(conf.json, { totp_enabled: true });
  assert.equal((await me(token)).json.totp_enabled, true);
  assertProblem(await srv.call('POST', '/api/v1/auth/totp', { token }), 409, 'totp_enabled');
  // now a code is required
  assertProblem(await login(username, password), 401, 'totp_required');
  assertProblem(await login(username, 'Wrong-Passw0rd!', totpCode(secret, step + 1)), 401, 'invalid_credentials');
  // the code used to confirm is spent; the next one works once
  assertProblem(await login(username, password, totpCode(secret, step)), 401, 'invalid_credentials');
  const code = totpCode(secret, step + 1);
  const ok = await login(username, password, code);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.user.totp_enabled, true);
  assertProblem(await login(username, password, code), 401, 'invalid_credentials');
  // removal by the secadmin
  const del = await srv.call('DELETE', `/api/v1/users/${username}/totp`, { token: sec });
  assert.equal(del.status, 204, del.text);
  const plain = await login(username, password);
  assert.equal(plain.status, 200, plain.text);
  assert.equal((await me(plain.json.token)).json.totp_enabled, false);
  assert.equal((await srv.call('GET', `/api/v1/users/${username}`, { token: sec })).json.totp_enabled, false);
});

test('TOTP secrets are stored sealed; one left in clear by an older server is sealed at the next start and works', async () => {
  const s = await startServer({ keepData: true });
  const username = 'zjj_clerk';
  const password = s.accounts.password;
  const db = join(s.dir, 'yiwang.db');
  const stored = () => execFileSync('sqlite3', [db, `SELECT totp_secret FROM users WHERE username = '${username}'`])
    .toString().trim();
  let again;
  try {
    const token = await s.login(username);
    const enrol = await s.call('POST', '/api/v1/auth/totp', { token });
    assert.equal(enrol.status, 201, enrol.text);
    const { secret } = enrol.json;
    assert.match(stored(), /^enc:1:1:/);
    assert.ok(!stored().includes(secret), 'the secret is not stored in clear');
    const step = totpStep();
    const conf = await s.call('POST', '/api/v1/auth/totp/confirm', { token, body: { code: totpCode(secret, step) } });
    assert.equal(conf.status, 200, conf.text);
    await s.stop();
    // what a server from before sealing left behind: the secret in clear, no re-encryption pass made
    execFileSync('sqlite3', [db, `UPDATE users SET totp_secret = '${secret}' WHERE username = '${username}';` +
      ' DELETE FROM reencrypt_passes;']);
    again = await startServer({ dataDir: s.dir, demo: false, keepData: true });
    for (let i = 0; i < 100 && !/^enc:1:1:/.test(stored()); i++) await sleep(200);
    assert.match(stored(), /^enc:1:1:/, 'sealed by the pass at start');
    const ok = await again.call('POST', '/api/v1/auth/login', { body: { username, password, totp: totpCode(secret, step + 1) } });
    assert.equal(ok.status, 200, ok.text);
  } finally {
    await again?.stop();
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('client secrets: shown once, authenticate, record last use, revoked at once', async () => {
  const create = await srv.call('POST', '/api/v1/clients', { token: sec, body: { org_code: GAJ, name: 'identity-test' } });
  assert.equal(create.status, 201, create.text);
  const id = `${GAJ}/identity-test`;
  assert.equal(create.headers.get('location'), `/api/v1/clients/${id}`);
  const { secret, ...shown } = create.json;
  assert.match(secret, /^ywc_[A-Za-z0-9_-]{43}$/);
  assert.equal(shown.id, id);
  assert.equal(shown.org_code, GAJ);
  assert.equal(shown.name, 'identity-test');
  assert.equal(shown.status, 'active');
  assert.match(shown.created_at, RFC3339);
  assert.equal(shown.revoked_at, null);
  assert.equal(shown.last_used_at, null);
  // never shown again
  const read = await srv.call('GET', `/api/v1/clients/${id}`, { token: sec });
  assert.equal(read.status, 200);
  assert.deepEqual(read.json, shown);
  const list = await srv.call('GET', `/api/v1/clients?org=${GAJ}`, { token: sec });
  assert.ok(list.json.items.some((c) => c.id === id));
  assert.ok(list.json.items.every((c) => !('secret' in c) && !('secret_hash' in c)));
  assert.ok(!list.text.includes(secret));
  // it authenticates as a client
  const who = await me(secret);
  assert.equal(who.status, 200, who.text);
  assert.deepEqual(who.json, { kind: 'client', client_id: id, org_code: GAJ });
  // last use is recorded (written behind the request)
  let used = null;
  for (let i = 0; i < 50 && !used; i++) {
    used = (await srv.call('GET', `/api/v1/clients/${id}`, { token: sec })).json.last_used_at;
    if (!used) await sleep(100);
  }
  assert.match(used || '', RFC3339, 'last_used_at is recorded');
  assert.ok(Math.abs(Date.parse(used) - Date.now()) < 60000);
  // a client cannot sign out; it is revoked instead
  assertProblem(await srv.call('POST', '/api/v1/auth/logout', { token: secret }), 403, 'forbidden');
  const del = await srv.call('DELETE', `/api/v1/clients/${id}`, { token: sec });
  assert.equal(del.status, 204, del.text);
  const after = await me(secret);
  assertProblem(after, 401, 'invalid_token', /revoked/);
  const gone = await srv.call('GET', `/api/v1/clients/${id}`, { token: sec });
  assert.equal(gone.json.status, 'revoked');
  assert.match(gone.json.revoked_at, RFC3339);
  // the name stays taken; a new client needs a new name
  assert.equal((await srv.call('POST', '/api/v1/clients', { token: sec, body: { org_code: GAJ, name: 'identity-test' } })).status, 409);
});

test('tokens, secrets and passwords are stored only as hashes', async () => {
  const token = (await login('gaj_clerk', srv.accounts.password)).json.token;
  const client = (await srv.call('POST', '/api/v1/clients', { token: sec, body: { org_code: GAJ, name: 'hash-test' } })).json.secret;
  const user = await newUser();
  assert.equal((await me(client)).status, 200);
  await sleep(200);
  const files = readdirSync(srv.dir).filter((f) => f.startsWith('yiwang.db'));
  assert.ok(files.includes('yiwang.db'));
  for (const f of files) {
    const bytes = readFileSync(join(srv.dir, f)).toString('latin1');
    for (const s of [token, client, user.password, srv.accounts.password]) {
      assert.ok(!bytes.includes(s), `${f} holds a secret in clear`);
      assert.ok(!bytes.includes(s.slice(4)), `${f} holds a secret in clear`);
    }
  }
});

test('an idle session ends after --session-idle seconds', async () => {
  const s = await startServer({ args: ['--session-idle', '2'] });
  try {
    const token = await s.login('gaj_clerk');
    assert.equal((await me(token, s)).status, 200);
    await sleep(3000);
    assertProblem(await me(token, s), 401, 'invalid_token', /inactivity/);
    // a new sign-in works
    assert.equal((await me(await s.login('gaj_clerk'), s)).status, 200);
  } finally {
    await s.stop();
  }
});

test('a session in use does not time out as idle', async () => {
  const s = await startServer({ args: ['--session-idle', '2'] });
  try {
    const token = await s.login('gaj_clerk');
    const statuses = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 4500) {
      const r = await me(token, s);
      statuses.push(`${Date.now() - t0}ms:${r.status}${r.status === 200 ? '' : ` ${r.json?.detail}`}`);
      await sleep(500);
    }
    assert.ok(statuses.every((x) => /:200$/.test(x)), `a request every 0.5 s with a 2 s idle timeout: ${statuses.join(', ')}`);
  } finally {
    await s.stop();
  }
});

test('a session ends after --session-max seconds even while in use', async () => {
  const s = await startServer({ args: ['--session-max', '3'] });
  try {
    const t0 = Date.now();
    const res = await s.call('POST', '/api/v1/auth/login', { body: { username: 'gaj_clerk', password: s.accounts.password } });
    assert.equal(res.status, 200);
    const lifetime = Date.parse(res.json.expires_at) - t0;
    assert.ok(lifetime > 2000 && lifetime <= 3500, `expires_at ${res.json.expires_at} is ${lifetime} ms away`);
    let last;
    while (Date.now() - t0 < 2000) {
      last = await me(res.json.token, s);
      assert.equal(last.status, 200, last.text);
      await sleep(400);
    }
    await sleep(Math.max(0, Date.parse(res.json.expires_at) - Date.now()) + 300);
    assertProblem(await me(res.json.token, s), 401, 'invalid_token', /maximum lifetime/);
  } finally {
    await s.stop();
  }
});

test('guessing the current password through a session counts toward the lockout and ends the session', async () => {
  const u = await newUser();
  const first = await login(u.username, u.password);
  const chosen = 'Chosen-passw0rd-9';
  assert.equal((await srv.call('POST', `/api/v1/users/${u.username}/password`, { token: first.json.token,
    body: { current_password: u.password, new_password: chosen } })).status, 204);
  const token = (await login(u.username, chosen)).json.token;
  for (let i = 0; i < 4; i++) {
    const res = await srv.call('POST', `/api/v1/users/${u.username}/password`, { token,
      body: { current_password: `Wrong-guess-${i}0`, new_password: 'Another-passw0rd-1' } });
    assertProblem(res, 422, 'wrong_password');
  }
  assert.equal((await me(token)).status, 200, 'four wrong guesses leave the session alone');
  const fifth = await srv.call('POST', `/api/v1/users/${u.username}/password`, { token,
    body: { current_password: 'Wrong-guess-50', new_password: 'Another-passw0rd-1' } });
  assertProblem(fifth, 422, 'wrong_password');
  assertProblem(await me(token), 401, 'invalid_token');
  assertProblem(await login(u.username, chosen), 401, 'account_locked');
});

test('a name that is no account locks like one, so lockout does not reveal which names exist', async () => {
  const ghost = `no_such_${Date.now().toString(36)}`;
  for (let i = 0; i < 5; i++) assertProblem(await login(ghost, 'Wrong-passw0rd-x'), 401, 'invalid_credentials');
  const sixth = await login(ghost, 'Wrong-passw0rd-x');
  assertProblem(sixth, 401, 'account_locked');
  assert.match(sixth.headers.get('retry-after'), /^\d+$/);
});
