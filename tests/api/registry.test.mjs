// The registry: orgs (create, read, page, update, hierarchy), users (who may
// create whom, roles, disabling) and list filtering by org.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, orgOf } from './lib/server.mjs';
import { assertProblem, makeUscc, breakCheckDigit, RFC3339 } from './lib/util.mjs';

let srv, sys, sec, gajAdmin, GAJ, SCJG, BUREAU;

before(async () => {
  srv = await startServer();
  sys = await srv.adminToken('sysadmin');
  sec = await srv.adminToken('secadmin');
  gajAdmin = await srv.login('gaj_admin');
  GAJ = orgOf(srv.accounts, 'gaj_admin');
  SCJG = orgOf(srv.accounts, 'scjg_admin');
  BUREAU = orgOf(srv.accounts, 'dsj_admin');
});
after(() => srv?.stop());

const createOrg = (body, token = sys) => srv.call('POST', '/api/v1/orgs', { token, body });

/** Every item of a list, page by page; asserts the paging contract on the way. */
async function allPages(path, token, limit) {
  const items = [];
  let cursor = null, pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await srv.call('GET', url, { token });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.json).sort(), ['items', 'next_cursor']);
    assert.ok(res.json.items.length <= limit);
    cursor = res.json.next_cursor;
    if (cursor !== null) {
      assert.equal(typeof cursor, 'string');
      assert.equal(res.json.items.length, limit, 'only the last page may be short');
    }
    items.push(...res.json.items);
    assert.ok(++pages < 1000, 'paging does not end');
  } while (cursor !== null);
  return { items, pages };
}

test('the sysadmin creates an org: 201, Location, and it reads back', async () => {
  const body = { code: makeUscc(), name: '市数据资源局', region_code: '330100', level: 'city', parent_code: BUREAU };
  const res = await createOrg(body);
  assert.equal(res.status, 201, res.text);
  assert.equal(res.headers.get('location'), `/api/v1/orgs/${body.code}`);
  assert.equal(res.json.code, body.code);
  assert.equal(res.json.name, body.name);
  assert.equal(res.json.region_code, '330100');
  assert.equal(res.json.level, 'city');
  assert.equal(res.json.parent_code, BUREAU);
  assert.equal(res.json.status, 'active');
  assert.equal(res.json.legacy_code, false);
  assert.match(res.json.created_at, RFC3339);
  assert.match(res.json.updated_at, RFC3339);
  const read = await srv.call('GET', res.headers.get('location'), { token: gajAdmin });
  assert.equal(read.status, 200);
  assert.deepEqual(read.json, res.json);
  // without a parent the parent is null
  const top = { code: makeUscc('330000'), name: '省大数据局', region_code: '330000', level: 'province' };
  const r2 = await createOrg(top);
  assert.equal(r2.status, 201, r2.text);
  assert.equal(r2.json.parent_code, null);
  assertProblem(await srv.call('GET', `/api/v1/orgs/${makeUscc()}`, { token: sys }), 404, 'not_found');
});

test('org lists page with ?limit and ?cursor: no duplicates, no gaps, null at the end', async () => {
  for (let i = 0; i < 5; i++) {
    assert.equal((await createOrg({ code: makeUscc(), name: `分页${i}`, region_code: '330100', level: 'district' })).status, 201);
  }
  const full = await srv.call('GET', '/api/v1/orgs?limit=1000', { token: sys });
  assert.equal(full.json.next_cursor, null);
  const codes = full.json.items.map((o) => o.code);
  assert.ok(codes.length >= 16, `${codes.length} orgs`);
  assert.deepEqual([...codes].sort(), codes, 'ordered by code');
  for (const limit of [1, 3, 7, codes.length, codes.length + 1]) {
    const { items, pages } = await allPages('/api/v1/orgs', sys, limit);
    assert.deepEqual(items.map((o) => o.code), codes, `limit ${limit}`);
    assert.equal(pages, Math.max(1, Math.ceil(codes.length / limit)), `limit ${limit}`);
  }
  // the default page is 50
  const def = await srv.call('GET', '/api/v1/orgs', { token: sys });
  assert.equal(def.json.items.length, Math.min(50, codes.length));
  // filters
  const children = await srv.call('GET', `/api/v1/orgs?parent=${BUREAU}&limit=1000`, { token: sys });
  assert.ok(children.json.items.length >= 10);
  assert.ok(children.json.items.every((o) => o.parent_code === BUREAU));
  const districts = await srv.call('GET', '/api/v1/orgs?level=district&limit=1000', { token: sys });
  assert.ok(districts.json.items.length >= 5);
  assert.ok(districts.json.items.every((o) => o.level === 'district'));
});

