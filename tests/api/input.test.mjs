// Bad input gets the right RFC 9457 problem, and changes nothing: every
// rejected write is followed by reading the registry back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, orgOf } from './lib/server.mjs';
import { assertProblem, makeUscc, breakCheckDigit } from './lib/util.mjs';

let srv, sys, sec, GAJ, BUREAU;

before(async () => {
  srv = await startServer();
  sys = await srv.adminToken('sysadmin');
  sec = await srv.adminToken('secadmin');
  GAJ = orgOf(srv.accounts, 'gaj_admin');
  BUREAU = orgOf(srv.accounts, 'dsj_admin');
});
after(() => srv?.stop());

/** Everything a rejected registry write could have touched. */
async function snapshot() {
  const get = async (path, token) => {
    const r = await srv.call('GET', path, { token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.next_cursor, null, 'the snapshot must fit one page');
    return r.json.items;
  };
  return {
    orgs: await get('/api/v1/orgs?limit=1000', sys),
    users: await get('/api/v1/users?limit=1000', sec),
    clients: await get('/api/v1/clients?limit=1000', sec),
  };
}

/** Runs fn (which makes rejected requests) and asserts the registry did not change. */
async function changesNothing(fn) {
  const beforeState = await snapshot();
  await fn();
  assert.deepEqual(await snapshot(), beforeState, 'a rejected request changed the registry');
}

const orgBody = (over = {}) => ({ code: makeUscc(), name: '输入测试局', region_code: '330100', level: 'district', ...over });
const postOrgRaw = (raw, headers = { 'Content-Type': 'application/json' }) =>
  srv.call('POST', '/api/v1/orgs', { token: sys, raw, headers });

test('malformed JSON: 400 malformed_json', async () => {
  await changesNothing(async () => {
    const code = makeUscc();
    for (const raw of [`{"code":"${code}","name":"x",`, '{code: 1}', '{"a":1}{', 'nul', '{"name":"\u0000"', "{'a':1}"]) {
      assertProblem(await postOrgRaw(raw), 400, 'malformed_json');
    }
    // duplicate members are ambiguous and refused too
    const dup = `{"code":"${code}","name":"a","name":"b","region_code":"330100","level":"city"}`;
    assertProblem(await postOrgRaw(dup), 400, 'malformed_json');
    assertProblem(await postOrgRaw(''), 400, 'invalid_request', /body is required/);
    assert.equal((await srv.call('GET', `/api/v1/orgs/${code}`, { token: sys })).status, 404);
  });
});

test('unknown fields: 400 invalid_request naming the field', async () => {
  await changesNothing(async () => {
    const body = orgBody({ colour: 'red' });
    assertProblem(await srv.call('POST', '/api/v1/orgs', { token: sys, body }), 400, 'invalid_request', /colour/);
    assert.equal((await srv.call('GET', `/api/v1/orgs/${body.code}`, { token: sys })).status, 404);
    const user = { username: 'unknown_field', display_name: 'x', org_code: GAJ, roles: ['clerk'], password: 'Abcdefgh12!!' };
    assertProblem(await srv.call('POST', '/api/v1/users', { token: sec, body: user }), 400, 'invalid_request', /password/);
    assertProblem(await srv.call('PATCH', `/api/v1/orgs/${GAJ}`, { token: sys, body: { code: makeUscc() } }), 400,
      'invalid_request', /code/);
    assertProblem(await srv.call('PATCH', '/api/v1/users/gaj_clerk', { token: sec, body: { org_code: BUREAU } }), 400,
      'invalid_request', /org_code/);
    assertProblem(await srv.call('POST', '/api/v1/clients', { token: sec, body: { org_code: GAJ, name: 'x', secret: 'y' } }),
      400, 'invalid_request', /secret/);
  });
});

test('wrong types and missing fields: 400 invalid_request', async () => {
  await changesNothing(async () => {
    const cases = [
      ['POST', '/api/v1/orgs', sys, orgBody({ name: 123 })],
      ['POST', '/api/v1/orgs', sys, orgBody({ legacy_code: 'yes' })],
      ['POST', '/api/v1/orgs', sys, orgBody({ parent_code: ['x'] })],
      ['POST', '/api/v1/orgs', sys, { name: 'no code', region_code: '330100', level: 'city' }],
      ['POST', '/api/v1/orgs', sys, [orgBody()]],
      ['POST', '/api/v1/users', sec, { username: 'typed_user', display_name: 'x', org_code: GAJ, roles: 'clerk' }],
      ['POST', '/api/v1/users', sec, { username: 'typed_user', display_name: 'x', org_code: GAJ, roles: [1] }],
      ['POST', '/api/v1/users', sec, { username: 42, display_name: 'x', org_code: GAJ, roles: ['clerk'] }],
      ['PATCH', '/api/v1/users/gaj_clerk', sec, { display_name: null }],
      ['PATCH', `/api/v1/orgs/${GAJ}`, sys, { name: { zh: '公安' } }],
      ['POST', '/api/v1/clients', sec, { org_code: GAJ, name: true }],
      ['POST', '/api/v1/auth/login', undefined, { username: 'gaj_clerk', password: 12345678901 }],
      ['POST', '/api/v1/auth/login', undefined, { username: 'gaj_clerk' }],
      ['POST', '/api/v1/auth/login', undefined, { username: 'a'.repeat(65), password: 'x' }],
    ];
    for (const [method, path, token, body] of cases) {
      const res = await srv.call(method, path, { token, body });
      assertProblem(res, 400, 'invalid_request');
    }
  });
});

test('JSON nested 33 deep is refused before parsing; 32 deep is parsed', async () => {
  const nested = (depth) => `{"x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
  await changesNothing(async () => {
    assertProblem(await postOrgRaw(nested(33)), 400, 'malformed_json', /deeper than 32/);
    assertProblem(await postOrgRaw(nested(100000)), 400, 'malformed_json', /deeper than 32/);
    // 32 levels parse; the body is then refused for its unknown member, not for its depth
    assertProblem(await postOrgRaw(nested(32)), 400, 'invalid_request', /unknown field 'x'/);
  });
  // brackets inside strings do not count
  const code = makeUscc();
  const res = await postOrgRaw(JSON.stringify(orgBody({ code, name: '['.repeat(40) })));
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.name, '['.repeat(40));
});

test('bodies over 1 MiB: 413, with or without Content-Length; the limit itself is accepted', async () => {
  const LIMIT = 1024 * 1024;
  const padded = (body, size) => {
    const text = JSON.stringify(body);
    return text.slice(0, -1) + ' '.repeat(size - Buffer.byteLength(text)) + '}';
  };
  const big = orgBody();
  await changesNothing(async () => {
    // a valid request, one byte too large
    const res = await postOrgRaw(padded(big, LIMIT + 1));
    assertProblem(res, 413, 'body_too_large');
    // chunked: the server cannot know the size in advance
    const stream = new ReadableStream({
      start(c) {
        const chunk = new TextEncoder().encode(' '.repeat(64 * 1024));
        for (let i = 0; i < 17; i++) c.enqueue(chunk);
        c.close();
      },
    });
    const r = await fetch(`${srv.base}/api/v1/orgs`, {
      method: 'POST', body: stream, duplex: 'half',
      headers: { Authorization: `Bearer ${sys}`, 'Content-Type': 'application/json' },
    });
    const text = await r.text();
    assertProblem({ status: r.status, headers: r.headers, text, json: JSON.parse(text) }, 413, 'body_too_large');
    // sign-in has a 16 KiB limit of its own
    const login = JSON.stringify({ username: 'gaj_clerk', password: 'x'.repeat(16 * 1024) });
    assertProblem(await srv.call('POST', '/api/v1/auth/login', { raw: login, headers: { 'Content-Type': 'application/json' } }),
      413, 'body_too_large');
    assert.equal((await srv.call('GET', `/api/v1/orgs/${big.code}`, { token: sys })).status, 404);
  });
  // exactly the limit is fine
  const res = await postOrgRaw(padded(big, LIMIT));
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.code, big.code);
});

test('wrong content type: 415', async () => {
  await changesNothing(async () => {
    const body = JSON.stringify(orgBody());
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', 'application/json-seq', 'text/json']) {
      assertProblem(await postOrgRaw(body, { 'Content-Type': ct }), 415, 'unsupported_media_type');
    }
    // no content type at all (fetch labels a string body text/plain, so send bytes)
    const r = await fetch(`${srv.base}/api/v1/orgs`, {
      method: 'POST', body: new TextEncoder().encode(body), headers: { Authorization: `Bearer ${sys}` },
    });
    const text = await r.text();
    assertProblem({ status: r.status, headers: r.headers, text, json: JSON.parse(text) }, 415, 'unsupported_media_type');
  });
  // parameters and case do not matter
  const res = await postOrgRaw(JSON.stringify(orgBody()), { 'Content-Type': 'Application/JSON; charset=utf-8' });
  assert.equal(res.status, 201, res.text);
});

test('invalid org codes and fields: 422 validation_failed', async () => {
  await changesNothing(async () => {
    const good = makeUscc();
    const cases = [
      { code: breakCheckDigit(good) },                  // check digit
      { code: good.slice(0, 17) },                      // 17 characters
      { code: good.slice(0, 10) + 'I' + good.slice(11) },  // I is not in the alphabet
      { code: 'Z' + good.slice(1) },                    // Z is not in the alphabet
      { region_code: '990100' },                        // no such province
      { region_code: '33010' },                         // 5 digits
      { level: 'galaxy' },
      { name: '' },
      { name: '名'.repeat(129) },
      { name: 'tab\there' },
      { parent_code: makeUscc() },                      // not registered
    ];
    for (const over of cases) {
      const body = orgBody(over);
      assertProblem(await srv.call('POST', '/api/v1/orgs', { token: sys, body }), 422, 'validation_failed');
    }
    // a code that is its own parent
    const self = makeUscc();
    assertProblem(await srv.call('POST', '/api/v1/orgs', { token: sys, body: orgBody({ code: self, parent_code: self }) }),
      422, 'validation_failed');
    // and the same rules on PATCH
    for (const body of [{ level: 'galaxy' }, { region_code: '000000' }, { name: '' }, { status: 'deleted' },
      { parent_code: GAJ }, { parent_code: makeUscc() }]) {
      assertProblem(await srv.call('PATCH', `/api/v1/orgs/${GAJ}`, { token: sys, body }), 422, 'validation_failed');
    }
  });
});

test('a duplicate org: 409, and the original is untouched', async () => {
  const body = orgBody({ name: '原来的名字' });
  assert.equal((await srv.call('POST', '/api/v1/orgs', { token: sys, body })).status, 201);
  await changesNothing(async () => {
    const res = await srv.call('POST', '/api/v1/orgs', { token: sys, body: { ...body, name: '新的名字', level: 'city' } });
    assertProblem(res, 409, 'conflict');
    // the demo's own departments too
    assertProblem(await srv.call('POST', '/api/v1/orgs', { token: sys, body: orgBody({ code: GAJ }) }), 409, 'conflict');
  });
  const read = await srv.call('GET', `/api/v1/orgs/${body.code}`, { token: sys });
  assert.equal(read.json.name, '原来的名字');
  assert.equal(read.json.level, 'district');
});

test('duplicate users and clients: 409', async () => {
  await changesNothing(async () => {
    assertProblem(await srv.call('POST', '/api/v1/users', {
      token: sec, body: { username: 'gaj_clerk', display_name: '冒名', org_code: BUREAU, roles: ['clerk'] },
    }), 409, 'conflict');
    assertProblem(await srv.call('POST', '/api/v1/clients', { token: sec, body: { org_code: GAJ, name: 'exchange' } }),
      409, 'conflict');
  });
  const u = await srv.call('GET', '/api/v1/users/gaj_clerk', { token: sec });
  assert.equal(u.json.org_code, GAJ);
});

test('weak or wrong passwords: 422, and the password stays what it was', async () => {
  const user = 'mzj_clerk';
  const current = srv.accounts.password;
  const token = await srv.login(user, current);
  const change = (body) => srv.call('POST', `/api/v1/users/${user}/password`, { token, body });
  for (const next of ['Sh0rt!', 'alllowercaseletters', 'ALLUPPER1234', '1234567890123', `Xx-${user}-Passw0rd`,
    `Xx-MZJ_CLERK-99`]) {
    assertProblem(await change({ current_password: current, new_password: next }), 422, 'weak_password');
  }
  assertProblem(await change({ current_password: current, new_password: current }), 422, 'weak_password', /differ/);
  assertProblem(await change({ current_password: 'Not-the-Passw0rd', new_password: 'Quite-G00d-Passw0rd' }), 422, 'wrong_password');
  assertProblem(await change({ new_password: 'Quite-G00d-Passw0rd' }), 400, 'invalid_request', /current_password/);
  // the administrator reset follows the same policy
  assertProblem(await srv.call('POST', `/api/v1/users/${user}/password`, { token: sec, body: { new_password: 'weak' } }),
    422, 'weak_password');
  assertProblem(await srv.call('POST', `/api/v1/users/${user}/password`, {
    token: sec, body: { current_password: current, new_password: 'Quite-G00d-Passw0rd' },
  }), 400, 'invalid_request');
  // nothing changed: the old password signs in, the session still works, no forced change
  const again = await srv.call('POST', '/api/v1/auth/login', { body: { username: user, password: current } });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.user.must_change_password, false);
  assert.equal((await srv.call('POST', '/api/v1/auth/login', { body: { username: user, password: 'Quite-G00d-Passw0rd' } })).status, 401);
  assert.equal((await srv.call('GET', '/api/v1/auth/me', { token })).status, 200);
});

test('unknown roles, separation of duties and a nonexistent org: 422', async () => {
  await changesNothing(async () => {
    const user = (over) => ({ username: 'role_test', display_name: '角色测试', org_code: GAJ, roles: ['clerk'], ...over });
    const cases = [
      [{ roles: ['superuser'] }, /unknown role/],
      [{ roles: ['Clerk'] }, /unknown role/],
      [{ roles: [] }, /non-empty/],
      [{ roles: ['clerk', 'clerk'] }, /twice/],
      [{ roles: ['sysadmin', 'steward'] }, /platform administrator/],
      [{ roles: ['auditor', 'clerk'] }, /platform administrator/],
      [{ roles: ['sysadmin', 'secadmin'] }, /separate duties/],
      [{ roles: ['secadmin', 'auditor'] }, /separate duties/],
      [{ org_code: makeUscc() }, /org_code/],
      [{ username: 'Upper' }, /username/],
      [{ username: 'ab' }, /username/],
      [{ username: '1abc' }, /username/],
      [{ username: 'a b c' }, /username/],
      [{ display_name: '' }, /display_name/],
    ];
    for (const [over, detail] of cases) {
      assertProblem(await srv.call('POST', '/api/v1/users', { token: sec, body: user(over) }), 422, 'validation_failed', detail);
    }
    // changing roles follows the same rules
    for (const roles of [['superuser'], ['sysadmin', 'steward'], []]) {
      assertProblem(await srv.call('PATCH', '/api/v1/users/gaj_clerk', { token: sec, body: { roles } }), 422, 'validation_failed');
    }
    assertProblem(await srv.call('PATCH', '/api/v1/users/gaj_clerk', { token: sec, body: { status: 'deleted' } }),
      422, 'validation_failed');
    // clients: a nonexistent org, a bad name
    assertProblem(await srv.call('POST', '/api/v1/clients', { token: sec, body: { org_code: makeUscc(), name: 'sys' } }),
      422, 'validation_failed', /org_code/);
    for (const name of ['Upper', '-lead', 'under_score', 'x'.repeat(49), '']) {
      assertProblem(await srv.call('POST', '/api/v1/clients', { token: sec, body: { org_code: GAJ, name } }),
        name.length > 48 ? 400 : 422, name.length > 48 ? 'invalid_request' : 'validation_failed');
    }
  });
  assert.equal((await srv.call('GET', '/api/v1/users/role_test', { token: sec })).status, 404);
});

test('bad list parameters: 400', async () => {
  for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'limit=-1', 'limit=', 'cursor=%%%', 'cursor=not*base64']) {
    assertProblem(await srv.call('GET', `/api/v1/orgs?${q}`, { token: sys }), 400, 'invalid_request');
  }
});

test('unknown paths: 404; a wrong method: 405 with Allow', async () => {
  // (/ is the web console's page; paths beside it are unknown like any other)
  for (const path of ['/api/v1/nope', '/api/v2/orgs', '/api/v1/orgs/a/b/c', '/index.html', '/console', '/console/a/b',
    '/api/v1/' + 'x/'.repeat(20)]) {
    assertProblem(await srv.call('GET', path, { token: sys }), 404, 'not_found');
  }
  // without a credential too: an unknown path reveals nothing more
  assertProblem(await srv.call('GET', '/api/v1/nope'), 404, 'not_found');
  const cases = [
    ['DELETE', '/api/v1/orgs', 'GET, POST'],
    ['PUT', `/api/v1/orgs/${GAJ}`, 'GET, PATCH'],
    ['DELETE', '/api/v1/users/gaj_clerk', 'GET, PATCH'],
    ['GET', '/api/v1/auth/login', 'POST'],
    ['GET', '/api/v1/users/gaj_clerk/password', 'POST'],
    ['PATCH', `/api/v1/clients/${GAJ}/exchange`, 'GET, DELETE'],
    ['POST', '/', 'GET'],
    ['DELETE', '/console/main.js', 'GET'],
  ];
  for (const [method, path, allow] of cases) {
    const res = await srv.call(method, path, { token: sys });
    assertProblem(res, 405, 'method_not_allowed');
    assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
  }
});

test('X-Request-Id is echoed when sane and generated otherwise', async () => {
  const sane = 'req-1234_abc.DEF';
  let res = await srv.call('GET', '/api/v1/nope', { headers: { 'X-Request-Id': sane } });
  assert.equal(res.headers.get('x-request-id'), sane);
  assert.equal(res.json.request_id, sane);
  res = await srv.call('GET', '/healthz', { headers: { 'X-Request-Id': 'a'.repeat(40) } });
  assert.equal(res.headers.get('x-request-id'), 'a'.repeat(40));
  const seen = new Set();
  for (const bad of ['a'.repeat(41), 'has space', '<script>', 'semi;colon', 'quote"d', 'slash/']) {
    res = await srv.call('GET', '/api/v1/nope', { headers: { 'X-Request-Id': bad } });
    const id = res.headers.get('x-request-id');
    assert.notEqual(id, bad);
    assert.match(id, /^[0-9a-f]{20}$/);
    assert.equal(res.json.request_id, id);
    seen.add(id);
  }
  res = await srv.call('GET', '/healthz');
  assert.match(res.headers.get('x-request-id'), /^[0-9a-f]{20}$/);
  seen.add(res.headers.get('x-request-id'));
  assert.equal(seen.size, 7, 'generated request ids are unique');
});

/** Sends raw bytes and returns the status line and headers of the reply. */
function rawRequest(port, text) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.setTimeout(10000, () => { sock.destroy(); reject(new Error(`no reply; got ${data}`)); });
    sock.on('data', (d) => { data += d; });
    sock.on('error', reject);
    sock.on('close', () => resolve(data));
    sock.on('connect', () => sock.end(text));
  });
}

test('oversized headers and URLs are refused, and the server goes on', async () => {
  const huge = 'x'.repeat(70 * 1024);
  let reply = await rawRequest(srv.port, `GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ${huge}\r\n\r\n`);
  assert.match(reply, /^HTTP\/1\.1 431 /);
  reply = await rawRequest(srv.port, `GET /healthz HTTP/1.1\r\nHost: t\r\n${'X-Many: y\r\n'.repeat(8000)}\r\n`);
  assert.match(reply, /^HTTP\/1\.1 431 /);
  reply = await rawRequest(srv.port, `GET /api/v1/${huge} HTTP/1.1\r\nHost: t\r\n\r\n`);
  assert.match(reply, /^HTTP\/1\.1 414 /);
  // a bearer token too long to be one is a plain 401
  const res = await srv.call('GET', '/api/v1/auth/me', { token: 'yws_' + 'a'.repeat(4000) });
  assertProblem(res, 401, 'invalid_token');
  assert.equal((await srv.call('GET', '/healthz')).status, 200);
});

test('each user and client is held to its request rate: 429 with Retry-After, others unaffected', async () => {
  const limited = await startServer({ args: ['--rate-limit', '5'] });
  try {
    const clerk = await limited.login('gaj_clerk');
    const answers = await Promise.all(Array.from({ length: 30 }, () => limited.call('GET', '/api/v1/auth/me', { token: clerk })));
    const refused = answers.filter((r) => r.status === 429);
    assert.ok(answers.filter((r) => r.status === 200).length >= 10, 'the burst (twice the rate) goes through');
    assert.ok(refused.length >= 10, `${refused.length} refused of 30`);
    assertProblem(refused[0], 429, 'rate_limited');
    assert.ok(Number(refused[0].headers.get('retry-after')) >= 1);
    const other = await limited.login('gaj_steward');
    assert.equal((await limited.call('GET', '/api/v1/auth/me', { token: other })).status, 200, 'another caller');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await limited.call('GET', '/api/v1/auth/me', { token: clerk })).status, 200, 'after waiting');
  } finally {
    await limited.stop();
  }
});
