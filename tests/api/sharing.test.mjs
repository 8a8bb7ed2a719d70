// Sharing: a department asks for another's resource; the provider decides;
// the consumer then reads exactly the granted items — masked where the grant
// says, audited on every read, within its daily quota — until the grant is
// revoked or expires. Requests that break a rule change nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startServer, orgOf } from './lib/server.mjs';
import { assertProblem, sleep } from './lib/util.mjs';

let srv, gaj, jtj, jtjClerk, auditor, bureau, GAJ, JTJ, code, unconditional, closed;
const KEY = '11010519491231002X';
const PERSON = { name: '欧阳修文', gender: '1', birth_date: '1949-12-31', phone: '13812345678',
  address: '浙江省杭州市西湖区文三路90号' };

const item = (name, extra = {}) => ({ name, element: name, ...extra });
async function publish(name, shareType) {
  const made = await srv.call('POST', '/api/v1/resources', { token: gaj, body: {
    name, provider_org: GAJ, summary: '共享测试', category: 'base', format: 'table', share_type: shareType,
    share_condition: '用于法定职责', share_method: 'api', open_type: 'closed', update_cycle: 'daily', key_item: 'id_number',
    items: [item('id_number', { required: true }), item('name'), item('gender'), item('birth_date'), item('phone'),
      item('address')],
  } });
  assert.equal(made.status, 201, made.text);
  const pub = await srv.call('POST', `/api/v1/resources/${made.json.code}/publish`, { token: gaj });
  assert.equal(pub.status, 200, pub.text);
  return made.json.code;
}

const ask = (resource, extra = {}, token = jtj) => srv.call('POST', '/api/v1/share-requests', { token, body: {
  resource, items: ['id_number', 'name', 'birth_date', 'phone', 'address'], purpose: '道路交通违法处理',
  legal_basis: '《中华人民共和国道路交通安全法》第一百一十四条', scenario: '非现场执法', ...extra,
} });
const read = (token, key = KEY, resource = code, query = '') =>
  srv.call('GET', `/api/v1/resources/${resource}/records/${key}${query}`, { token });
const list = async (path, token) => (await srv.call('GET', path, { token })).json.items;

before(async () => {
  srv = await startServer();
  GAJ = orgOf(srv.accounts, 'gaj_steward');
  JTJ = orgOf(srv.accounts, 'jtj_steward');
  gaj = await srv.login('gaj_steward');
  jtj = await srv.login('jtj_steward');
  jtjClerk = await srv.login('jtj_clerk');
  auditor = await srv.login('demo_auditor');
  bureau = await srv.login('dsj_admin');
  code = await publish('人口基本信息（共享测试）', 'conditional');
  unconditional = await publish('人口概要（无条件）', 'unconditional');
  closed = await publish('人口内部（不予共享）', 'none');
  for (const c of [code, unconditional]) {
    const put = await srv.call('PUT', `/api/v1/resources/${c}/records/${KEY}`, { token: gaj, body: { data: PERSON } });
    assert.equal(put.status, 201, put.text);
  }
});
after(() => srv?.stop());