test('PATCH an org: name, level and parent; a cycle is refused', async () => {
  const a = makeUscc(), b = makeUscc(), c = makeUscc();
  assert.equal((await createOrg({ code: a, name: 'A局', region_code: '330100', level: 'city' })).status, 201);
  assert.equal((await createOrg({ code: b, name: 'B局', region_code: '330100', level: 'district', parent_code: a })).status, 201);
  assert.equal((await createOrg({ code: c, name: 'C局', region_code: '330100', level: 'district', parent_code: b })).status, 201);
  const res = await srv.call('PATCH', `/api/v1/orgs/${a}`, { token: sys, body: { name: 'A局（新）' } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.name, 'A局（新）');
  assert.equal(res.json.level, 'city');
  assert.equal((await srv.call('GET', `/api/v1/orgs/${a}`, { token: sys })).json.name, 'A局（新）');
  // a -> c would close the loop a <- b <- c
  const before = (await srv.call('GET', `/api/v1/orgs/${a}`, { token: sys })).json;
  assertProblem(await srv.call('PATCH', `/api/v1/orgs/${a}`, { token: sys, body: { parent_code: c } }), 422, 'validation_failed', /ancestor/);
  assertProblem(await srv.call('PATCH', `/api/v1/orgs/${a}`, { token: sys, body: { parent_code: b } }), 422, 'validation_failed', /ancestor/);
  assertProblem(await srv.call('PATCH', `/api/v1/orgs/${a}`, { token: sys, body: { parent_code: a } }), 422, 'validation_failed');
  assert.deepEqual((await srv.call('GET', `/api/v1/orgs/${a}`, { token: sys })).json, before);
  // null makes an org top-level again; anything but a string or null is refused
  const cleared = await srv.call('PATCH', `/api/v1/orgs/${b}`, { token: sys, body: { parent_code: null } });
  assert.equal(cleared.status, 200, cleared.text);
  assert.equal(cleared.json.parent_code, null);
  assertProblem(await srv.call('PATCH', `/api/v1/orgs/${b}`, { token: sys, body: { parent_code: 7 } }), 400,
    'invalid_request', /string or null/);
  assert.equal((await srv.call('PATCH', `/api/v1/orgs/${b}`, { token: sys, body: { parent_code: a } })).status, 200);
  // moving c under a is fine, and so is deactivating
  const moved = await srv.call('PATCH', `/api/v1/orgs/${c}`, { token: sys, body: { parent_code: a, status: 'inactive' } });
  assert.equal(moved.status, 200, moved.text);
  assert.equal(moved.json.parent_code, a);
  assert.equal(moved.json.status, 'inactive');
  assertProblem(await srv.call('PATCH', `/api/v1/orgs/${makeUscc()}`, { token: sys, body: { name: 'x' } }), 404, 'not_found');
});

test('legacy_code: true admits a code whose check digit fails; the alphabet still holds', async () => {
  const code = breakCheckDigit(makeUscc());
  assertProblem(await createOrg({ code, name: '老单位', region_code: '330100', level: 'district' }), 422, 'validation_failed');
  const res = await createOrg({ code, name: '老单位', region_code: '330100', level: 'district', legacy_code: true });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.legacy_code, true);
  // a later PATCH keeps it valid under the same exemption
  assert.equal((await srv.call('PATCH', `/api/v1/orgs/${code}`, { token: sys, body: { name: '老单位（改）' } })).status, 200);
  const bad = 'I' + makeUscc().slice(1);
  assertProblem(await createOrg({ code: bad, name: '坏码', region_code: '330100', level: 'district', legacy_code: true }),
    422, 'validation_failed');
  // a valid code is still valid with the flag
  const fine = await createOrg({ code: makeUscc(), name: '新单位', region_code: '330100', level: 'district', legacy_code: false });
  assert.equal(fine.status, 201);
  assert.equal(fine.json.legacy_code, false);
});

