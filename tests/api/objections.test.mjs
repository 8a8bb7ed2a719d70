// Objections, quality and conflicts: a consumer flags a wrong value and the
// provider corrects the record or says why not; each resource has a quality
// score that falls when its records are incomplete, invalid or disagree
// with other providers'; the data bureau finds those disagreements and sends
// them to the providers. Bad input changes nothing; sensitive keys and
// values never appear in clear where they should not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, orgOf, BIN } from './lib/server.mjs';
import { assertProblem } from './lib/util.mjs';

let srv, gaj, rsj, mzj, jtj, jtjClerk, bureau, bureauSteward, GAJ, RSJ, JTJ;
const KEY = '11010519491231002X';

/** A published resource of the steward's org keyed by id_number, with a sensitive name. */
async function publish(token, org, name, extra = []) {
  const made = await srv.call('POST', '/api/v1/resources', { token, body: {
    name, provider_org: org, summary: '异议与质量测试', category: 'department', format: 'table',
    share_type: 'unconditional', share_method: 'api', open_type: 'closed', update_cycle: 'daily', key_item: 'id_number',
    items: [{ name: 'id_number', element: 'id_number', required: true, sensitivity: 'L3', mask: 'id_card' },
      { name: 'name', element: 'name', length: 50, sensitivity: 'L3', mask: 'name' },
      { name: 'phone', element: 'phone', sensitivity: 'L3', mask: 'phone' }, ...extra],
  } });
  assert.equal(made.status, 201, made.text);
  const pub = await srv.call('POST', `/api/v1/resources/${made.json.code}/publish`, { token });
  assert.equal(pub.status, 200, pub.text);
  return made.json.code;
}
const put = async (token, code, key, data) => {
  const r = await srv.call('PUT', `/api/v1/resources/${code}/records/${key}`, { token, body: { data } });
  assert.ok(r.status === 200 || r.status === 201, r.text);
  return r.json;
};
const ask = async (token, resource, items) => {
  const r = await srv.call('POST', '/api/v1/share-requests', { token, body: { resource, items, purpose: '核验',
    legal_basis: '测试依据', scenario: '异议' } });
  assert.equal(r.status, 201, r.text);
  return r.json;
};
const object = (token, code, key, body) =>
  srv.call('POST', `/api/v1/resources/${code}/records/${key}/objections`, { token, body });
const count = async (token, query = '') =>
  (await srv.call('GET', `/api/v1/objections?limit=1000${query}`, { token })).json.items.length;
/** A valid resident ID number from its first 17 digits. */
function idNumber(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((a, c, i) => a + Number(c) * w[i], 0);
  return first17 + '10X98765432'[sum % 11];
}
const sql = (q) => execFileSync('sqlite3', [join(srv.dir, 'yiwang.db'), q]).toString();

before(async () => {
  srv = await startServer();
  GAJ = orgOf(srv.accounts, 'gaj_steward');
  RSJ = orgOf(srv.accounts, 'rsj_steward');
  JTJ = orgOf(srv.accounts, 'jtj_steward');
  gaj = await srv.login('gaj_steward');
  rsj = await srv.login('rsj_steward');
  mzj = await srv.login('mzj_steward');
  jtj = await srv.login('jtj_steward');
  jtjClerk = await srv.login('jtj_clerk');
  bureau = await srv.login('dsj_admin');
  bureauSteward = await srv.login('dsj_steward');
});
after(() => srv?.stop());