test('a conditional request waits; the provider grants fewer items, some masked; reads show exactly that', async () => {
  const req = await ask(code);
  assert.equal(req.status, 201, req.text);
  assert.equal(req.headers.get('location'), `/api/v1/share-requests/${req.json.id}`);
  assert.deepEqual([req.json.status, req.json.grant_id, req.json.overdue, req.json.consumer_org, req.json.provider_org],
    ['pending', null, false, JTJ, GAJ]);
  assert.ok(Date.parse(req.json.due_at) > Date.now() + 5 * 86400000, 'five working days are at least a week');
  // before the decision, the consumer has no grant: 403, whether or not the record exists
  assertProblem(await read(jtjClerk), 403, 'no_grant');
  assertProblem(await read(jtjClerk, '110101199003070011'), 403, 'no_grant');
  // the provider sees it among the requests waiting for it
  assert.ok((await list('/api/v1/share-requests?role=provider&status=pending', gaj)).some((r) => r.id === req.json.id));

  const ok = await srv.call('POST', `/api/v1/share-requests/${req.json.id}/approve`, { token: gaj, body: {
    items: ['id_number', 'name', 'birth_date', 'phone', 'address'],
    modes: { id_number: 'masked', name: 'masked', phone: 'masked', address: 'masked' },
  } });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual([ok.json.status, ok.json.decided_by], ['approved', 'gaj_steward']);
  const grant = await srv.call('GET', `/api/v1/grants/${ok.json.grant_id}`, { token: jtj });
  assert.deepEqual(grant.json.items, { id_number: 'masked', name: 'masked', birth_date: 'clear', phone: 'masked',
    address: 'masked' });
  assert.equal(grant.json.status, 'active');

  const res = await read(jtjClerk);
  assert.equal(res.status, 200, res.text);
  // gender was never granted: it is absent, not even null
  assert.deepEqual(res.json.data, { id_number: '110105********002X', name: '欧***', birth_date: '1949-12-31',
    phone: '138****5678', address: '浙江省杭州市西湖区****' });
  assert.equal(res.json.grant, ok.json.grant_id);
  assertProblem(await read(jtjClerk, '110101199003070011'), 404, 'not_found');

  // the read is an audit entry: share stage, items disclosed, the grant, hashes of both bodies
  const seq = Number(res.headers.get('x-yiwang-audit-seq'));
  const entries = await list(`/api/v1/audit/events?action=record.read&actor=jtj_clerk&limit=1000`, auditor);
  const entry = entries.find((e) => e.seq === seq);
  assert.ok(entry, `entry ${seq} is in the trail`);
  assert.deepEqual([entry.stage, entry.purpose, entry.status, entry.actor_org, entry.object_ids[0]],
    ['share', ok.json.grant_id, 200, JTJ, code]);
  assert.deepEqual(entry.items, ['id_number', 'name', 'birth_date', 'phone', 'address']);
  assert.equal(entry.response_sha256, createHash('sha256').update(res.text).digest('hex'));
  assert.ok(!JSON.stringify(entry).includes(KEY), 'the key is named by its blind index only');
});

test('an unconditional resource is granted at once, in clear, and recorded', async () => {
  const req = await ask(unconditional, { items: ['id_number', 'name'] });
  assert.equal(req.status, 201, req.text);
  assert.equal(req.json.status, 'approved');
  assert.match(req.json.grant_id, /^GR\d{8}$/);
  const res = await read(jtj, KEY, unconditional);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.data, { id_number: KEY, name: PERSON.name });
  const entries = await list('/api/v1/audit/events?action=share.request&limit=1000', auditor);
  const entry = entries.find((e) => e.object_ids[0] === req.json.id);
  assert.deepEqual(entry.object_ids, [req.json.id, unconditional, req.json.grant_id]);
  assert.deepEqual([entry.stage, entry.status, entry.items], ['share', 201, ['id_number', 'name']]);
});

test('refused requests change nothing: not shared, unknown items, too long, another org\'s system, own resource', async () => {
  const before = (await list('/api/v1/share-requests?limit=1000', bureau)).length;
  assertProblem(await ask(closed), 422, 'not_shared');
  assertProblem(await ask(code, { items: ['id_number', 'shoe_size'] }), 422, 'validation_failed', /shoe_size/);
  assertProblem(await ask(code, { items: ['name', 'name'] }), 422, 'validation_failed', /twice/);
  assertProblem(await ask(code, { items: [] }), 422, 'validation_failed');
  const late = new Date(Date.now() + 400 * 86400000).toISOString();
  assertProblem(await ask(code, { valid_until: late }), 422, 'validation_failed', /at most 365 days/);
  assertProblem(await ask(code, { valid_until: '2020-01-01T00:00:00Z' }), 422, 'validation_failed', /future/);
  const gajClient = srv.accounts.clients.find((c) => c.id.startsWith(`${GAJ}/`)).id;
  assertProblem(await ask(code, { client_id: gajClient }), 422, 'validation_failed', /client_id/);
  assertProblem(await ask(code, { daily_quota: 0 }), 422, 'validation_failed', /daily_quota/);
  assertProblem(await ask(code, {}, gaj), 422, 'validation_failed', /your org provides/);
  assertProblem(await ask('nope-000000'), 404, 'not_found');
  assertProblem(await ask(code, { surprise: true }), 400, 'invalid_request');
  assert.equal((await list('/api/v1/share-requests?limit=1000', bureau)).length, before);
});