test('the secadmin creates users in any org and sees the generated password once', async () => {
  for (const [org, roles] of [[SCJG, ['steward', 'approver']], [BUREAU, ['auditor']], [GAJ, ['inspector']]]) {
    const username = `reg_${roles[0]}_${Date.now().toString(36)}`;
    const res = await srv.call('POST', '/api/v1/users', { token: sec, body: { username, display_name: '新人', org_code: org, roles } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('location'), `/api/v1/users/${username}`);
    assert.equal(res.json.username, username);
    assert.equal(res.json.org_code, org);
    assert.deepEqual(res.json.roles, roles);
    assert.equal(res.json.status, 'active');
    assert.equal(res.json.must_change_password, true);
    assert.match(res.json.password, /^.{16}$/);
    const read = await srv.call('GET', `/api/v1/users/${username}`, { token: sec });
    assert.equal(read.status, 200);
    assert.ok(!('password' in read.json) && !('password_hash' in read.json));
    const { password, ...rest } = res.json;
    assert.deepEqual(read.json, rest);
    const list = await srv.call('GET', `/api/v1/users?org=${org}&limit=1000`, { token: sec });
    assert.ok(!list.text.includes(password));
    // the generated password works (and must be changed)
    const login = await srv.call('POST', '/api/v1/auth/login', { body: { username, password } });
    assert.equal(login.status, 200);
    assert.equal(login.json.user.must_change_password, true);
  }
});

test('an org admin creates users in their own org only, and no platform roles', async () => {
  const name = `gaj_new_${Date.now().toString(36)}`;
  const ok = await srv.call('POST', '/api/v1/users', {
    token: gajAdmin, body: { username: name, display_name: '新警员', org_code: GAJ, roles: ['clerk', 'approver'] },
  });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.org_code, GAJ);
  assertProblem(await srv.call('POST', '/api/v1/users', {
    token: gajAdmin, body: { username: `${name}_x`, display_name: '越权', org_code: SCJG, roles: ['clerk'] },
  }), 403, 'forbidden');
  for (const role of ['sysadmin', 'secadmin', 'auditor']) {
    assertProblem(await srv.call('POST', '/api/v1/users', {
      token: gajAdmin, body: { username: `${name}_${role}`, display_name: '越权', org_code: GAJ, roles: [role] },
    }), 403, 'forbidden');
  }
  // nor grant them later, nor move users of other orgs
  assertProblem(await srv.call('PATCH', `/api/v1/users/${name}`, { token: gajAdmin, body: { roles: ['secadmin'] } }), 403, 'forbidden');
  assertProblem(await srv.call('PATCH', '/api/v1/users/scjg_clerk', { token: gajAdmin, body: { roles: ['steward'] } }), 404, 'not_found');
  // platform administrators live in the bureau: invisible to a department's admin
  assertProblem(await srv.call('PATCH', '/api/v1/users/sysadmin', { token: gajAdmin, body: { display_name: 'x' } }), 404, 'not_found');
  // the org admin of the bureau sees them, but may not manage them
  const dsjAdmin = await srv.login('dsj_admin');
  assertProblem(await srv.call('PATCH', '/api/v1/users/auditor', { token: dsjAdmin, body: { display_name: 'x' } }), 403, 'forbidden');
  assertProblem(await srv.call('POST', '/api/v1/users/auditor/password', { token: dsjAdmin, body: { new_password: 'Take-0ver-Auditor' } }),
    403, 'forbidden');
  assertProblem(await srv.call('DELETE', '/api/v1/users/auditor/totp', { token: dsjAdmin }), 403, 'forbidden');
  // roles inside the org are the org admin's to change
  const changed = await srv.call('PATCH', `/api/v1/users/${name}`, { token: gajAdmin, body: { roles: ['steward'] } });
  assert.equal(changed.status, 200, changed.text);
  assert.deepEqual(changed.json.roles, ['steward']);
  const none = await srv.call('GET', `/api/v1/users?limit=1000`, { token: sec });
  assert.ok(!none.json.items.some((u) => u.username.startsWith(`${name}_`)), 'refused users were not created');
});