test('a consumer objects; the provider accepts and the record is corrected; the consumer sees the outcome', async () => {
  const code = await publish(gaj, GAJ, '人口（异议测试）');
  await put(gaj, code, KEY, { name: '欧阳修文', phone: '13812345678' });
  // without a grant: no objection, whether or not the record exists
  assertProblem(await object(jtj, code, KEY, { item: 'name', reason: '错' }), 403, 'no_grant');
  await ask(jtj, code, ['id_number', 'name']);

  const before = await count(jtj);
  // bad input: a problem, and nothing filed
  assertProblem(await object(jtj, code, KEY, { item: 'phone', reason: '不在授权内' }), 422, 'validation_failed');
  assertProblem(await object(jtj, code, KEY, { item: 'id_number', reason: '键' }), 422, 'validation_failed');
  assertProblem(await object(jtj, code, KEY, { item: 'name', reason: '' }), 422, 'validation_failed');
  assertProblem(await object(jtj, code, KEY, { item: 'name', reason: '错', proposed_value: 'x'.repeat(51) }), 422,
    'validation_failed', /proposed_value/);
  assertProblem(await object(jtj, code, KEY, { item: 'name', reason: '错', extra: 1 }), 400, 'invalid_request');
  assertProblem(await object(jtj, code, '110101199003070011', { item: 'name', reason: '错' }), 404, 'not_found');
  assertProblem(await object(gaj, code, KEY, { item: 'name', reason: '自己的' }), 422, 'validation_failed');
  assert.equal(await count(jtj), before);

  const filed = await object(jtj, code, KEY, { item: 'name', reason: '与户籍登记不符', proposed_value: '欧阳修武' });
  assert.equal(filed.status, 201, filed.text);
  const o = filed.json;
  assert.equal(filed.headers.get('location'), `/api/v1/objections/${o.id}`);
  assert.deepEqual([o.status, o.item, o.record_version, o.provider_org, o.consumer_org, o.overdue, o.proposed_value],
    ['open', 'name', 1, GAJ, JTJ, false, '欧阳修武']);
  // the sensitive key is named by its blind index; only the provider reads the key back
  assert.match(o.record, /^[0-9a-f]{64}$/);
  assert.equal(o.key, null);
  assert.ok(Date.parse(o.due_at) > Date.now() + 5 * 86400000, 'five working days are at least a week');
  assert.ok(!sql('SELECT record || proposed_value FROM objections').includes(KEY));
  assert.ok(!sql('SELECT proposed_value FROM objections').includes('欧阳修武'), 'a sensitive value is stored encrypted');

  const seen = await srv.call('GET', `/api/v1/objections/${o.id}`, { token: gaj });
  assert.deepEqual([seen.status, seen.json.key, seen.json.proposed_value], [200, KEY, '欧阳修武']);
  // the data bureau oversees it, but reads a sensitive proposal masked; other orgs learn nothing
  const overseen = await srv.call('GET', `/api/v1/objections/${o.id}`, { token: bureau });
  assert.deepEqual([overseen.status, overseen.json.proposed_value], [200, '欧***']);
  assertProblem(await srv.call('GET', `/api/v1/objections/${o.id}`, { token: rsj }), 404, 'not_found');
  assert.ok((await srv.call('GET', '/api/v1/objections?role=provider&status=open', { token: gaj })).json.items
    .some((x) => x.id === o.id));
  assert.equal((await srv.call('GET', '/api/v1/objections?overdue=true', { token: gaj })).json.items.length, 0);

  // the consumer cannot decide; a rejection needs a reason; neither changes anything
  assertProblem(await srv.call('POST', `/api/v1/objections/${o.id}/resolve`, { token: jtj, body: { decision: 'accept' } }),
    403, 'forbidden');
  assertProblem(await srv.call('POST', `/api/v1/objections/${o.id}/resolve`, { token: gaj, body: { decision: 'reject' } }),
    422, 'validation_failed');
  assertProblem(await srv.call('POST', `/api/v1/objections/${o.id}/resolve`, { token: gaj,
    body: { decision: 'accept', value: '欧'.repeat(51) } }), 422, 'validation_failed', /not valid/);
  assert.equal((await srv.call('GET', `/api/v1/objections/${o.id}`, { token: jtj })).json.status, 'open');
  assert.equal((await srv.call('GET', `/api/v1/resources/${code}/records/${KEY}`, { token: gaj })).json.version, 1);

  const done = await srv.call('POST', `/api/v1/objections/${o.id}/resolve`, { token: gaj,
    body: { decision: 'accept', reason: '已按户籍登记更正' } });
  assert.equal(done.status, 200, done.text);
  assert.match(done.headers.get('x-yiwang-audit-seq') || '', /^[0-9]+$/);
  assert.deepEqual([done.json.status, done.json.resolved_by, done.json.resolved_version], ['accepted', 'gaj_steward', 2]);
  const record = await srv.call('GET', `/api/v1/resources/${code}/records/${KEY}`, { token: gaj });
  assert.deepEqual([record.json.version, record.json.data.name, record.json.data.phone], [2, '欧阳修武', '13812345678']);
  const outcome = await srv.call('GET', `/api/v1/objections/${o.id}`, { token: jtj });
  assert.deepEqual([outcome.json.status, outcome.json.resolution, outcome.json.resolved_version],
    ['accepted', '已按户籍登记更正', 2]);
  assertProblem(await srv.call('POST', `/api/v1/objections/${o.id}/resolve`, { token: gaj,
    body: { decision: 'reject', reason: '再次' } }), 409, 'already_resolved');

  // a rejection keeps the record as it is, and tells the consumer why
  const second = (await object(jtj, code, KEY, { item: 'name', reason: '还是不对' })).json;
  assertProblem(await srv.call('POST', `/api/v1/objections/${second.id}/resolve`, { token: gaj,
    body: { decision: 'accept' } }), 422, 'validation_failed', /proposes no value/);
  const rejected = await srv.call('POST', `/api/v1/objections/${second.id}/resolve`, { token: gaj,
    body: { decision: 'reject', reason: '户籍登记即为此名' } });
  assert.deepEqual([rejected.status, rejected.json.status, rejected.json.resolved_version], [200, 'rejected', null]);
  assert.equal((await srv.call('GET', `/api/v1/resources/${code}/records/${KEY}`, { token: gaj })).json.version, 2);
});