test('a rejection reaches the consumer with its reason; a decision is made once', async () => {
  const req = await ask(code, { items: ['name'] });
  const no = await srv.call('POST', `/api/v1/share-requests/${req.json.id}/reject`, { token: gaj,
    body: { reason: '申请用途与共享条件不符' } });
  assert.equal(no.status, 200, no.text);
  const seen = await srv.call('GET', `/api/v1/share-requests/${req.json.id}`, { token: jtj });
  assert.deepEqual([seen.json.status, seen.json.reason, seen.json.grant_id], ['rejected', '申请用途与共享条件不符', null]);
  assertProblem(await srv.call('POST', `/api/v1/share-requests/${req.json.id}/approve`, { token: gaj, body: {} }), 409,
    'already_decided');
  // the consumer cannot decide its own request; a third org does not see it at all
  const mine = await ask(code, { items: ['name'] });
  assertProblem(await srv.call('POST', `/api/v1/share-requests/${mine.json.id}/approve`, { token: jtj, body: {} }), 403,
    'forbidden');
  const scjg = await srv.login('scjg_steward');
  assertProblem(await srv.call('GET', `/api/v1/share-requests/${mine.json.id}`, { token: scjg }), 404, 'not_found');
  assertProblem(await srv.call('POST', `/api/v1/share-requests/${mine.json.id}/reject`, { token: scjg,
    body: { reason: 'x' } }), 404, 'not_found');
  assert.ok(!(await list('/api/v1/share-requests?limit=1000', scjg)).some((r) => r.id === mine.json.id));
  // approving more than was asked is refused and leaves the request pending
  assertProblem(await srv.call('POST', `/api/v1/share-requests/${mine.json.id}/approve`, { token: gaj,
    body: { items: ['name', 'phone'] } }), 422, 'validation_failed', /was not requested/);
  assert.equal((await srv.call('GET', `/api/v1/share-requests/${mine.json.id}`, { token: jtj })).json.status, 'pending');
  // the data bureau oversees every request
  assert.ok((await list('/api/v1/share-requests?limit=1000&status=pending', bureau)).some((r) => r.id === mine.json.id));
});

test('revocation stops the very next read; only the provider or the data bureau revokes', async () => {
  const req = await ask(unconditional, { items: ['name'] });
  const grant = req.json.grant_id;
  assert.equal((await read(jtj, KEY, unconditional, `?grant=${grant}`)).status, 200);
  assertProblem(await srv.call('DELETE', `/api/v1/grants/${grant}`, { token: jtj }), 403, 'forbidden');
  const revoke = await srv.call('DELETE', `/api/v1/grants/${grant}?reason=${encodeURIComponent('执法事项已办结')}`,
    { token: gaj });
  assert.equal(revoke.status, 204, revoke.text);
  assertProblem(await read(jtj, KEY, unconditional, `?grant=${grant}`), 403, 'no_grant');
  const seen = await srv.call('GET', `/api/v1/grants/${grant}`, { token: jtj });
  assert.deepEqual([seen.json.status, seen.json.revoked_by, seen.json.revoke_reason],
    ['revoked', 'gaj_steward', '执法事项已办结']);
  assertProblem(await srv.call('DELETE', `/api/v1/grants/${grant}`, { token: gaj }), 409, 'already_revoked');
  assert.ok((await list('/api/v1/grants?status=revoked&role=consumer', jtj)).some((g) => g.id === grant));
});

test('a grant ends at valid_until: the next read is refused', async () => {
  const until = new Date(Date.now() + 1500).toISOString();
  const req = await ask(unconditional, { items: ['name'], valid_until: until });
  assert.equal(req.status, 201, req.text);
  const via = `?grant=${req.json.grant_id}`;
  assert.equal((await read(jtj, KEY, unconditional, via)).status, 200);
  await sleep(Date.parse(until) - Date.now() + 100);
  assertProblem(await read(jtj, KEY, unconditional, via), 403, 'no_grant');
  assert.equal((await srv.call('GET', `/api/v1/grants/${req.json.grant_id}`, { token: jtj })).json.status, 'expired');
});