test('nobody changes their own roles or status', async () => {
  assertProblem(await srv.call('PATCH', '/api/v1/users/secadmin', { token: sec, body: { roles: ['sysadmin'] } }), 403, 'forbidden');
  assertProblem(await srv.call('PATCH', '/api/v1/users/secadmin', { token: sec, body: { roles: ['secadmin'] } }), 403, 'forbidden');
  assertProblem(await srv.call('PATCH', '/api/v1/users/gaj_admin', { token: gajAdmin, body: { roles: ['org_admin', 'steward'] } }),
    403, 'forbidden');
  assertProblem(await srv.call('PATCH', '/api/v1/users/gaj_admin', { token: gajAdmin, body: { status: 'disabled' } }),
    422, 'validation_failed');
  assertProblem(await srv.call('PATCH', '/api/v1/users/secadmin', { token: sec, body: { status: 'disabled' } }),
    422, 'validation_failed');
  assert.deepEqual((await srv.call('GET', '/api/v1/users/gaj_admin', { token: sec })).json.roles, ['org_admin']);
  assert.deepEqual((await srv.call('GET', '/api/v1/users/secadmin', { token: sec })).json.roles, ['secadmin']);
  assert.equal((await srv.call('GET', '/api/v1/auth/me', { token: gajAdmin })).status, 200);
  // someone else may: the secadmin changes the org admin's roles and back
  const r = await srv.call('PATCH', '/api/v1/users/gaj_admin', { token: sec, body: { roles: ['org_admin', 'approver'] } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.roles, ['org_admin', 'approver']);
  assert.equal((await srv.call('PATCH', '/api/v1/users/gaj_admin', { token: sec, body: { roles: ['org_admin'] } })).status, 200);
});

test('disabling a user ends their sessions; enabling lets them sign in again', async () => {
  const username = 'mzj_steward';
  const t1 = await srv.login(username);
  const t2 = await srv.login(username);
  const res = await srv.call('PATCH', `/api/v1/users/${username}`, { token: sec, body: { status: 'disabled' } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.status, 'disabled');
  assertProblem(await srv.call('GET', '/api/v1/auth/me', { token: t1 }), 401, 'invalid_token');
  assertProblem(await srv.call('GET', '/api/v1/auth/me', { token: t2 }), 401, 'invalid_token');
  assertProblem(await srv.call('POST', '/api/v1/auth/login', { body: { username, password: srv.accounts.password } }),
    401, 'invalid_credentials');
  const back = await srv.call('PATCH', `/api/v1/users/${username}`, { token: sec, body: { status: 'active' } });
  assert.equal(back.json.status, 'active');
  assert.equal((await srv.call('GET', '/api/v1/auth/me', { token: t1 })).status, 401, 'old sessions stay ended');
  const t3 = await srv.login(username);
  assert.equal((await srv.call('GET', '/api/v1/auth/me', { token: t3 })).status, 200);
  // an org admin disables users of their own org the same way
  const clerk = await srv.login('gaj_clerk');
  assert.equal((await srv.call('PATCH', '/api/v1/users/gaj_clerk', { token: gajAdmin, body: { status: 'disabled' } })).status, 200);
  assertProblem(await srv.call('GET', '/api/v1/auth/me', { token: clerk }), 401, 'invalid_token');
  assert.equal((await srv.call('PATCH', '/api/v1/users/gaj_clerk', { token: gajAdmin, body: { status: 'active' } })).status, 200);
});

test('user and client lists: an org admin sees only their org, whatever ?org says', async () => {
  const mine = await allPages('/api/v1/users', gajAdmin, 2);
  assert.ok(mine.items.length >= 3);
  assert.ok(mine.items.every((u) => u.org_code === GAJ));
  assert.ok(mine.items.some((u) => u.username === 'gaj_clerk'));
  const sneaky = await srv.call('GET', `/api/v1/users?org=${SCJG}&limit=1000`, { token: gajAdmin });
  assert.equal(sneaky.status, 200);
  assert.ok(sneaky.json.items.every((u) => u.org_code === GAJ));
  assert.deepEqual(sneaky.json.items.map((u) => u.username), mine.items.map((u) => u.username));
  // the secadmin sees everyone, and filters on request
  const all = await allPages('/api/v1/users', sec, 7);
  const orgs = new Set(all.items.map((u) => u.org_code));
  assert.ok(orgs.size >= 11, `${orgs.size} orgs among the users`);
  assert.equal(new Set(all.items.map((u) => u.username)).size, all.items.length, 'no duplicates across pages');
  assert.deepEqual(all.items.map((u) => u.username), [...all.items.map((u) => u.username)].sort());
  const scjg = await srv.call('GET', `/api/v1/users?org=${SCJG}&limit=1000`, { token: sec });
  assert.ok(scjg.json.items.length >= 4);
  assert.ok(scjg.json.items.every((u) => u.org_code === SCJG));
  // clients alike
  const clients = await srv.call('GET', `/api/v1/clients?org=${SCJG}&limit=1000`, { token: gajAdmin });
  assert.equal(clients.status, 200);
  assert.ok(clients.json.items.length >= 1);
  assert.ok(clients.json.items.every((c) => c.org_code === GAJ));
  const every = await allPages('/api/v1/clients', sec, 3);
  assert.ok(every.items.length >= 10);
  assert.ok(new Set(every.items.map((c) => c.org_code)).size >= 10);
});

test('racing creations of one org, user or client: exactly one wins, the rest get 409', async () => {
  const code = makeUscc();
  const orgs = await Promise.all(Array.from({ length: 6 }, (_, i) =>
    createOrg({ code, name: `竞争${i}`, region_code: '330100', level: 'district' })));
  assert.deepEqual(orgs.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
  const winner = orgs.find((r) => r.status === 201).json;
  assert.deepEqual((await srv.call('GET', `/api/v1/orgs/${code}`, { token: sys })).json, winner);
  for (const r of orgs.filter((x) => x.status === 409)) assertProblem(r, 409, 'conflict');

  const username = `race_${Date.now().toString(36)}`;
  const users = await Promise.all(Array.from({ length: 4 }, (_, i) => srv.call('POST', '/api/v1/users', {
    token: sec, body: { username, display_name: `竞争${i}`, org_code: GAJ, roles: ['clerk'] },
  })));
  assert.deepEqual(users.map((r) => r.status).sort(), [201, 409, 409, 409]);
  const won = users.find((r) => r.status === 201).json;
  // the password shown is the one that was stored
  const login = await srv.call('POST', '/api/v1/auth/login', { body: { username, password: won.password } });
  assert.equal(login.status, 200, login.text);

  const clients = await Promise.all(Array.from({ length: 4 }, () => srv.call('POST', '/api/v1/clients', {
    token: sec, body: { org_code: GAJ, name: 'race-client' },
  })));
  assert.deepEqual(clients.map((r) => r.status).sort(), [201, 409, 409, 409]);
  const secret = clients.find((r) => r.status === 201).json.secret;
  assert.equal((await srv.call('GET', '/api/v1/auth/me', { token: secret })).status, 200);
});
