// Data elements: the national standard set is there from the start; the
// data bureau adds elements, every definition is checked, bad ones change
// nothing, and creation is an audit entry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { assertProblem } from './lib/util.mjs';

let srv, steward, other;
before(async () => {
  srv = await startServer();
  steward = await srv.login('dsj_steward'); // the data bureau's steward
  other = await srv.login('gaj_steward');   // a department's steward
});
after(() => srv?.stop());

async function allElements(token, query = '') {
  const out = [];
  let cursor = null;
  do {
    const res = await srv.call('GET', `/api/v1/elements?limit=20${query}${cursor ? `&cursor=${cursor}` : ''}`, { token });
    assert.equal(res.status, 200, res.text);
    out.push(...res.json.items);
    cursor = res.json.next_cursor;
  } while (cursor);
  return out;
}

test('the national standard elements ship with every platform', async () => {
  const all = await allElements(other);
  assert.ok(all.length >= 40, `only ${all.length} elements`);
  const ids = all.map((e) => e.id);
  for (const id of ['id_number', 'name', 'gender', 'birth_date', 'phone', 'address', 'uscc', 'enterprise_name',
    'legal_representative', 'region_code']) assert.ok(ids.includes(id), id);
  assert.deepEqual([...ids].sort(), ids, 'listed by id');
  const idNumber = await srv.call('GET', '/api/v1/elements/id_number', { token: other });
  assert.equal(idNumber.status, 200);
  assert.deepEqual(
    { name: idNumber.json.name, type: idNumber.json.type, length: idNumber.json.length, validator: idNumber.json.validator,
      sensitivity: idNumber.json.sensitivity, mask: idNumber.json.mask },
    { name: '公民身份号码', type: 'C', length: 18, validator: 'id_card', sensitivity: 'L3', mask: 'id_card' });
  assertProblem(await srv.call('GET', '/api/v1/elements/no_such_element', { token: other }), 404, 'not_found');
});

test('search by id or Chinese name', async () => {
  const found = await allElements(other, `&q=${encodeURIComponent('日期')}`);
  assert.ok(found.length >= 3);
  for (const e of found) assert.ok(e.name.includes('日期') || e.id.includes('日期'), e.name);
  assert.deepEqual((await allElements(other, '&q=uscc')).map((e) => e.id), ['uscc']);
});

test('the data bureau adds an element; a department cannot; it is audited', async () => {
  const body = { id: 'pension_amount', name: '养老金月发放金额', definition: '按月发放的基本养老金（元）', type: 'Y',
    validator: 'range:0..100000', sensitivity: 'L3', source: '市人社局标准' };
  const created = await srv.call('POST', '/api/v1/elements', { token: steward, body });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.headers.get('location'), '/api/v1/elements/pension_amount');
  assert.equal(created.json.mask, 'none');
  assert.equal(created.json.length, 0);
  const seq = created.headers.get('x-yiwang-audit-seq');
  assert.match(seq, /^\d+$/);
  assertProblem(await srv.call('POST', '/api/v1/elements', { token: steward, body }), 409, 'conflict');
  assertProblem(await srv.call('POST', '/api/v1/elements', { token: other, body: { ...body, id: 'other_try' } }), 403, 'forbidden');
  assertProblem(await srv.call('GET', '/api/v1/elements/other_try', { token: other }), 404, 'not_found');
  const auditor = await srv.login('demo_auditor');
  const entries = await srv.call('GET', '/api/v1/audit/events?action=element.create&limit=1000', { token: auditor });
  const mine = entries.json.items.filter((e) => e.object_ids[0] === 'pension_amount');
  assert.deepEqual(mine.map((e) => [e.actor, e.result, e.status, String(e.seq)]),
    [['dsj_steward', 'ok', 201, seq], ['dsj_steward', 'error', 409, String(mine[1]?.seq)]]);
});

test('bad definitions are refused and change nothing', async () => {
  const before = (await allElements(steward)).length;
  const base = { id: 'bad_element', name: '坏数据元', type: 'C', sensitivity: 'L2' };
  const cases = [
    [{ ...base, type: 'Q' }, 422, /type/],
    [{ ...base, id: 'Bad-Id' }, 422, /id/],
    [{ ...base, validator: 'regex:([' }, 422, /regex/],
    [{ ...base, validator: 'range:9..1' }, 422, /range/],
    [{ ...base, validator: 'soundex' }, 422, /validator/],
    [{ ...base, sensitivity: 'L9' }, 422, /sensitivity/],
    [{ ...base, mask: 'blur' }, 422, /mask/],
    [{ ...base, length: -3 }, 422, /length/],
    [{ ...base, colour: 'red' }, 400, /unknown field/],
    [{ ...base, length: '18' }, 400, /length/],
  ];
  for (const [body, status, detail] of cases) {
    const res = await srv.call('POST', '/api/v1/elements', { token: steward, body });
    assertProblem(res, status, status === 400 ? 'invalid_request' : 'validation_failed', detail);
  }
  assert.equal((await allElements(steward)).length, before);
});