test('the daily quota counts records; over it the answer is 429 with Retry-After and nothing is disclosed', async () => {
  const req = await ask(unconditional, { items: ['id_number'], daily_quota: 3 });
  const via = `?grant=${req.json.grant_id}`;
  const batch = (keys) => srv.call('POST', `/api/v1/resources/${unconditional}/records:batch${via}`, { token: jtj,
    body: { keys } });
  const two = await batch([KEY, KEY, '110101199003070011']);
  assert.equal(two.status, 200, two.text);
  assert.equal(two.json.items.length, 2);
  assert.deepEqual(two.json.missing, ['110101199003070011']);
  const over = await batch([KEY, KEY]);
  assertProblem(over, 429, 'quota_exhausted');
  const wait = Number(over.headers.get('retry-after'));
  assert.ok(wait > 0 && wait <= 86400, `Retry-After ${wait}`);
  assert.equal((await read(jtj, KEY, unconditional, via)).status, 200, 'the refused batch used nothing');
  assertProblem(await read(jtj, KEY, unconditional, via), 429, 'quota_exhausted');
  const refused = (await list('/api/v1/audit/events?action=record.read&result=denied&limit=1000', auditor))
    .filter((e) => e.purpose === req.json.grant_id);
  assert.equal(refused.length, 2);
  for (const e of refused) assert.deepEqual([e.status, e.items, e.response_sha256], [429, [], null]);
});

test('a grant bound to one system serves that system only', async () => {
  const secadmin = await srv.adminToken('secadmin');
  const made = await srv.call('POST', '/api/v1/clients', { token: secadmin, body: { org_code: JTJ, name: 'zhifa' } });
  assert.equal(made.status, 201, made.text);
  const req = await ask(code, { items: ['birth_date'], client_id: made.json.id });
  const ok = await srv.call('POST', `/api/v1/share-requests/${req.json.id}/approve`, { token: gaj });
  assert.equal(ok.status, 200, ok.text);
  const via = `?grant=${ok.json.grant_id}`;
  const res = await read(made.json.secret, KEY, code, via);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.data, { birth_date: '1949-12-31' });
  const other = srv.accounts.clients.find((c) => c.id.startsWith(`${JTJ}/`)).secret;
  assertProblem(await read(other, KEY, code, via), 403, 'no_grant');
  assertProblem(await read(jtjClerk, KEY, code, via), 403, 'no_grant');
});