test('quality: complete, valid, timely and consistent records score 100; each shortfall lowers its part', async () => {
  const code = await publish(gaj, GAJ, '人口（质量测试）');
  const empty = await srv.call('GET', `/api/v1/resources/${code}/quality`, { token: jtjClerk });
  assert.deepEqual([empty.status, empty.json.score, empty.json.records], [200, 0, 0]);
  const keys = ['11010119900307001', '11010119900307003', '11010119900307005', '11010119900307007'].map(idNumber);
  for (const [i, k] of keys.entries()) await put(gaj, code, k, { name: i % 2 ? '李四' : '王小二', phone: '13812345678' });
  const good = (await srv.call('GET', `/api/v1/resources/${code}/quality`, { token: jtjClerk })).json;
  assert.deepEqual([good.score, good.records, good.sampled, good.completeness.score, good.validity.score,
    good.timeliness.score, good.consistency.score], [100, 4, 4, 100, 100, 100, 100]);
  assert.equal(good.sample_limit, 10000);

  // the resource now requires a gender no record has, and allows names of 2 characters only
  const doc = (await srv.call('GET', `/api/v1/resources/${code}`, { token: gaj })).json;
  const items = doc.items.map((it) => (it.name === 'name' ? { ...it, length: 2 } : it))
    .map(({ name, element, required, sensitivity, mask, length, title, type }) =>
      Object.fromEntries(Object.entries({ name, element, required, sensitivity, mask, length, title, type })
        .filter(([, v]) => v !== undefined && v !== null)));
  items.push({ name: 'gender', element: 'gender', required: true });
  const patched = await srv.call('PATCH', `/api/v1/resources/${code}`, { token: gaj, body: { items } });
  assert.equal(patched.status, 200, patched.text);
  const worse = (await srv.call('GET', `/api/v1/resources/${code}/quality`, { token: jtjClerk })).json;
  // 12 values, the two names of 3 characters too long: validity 10/12; completeness 0
  assert.deepEqual([worse.completeness.score, worse.validity.values, worse.validity.invalid_values, worse.validity.score],
    [0, 12, 2, 83]);
  assert.equal(worse.score, Math.round(30 * 0 + 30 * (10 / 12) + 20 + 20));

  // a draft's quality is its provider's business
  const draft = await srv.call('POST', '/api/v1/resources', { token: gaj, body: { name: '质量草稿', provider_org: GAJ } });
  assert.equal((await srv.call('GET', `/api/v1/resources/${draft.json.code}/quality`, { token: gaj })).status, 200);
  assertProblem(await srv.call('GET', `/api/v1/resources/${draft.json.code}/quality`, { token: jtj }), 404, 'not_found');
  assertProblem(await srv.call('GET', '/api/v1/resources/nope-000000/quality', { token: jtj }), 404, 'not_found');
});