test('queries filter through indexes on items granted in clear; anything else is refused', async () => {
  const made = await srv.call('POST', '/api/v1/resources', { token: gaj, body: {
    name: '查询测试', provider_org: GAJ, summary: '查询', category: 'department', format: 'table',
    share_type: 'conditional', share_condition: '依法', share_method: 'api', open_type: 'closed', update_cycle: 'daily',
    key_item: 'id_number', items: [item('id_number', { required: true }), item('name'), item('gender', { indexed: true }),
      { name: 'score', type: 'N', length: 5, sensitivity: 'L1', indexed: true },
      { name: 'district', type: 'C', length: 20, sensitivity: 'L1', indexed: true },
      { name: 'note', type: 'C', length: 20, sensitivity: 'L1' }],
  } });
  assert.equal(made.status, 201, made.text);
  const q = made.json.code;
  assert.equal((await srv.call('POST', `/api/v1/resources/${q}/publish`, { token: gaj })).status, 200);
  const people = [];
  for (let i = 0; i < 12; i++) {
    const first17 = `3301061990010${String(100 + i).padStart(3, '0')}${i % 2 ? 1 : 2}`;
    const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const key = first17 + '10X98765432'[[...first17].reduce((a, c, k) => a + Number(c) * w[k], 0) % 11];
    const data = { name: `测试${i}`, gender: i % 2 ? '1' : '2', score: i * 10, district: i < 6 ? '西湖区文三街道' : '上城区湖滨街道',
      note: `备注${i}` };
    people.push({ key, ...data });
    const put = await srv.call('PUT', `/api/v1/resources/${q}/records/${key}`, { token: gaj, body: { data } });
    assert.equal(put.status, 201, put.text);
  }
  const req = await ask(q, { items: ['id_number', 'name', 'gender', 'score', 'district', 'note'] });
  const ok = await srv.call('POST', `/api/v1/share-requests/${req.json.id}/approve`, { token: gaj,
    body: { modes: { name: 'masked' } } });
  assert.equal(ok.status, 200, ok.text);
  const query = (body) => srv.call('POST', `/api/v1/resources/${q}/query?grant=${ok.json.grant_id}`, { token: jtj, body });
  const keysOf = (res) => res.json.items.map((r) => r.key).sort();
  const expect = (pred) => people.filter(pred).map((p) => p.key).sort();

  const men = await query({ filter: { gender: { eq: '1' } } });
  assert.equal(men.status, 200, men.text);
  assert.deepEqual(keysOf(men), expect((p) => p.gender === '1'));
  assert.ok(men.json.items.every((r) => /^测\*+$/.test(r.data.name) && r.data.gender === '1'), JSON.stringify(men.json.items[0]));
  assert.match(men.headers.get('x-yiwang-audit-seq'), /^\d+$/);
  const range = await query({ filter: { score: { gte: 30, lt: 70 }, gender: { eq: '2' } }, items: ['score'] });
  assert.deepEqual(keysOf(range), expect((p) => p.score >= 30 && p.score < 70 && p.gender === '2'));
  assert.ok(range.json.items.every((r) => Object.keys(r.data).join() === 'score'), 'only the items asked for');
  assert.deepEqual(keysOf(await query({ filter: { district: { prefix: '西湖区' } } })), expect((p) => p.district.startsWith('西湖区')));
  const two = [people[3].key, people[8].key];
  assert.deepEqual(keysOf(await query({ filter: { id_number: { in: two } } })), [...two].sort());
  assert.deepEqual(keysOf(await query({ filter: { id_number: { eq: people[5].key }, gender: { eq: '1' } } })), [people[5].key]);
  // paging: every match once
  const seen = [];
  let cursor;
  do {
    const page = await query({ filter: { score: { gte: 0 } }, limit: 5, ...(cursor ? { cursor } : {}) });
    assert.equal(page.status, 200, page.text);
    seen.push(...page.json.items.map((r) => r.key));
    cursor = page.json.next_cursor;
  } while (cursor);
  assert.deepEqual(seen.sort(), people.map((p) => p.key).sort());

  // refused: masked items, items not indexed, unknown items and conditions, sensitive items as indexes
  assertProblem(await query({ filter: { name: { eq: '测试1' } } }), 422, 'validation_failed', /not granted in clear/);
  assertProblem(await query({ filter: { note: { eq: '备注1' } } }), 422, 'validation_failed', /not indexed/);
  assertProblem(await query({ filter: { shoe: { eq: 1 } } }), 422, 'validation_failed', /not an item/);
  assertProblem(await query({ filter: { gender: { like: '1' } } }), 422, 'validation_failed', /unknown condition/);
  assertProblem(await query({ filter: { id_number: { prefix: '3301' } } }), 422, 'validation_failed', /eq or in/);
  assertProblem(await query({ filter: {} }), 422, 'validation_failed');
  assertProblem(await query({ filter: { gender: { eq: '1' } }, limit: 5000 }), 422, 'validation_failed');
  assertProblem(await srv.call('POST', `/api/v1/resources/${q}/query`, { token: await srv.login('scjg_steward'),
    body: { filter: { gender: { eq: '1' } } } }), 403, 'no_grant');
  const bad = await srv.call('PATCH', `/api/v1/resources/${q}`, { token: gaj, body: {
    items: [item('id_number', { required: true }), item('name', { indexed: true })] } });
  assertProblem(bad, 422, 'validation_failed', /cannot be indexed/);

  // the filter reads the index: SQLite's own plan for the query the server runs
  const { execFileSync } = await import('node:child_process');
  const plan = execFileSync('sqlite3', [`${srv.dir}/yiwang.db`, `EXPLAIN QUERY PLAN SELECT rowid, key_index FROM records
    WHERE resource = '${q}' AND deleted = 0 AND rowid > 0 AND json_extract(data, '$.gender') = '1' ORDER BY rowid LIMIT 51`]).toString();
  assert.match(plan, /USING INDEX records_q_/, plan);
});