test('conflicts: providers that disagree about a person are found, shown to whom it concerns, and sent back', async () => {
  const person = idNumber('11010519800101003');
  const mine = await publish(gaj, GAJ, '人口（冲突测试）');
  const theirs = await publish(rsj, RSJ, '参保（冲突测试）');
  const third = await publish(mzj, orgOf(srv.accounts, 'mzj_steward'), '婚姻（冲突测试）');
  await put(gaj, mine, person, { name: '陈明', phone: '13812345678' });
  await put(rsj, theirs, person, { name: '陈鸣', phone: '13812345678' });
  await put(mzj, third, person, { name: '陈明' });

  const list = async (token, query = '') => {
    const r = await srv.call('GET', `/api/v1/conflicts?limit=1000${query}`, { token });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('x-yiwang-audit-seq') || '', /^[0-9]+$/, 'showing conflicts is audited');
    return r.json.items;
  };
  const found = (await list(bureau, `&resource=${theirs}`));
  assert.equal(found.length, 1);
  const c = found[0];
  assert.equal(c.element, 'id_number');
  assert.match(c.id, /^[0-9a-f]{64}$/);
  assert.ok(!JSON.stringify(found).includes(person), 'the ID number appears nowhere');
  assert.deepEqual(c.differences.map((d) => d.element), ['name'], 'the phones agree');
  const sources = c.differences[0].sources;
  assert.deepEqual(sources.map((s) => s.resource).sort(), [mine, theirs, third].sort());
  assert.ok(sources.every((s) => s.masked && s.value === '陈*' && s.version === 1), 'the bureau reads masked names');
  // the provider reads its own value in clear, the others masked
  const forGaj = (await list(gaj, `&resource=${mine}`))[0].differences[0].sources;
  assert.deepEqual(forGaj.find((s) => s.resource === mine), { resource: mine, provider_org: GAJ, item: 'name',
    record: forGaj.find((s) => s.resource === mine).record, version: 1, value: '陈明', masked: false });
  assert.equal(forGaj.find((s) => s.resource === theirs).value, '陈*');
  // an org with no part in it does not see it; the planted conflicts of the demo city are there too
  assert.equal((await list(jtj, `&resource=${theirs}`)).length, 0);
  assert.ok((await list(bureau, '&element=id_number')).length > 1);
  assertProblem(await srv.call('GET', `/api/v1/conflicts?element=${'x'.repeat(65)}`, { token: bureau }), 400,
    'invalid_request');
  assertProblem(await srv.call('GET', '/api/v1/conflicts', { token: jtjClerk }), 403, 'forbidden');
  const consistency = (await srv.call('GET', `/api/v1/resources/${theirs}/quality`, { token: rsj })).json.consistency;
  assert.deepEqual([consistency.score, consistency.conflicting_records], [0, 1]);

  // only the data bureau's stewards send it on; a bad body files nothing
  const send = (token, body) => srv.call('POST', `/api/v1/conflicts/${c.id}/objections`, { token, body });
  assertProblem(await send(gaj, {}), 403, 'forbidden');
  assertProblem(await send(bureauSteward, { reason: '' }), 422, 'validation_failed');
  assert.equal(await count(rsj, `&resource=${theirs}`), 0);
  const sent = await send(bureauSteward, { reason: '请核实姓名' });
  assert.equal(sent.status, 201, sent.text);
  // two providers of three say 陈明: only the third is asked, with that name proposed
  assert.equal(sent.json.objections.length, 1);
  const o = (await srv.call('GET', `/api/v1/objections/${sent.json.objections[0]}`, { token: rsj })).json;
  assert.deepEqual([o.resource, o.item, o.proposed_value, o.conflict, o.consumer_org, o.key],
    [theirs, 'name', '陈明', c.id, orgOf(srv.accounts, 'dsj_steward'), person]);
  assertProblem(await send(bureauSteward, {}), 409, 'already_reported');
  assertProblem(await srv.call('POST', `/api/v1/conflicts/${'0'.repeat(64)}/objections`, { token: bureauSteward,
    body: {} }), 404, 'not_found');

  // the provider accepts: the records agree, and the conflict is gone
  const ok = await srv.call('POST', `/api/v1/objections/${o.id}/resolve`, { token: rsj, body: { decision: 'accept' } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await list(bureau, `&resource=${theirs}`)).length, 0);
  assert.equal((await srv.call('GET', `/api/v1/resources/${theirs}/quality`, { token: rsj })).json.consistency.score, 100);

  // a new difference is found at the next request; a deleted record takes its part with it
  await put(mzj, third, person, { name: '陈明明' });
  assert.equal((await list(bureau, `&resource=${third}`)).length, 1);
  const gone = await srv.call('DELETE', `/api/v1/resources/${third}/records/${person}`, { token: mzj });
  assert.equal(gone.status, 204, gone.text);
  assert.equal((await list(bureau, `&resource=${third}`)).length, 0);
});

test('an objection left unanswered past its working days is overdue, for its parties and the data bureau', async () => {
  // the demo city has one: 民政局 objected to a death date of 卫健委 twelve days ago
  const overdue = (await srv.call('GET', '/api/v1/objections?overdue=true', { token: bureau })).json.items;
  assert.equal(overdue.length, 1);
  const o = overdue[0];
  assert.deepEqual([o.status, o.overdue, o.item, o.provider_org, o.consumer_org],
    ['open', true, 'death_date', orgOf(srv.accounts, 'wjw_steward'), orgOf(srv.accounts, 'mzj_steward')]);
  assert.ok(Date.parse(o.due_at) < Date.now());
  const wjw = await srv.login('wjw_steward');
  assert.deepEqual((await srv.call('GET', '/api/v1/objections?role=provider&overdue=true', { token: wjw })).json.items
    .map((x) => x.id), [o.id]);
  assert.ok(!(await srv.call('GET', '/api/v1/objections?overdue=false', { token: wjw })).json.items
    .some((x) => x.id === o.id));
  assertProblem(await srv.call('GET', '/api/v1/objections?overdue=maybe', { token: wjw }), 400, 'invalid_request');
  assertProblem(await srv.call('GET', `/api/v1/objections/${o.id}`, { token: jtj }), 404, 'not_found');
  // answering it ends the delay
  const answered = await srv.call('POST', `/api/v1/objections/${o.id}/resolve`, { token: wjw,
    body: { decision: 'reject', reason: '死亡日期以医疗机构证明为准' } });
  assert.deepEqual([answered.status, answered.json.overdue], [200, false]);
});

// Last in this file: it rotates the server's data keys.
test('after a key rotation a sensitive proposed value is sealed under the new key and reads the same', async () => {
  const code = await publish(gaj, GAJ, '人口（密钥轮换）');
  const key = idNumber('11010119700101001');
  await put(gaj, code, key, { name: '司马光' });
  await ask(jtj, code, ['id_number', 'name']);
  const filed = await object(jtj, code, key, { item: 'name', reason: '登记有误', proposed_value: '司马迁' });
  assert.equal(filed.status, 201, filed.text);
  const stored = () => sql(`SELECT proposed_value FROM objections WHERE id = '${filed.json.id}'`).trim();
  assert.match(stored(), /^enc:1:1:/);
  const rotated = JSON.parse(execFileSync(BIN, ['keys', 'rotate', '--data', srv.dir]).toString());
  assert.equal(rotated.key_id, 2);
  for (let i = 0; i < 100 && !/^enc:1:2:/.test(stored()); i++) await new Promise((r) => setTimeout(r, 200));
  assert.match(stored(), /^enc:1:2:/, 'sealed again under the new key');
  const read = await srv.call('GET', `/api/v1/objections/${filed.json.id}`, { token: jtj });
  assert.equal(read.status, 200, read.text);
  assert.equal(read.json.proposed_value, '司马迁');
});