test('a record read alone shows what it shows in a batch: the same items, masks and key', async () => {
  const KEY2 = '110101199003070011';
  const odd = { name: '王"小\\明', gender: '2', birth_date: '1990-03-07', phone: '13900001111',
    address: '浙江省杭州市上城区"清河坊"\\3号' };
  const put = await srv.call('PUT', `/api/v1/resources/${code}/records/${KEY2}`, { token: gaj, body: { data: odd } });
  assert.equal(put.status, 201, put.text);
  const req = await ask(code, { items: ['id_number', 'name', 'gender', 'birth_date', 'phone', 'address'] });
  assert.equal(req.status, 201, req.text);
  const ok = await srv.call('POST', `/api/v1/share-requests/${req.json.id}/approve`, { token: gaj, body: {
    items: ['id_number', 'name', 'gender', 'birth_date', 'phone', 'address'],
    modes: { id_number: 'masked', name: 'masked', address: 'masked' } } });
  assert.equal(ok.status, 200, ok.text);
  const via = `?grant=${ok.json.grant_id}`;
  const batch = await srv.call('POST', `/api/v1/resources/${code}/records:batch${via}`, { token: jtj,
    body: { keys: [KEY, KEY2] } });
  assert.equal(batch.status, 200, batch.text);
  for (const [i, key] of [KEY, KEY2].entries()) {
    const one = await read(jtj, key, code, via);
    assert.equal(one.status, 200, one.text);
    const { grant, ...record } = one.json;
    assert.equal(grant, ok.json.grant_id);
    assert.deepEqual(record, batch.json.items[i]);
  }
  const second = (await read(jtj, KEY2, code, via)).json;
  assert.equal(second.key, KEY2, 'the key as asked for');
  assert.deepEqual(Object.keys(second.data), ['id_number', 'name', 'gender', 'birth_date', 'phone', 'address']);
  assert.equal(second.data.phone, odd.phone);
  assert.notEqual(second.data.name, odd.name);
});

test('values of every kind read through a grant as the provider stored them', async () => {
  const made = await srv.call('POST', '/api/v1/resources', { token: gaj, body: {
    name: '取值测试', provider_org: GAJ, summary: '取值', category: 'department', format: 'table',
    share_type: 'unconditional', share_method: 'api', open_type: 'closed', update_cycle: 'daily',
    key_item: 'id_number', items: [item('id_number', { required: true }),
      { name: 'count', type: 'N', length: 20, sensitivity: 'L1' },
      { name: 'ratio', type: 'N', length: 20, sensitivity: 'L1' },
      { name: 'secret_count', type: 'N', length: 20, sensitivity: 'L3' },
      { name: 'note', type: 'C', length: 50, sensitivity: 'L1' },
      { name: 'secret_note', type: 'C', length: 50, sensitivity: 'L3' },
      { name: 'empty', type: 'C', length: 10, sensitivity: 'L1' }],
  } });
  assert.equal(made.status, 201, made.text);
  const v = made.json.code;
  assert.equal((await srv.call('POST', `/api/v1/resources/${v}/publish`, { token: gaj })).status, 200);
  const data = { count: -1234567890123, ratio: 3.25, secret_count: 42, note: '引号"反斜杠\\制表\t结束',
    secret_note: '密"文\\', empty: null };
  const put = await srv.call('PUT', `/api/v1/resources/${v}/records/${KEY}`, { token: gaj, body: { data } });
  assert.equal(put.status, 201, put.text);
  const asked = await ask(v, { items: ['id_number', 'count', 'ratio', 'secret_count', 'note', 'secret_note', 'empty'] });
  assert.equal(asked.status, 201, asked.text);
  const via = `?grant=${asked.json.grant_id}`;
  const own = await read(gaj, KEY, v);
  assert.equal(own.status, 200, own.text);
  const granted = await read(jtj, KEY, v, via);
  assert.equal(granted.status, 200, granted.text);
  const { empty, ...shown } = { ...data, id_number: KEY };
  assert.equal(empty, null);
  assert.deepEqual(granted.json.data, shown, 'null is not shown, the rest as stored');
  assert.deepEqual(granted.json.data, Object.fromEntries(Object.entries(own.json.data).filter(([, x]) => x !== null)));
  const batch = await srv.call('POST', `/api/v1/resources/${v}/records:batch${via}`, { token: jtj, body: { keys: [KEY] } });
  assert.deepEqual(batch.json.items[0].data, shown);
});
