// Records: the provider loads, corrects and deletes records; values are
// validated against their data elements; sensitive values are encrypted at
// rest and a sensitive key appears nowhere in clear — not in the database,
// the logs or the audit trail; loading the same data again changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, orgOf, BIN } from './lib/server.mjs';
import { assertProblem } from './lib/util.mjs';

let srv, steward, GAJ, code, client;
const ID = '11010519491231002X';

before(async () => {
  srv = await startServer();
  steward = await srv.login('gaj_steward');
  GAJ = orgOf(srv.accounts, 'gaj_steward');
  client = srv.accounts.clients.find((c) => c.id.startsWith(`${GAJ}/`)).secret;
  const made = await srv.call('POST', '/api/v1/resources', { token: steward, body: {
    name: '人口基本信息', provider_org: GAJ, key_item: 'id_number',
    items: [
      { name: 'id_number', element: 'id_number', required: true },
      { name: 'name', element: 'name', required: true },
      { name: 'gender', element: 'gender' },
      { name: 'birth_date', element: 'birth_date' },
      { name: 'note', type: 'C', length: 10, sensitivity: 'L1' },
    ],
  } });
  assert.equal(made.status, 201, made.text);
  code = made.json.code;
});
after(() => srv?.stop());

const put = (key, data, token = steward) =>
  srv.call('PUT', `/api/v1/resources/${code}/records/${key}`, { token, body: { data } });

test('a record is written, read back, reloaded without change, corrected and deleted, with its history', async () => {
  const first = await put(ID, { name: '张三', gender: '1', birth_date: '1949-12-31', note: '首次登记' });
  assert.equal(first.status, 201, first.text);
  assert.deepEqual([first.json.version, first.json.changed], [1, true]);
  assert.match(first.headers.get('x-yiwang-audit-seq'), /^\d+$/);
  const again = await put(ID, { name: '张三', gender: '1', birth_date: '1949-12-31', note: '首次登记' });
  assert.equal(again.status, 200);
  assert.deepEqual([again.json.version, again.json.changed], [1, false]);
  const fixed = await put(ID, { name: '张叁', gender: '1', birth_date: '1949-12-31' }, client);
  assert.deepEqual([fixed.status, fixed.json.version, fixed.json.changed], [200, 2, true]);
  const read = await srv.call('GET', `/api/v1/resources/${code}/records/${ID}`, { token: steward });
  assert.equal(read.status, 200);
  assert.deepEqual(read.json.data, { id_number: ID, name: '张叁', gender: '1', birth_date: '1949-12-31' });
  assert.equal(read.json.version, 2);
  assert.match(read.headers.get('x-yiwang-audit-seq'), /^\d+$/);
  assert.equal((await srv.call('DELETE', `/api/v1/resources/${code}/records/${ID}`, { token: steward })).status, 204);
  assertProblem(await srv.call('GET', `/api/v1/resources/${code}/records/${ID}`, { token: steward }), 404, 'not_found');
  assertProblem(await srv.call('DELETE', `/api/v1/resources/${code}/records/${ID}`, { token: steward }), 404, 'not_found');
  const history = await srv.call('GET', `/api/v1/resources/${code}/records/${ID}/versions`, { token: steward });
  assert.deepEqual(history.json.items.map((v) => [v.version, v.deleted, v.data?.name ?? null]),
    [[1, false, '张三'], [2, false, '张叁'], [3, true, null]]);
  assert.deepEqual(history.json.items.map((v) => v.source), ['gaj_steward', `${GAJ}/exchange`, 'gaj_steward']);
});

test('values come back exactly as written: numbers, booleans, escapes, sealed or not', async () => {
  const typed = await srv.call('POST', '/api/v1/resources', { token: steward, body: {
    name: '类型往返', provider_org: GAJ, key_item: 'id_number',
    items: [
      { name: 'id_number', element: 'id_number', required: true },
      { name: 'count', type: 'I', sensitivity: 'L1' },
      { name: 'ratio', type: 'F', sensitivity: 'L1' },
      { name: 'active', type: 'L', sensitivity: 'L1' },
      { name: 'remark', type: 'C', length: 100, sensitivity: 'L1' },
      { name: 'sealed', type: 'C', length: 100, sensitivity: 'L3' },
      { name: 'sealed_count', type: 'I', sensitivity: 'L4' },
    ],
  } });
  assert.equal(typed.status, 201, typed.text);
  const data = {
    count: 42, ratio: 0.25, active: false,
    remark: '引号"反斜杠\\换行\n制表\t和 emoji 🚀', sealed: '同样"密封\\的\n值', sealed_count: -7,
  };
  const path = `/api/v1/resources/${typed.json.code}/records/${ID}`;
  const written = await srv.call('PUT', path, { token: steward, body: { data } });
  assert.equal(written.status, 201, written.text);
  const read = await srv.call('GET', path, { token: steward });
  assert.equal(read.status, 200, read.text);
  assert.deepEqual(read.json.data, { id_number: ID, ...data });
});

test('bad values are refused with the item and the reason, and change nothing', async () => {
  const key = '110101199003070011';
  assert.equal((await put(key, { name: '李四' })).status, 201);
  const cases = [
    [{ name: '李四', gender: '3' }, /gender: not one of the allowed values/],
    [{ name: '李四', birth_date: '1990-02-30' }, /birth_date: not a date/],
    [{ name: '李四', note: '这条备注超过了十个字的长度' }, /note: longer/],
    [{ name: '李四', shoe_size: 42 }, /shoe_size: is not an item/],
    [{ name: '李四', note: { nested: true } }, /note: must be/],
    [{ name: '李四', note: 'enc:1:1:AAAA' }, /note: must not begin with enc:1:/], // it would read as sealed
    [{ gender: '1' }, /name: is required/],
    [{ name: '李四', id_number: '11010119900307002X' }, /differs from the key/],
  ];
  for (const [data, detail] of cases) assertProblem(await put(key, data), 422, 'validation_failed', detail);
  assertProblem(await put('110101199003070018', { name: '王五' }), 422, 'validation_failed', /id_number: not a valid/);
  const still = await srv.call('GET', `/api/v1/resources/${code}/records/${key}`, { token: steward });
  assert.deepEqual([still.json.version, still.json.data], [1, { id_number: key, name: '李四' }]);
});

test('only the provider loads and reads its records; others learn nothing', async () => {
  const key = '110101198001010010';
  assert.equal((await put(key, { name: '赵六' })).status, 201);
  const clerk = await srv.login('gaj_clerk');
  assertProblem(await put(key, { name: '赵六' }, clerk), 403, 'forbidden');
  const other = await srv.login('scjg_steward');
  assertProblem(await srv.call('GET', `/api/v1/resources/${code}/records/${key}`, { token: other }), 404, 'not_found');
  assertProblem(await put(key, { name: '赵六' }, other), 404, 'not_found');
  const otherClient = srv.accounts.clients.find((c) => !c.id.startsWith(`${GAJ}/`)).secret;
  assertProblem(await put(key, { name: '赵六' }, otherClient), 404, 'not_found');
});

test('the sensitive key and sensitive values are nowhere in clear: database, logs, audit trail', async () => {
  const key = '110101197507070016';
  assert.equal((await put(key, { name: '独一无二的名字' })).status, 201);
  assert.equal((await srv.call('GET', `/api/v1/resources/${code}/records/${key}`, { token: steward })).status, 200);
  await new Promise((r) => setTimeout(r, 300));
  for (const f of readdirSync(srv.dir).filter((n) => n.startsWith('yiwang.db'))) {
    const bytes = readFileSync(join(srv.dir, f));
    assert.equal(bytes.indexOf(key), -1, `the key is in ${f}`);
    assert.equal(bytes.indexOf(Buffer.from('独一无二的名字')), -1, `the name is in ${f}`);
  }
  assert.ok(!srv.stderr.includes(key), 'the key is in the log');
  const auditor = await srv.login('demo_auditor');
  const trail = await srv.call('GET', `/api/v1/audit/events?action=record.read&limit=1000`, { token: auditor });
  assert.ok(trail.json.items.length > 0);
  assert.ok(!JSON.stringify(trail.json).includes(key), 'the key is in the audit trail');
  const read = trail.json.items.at(-1);
  assert.deepEqual([read.stage, read.object_type, read.object_ids[0]], ['use', 'record', code]);
  assert.match(read.object_ids[1], /^[0-9a-f]{64}$/, 'the record is named by its blind index');
  assert.deepEqual(read.items, ['id_number', 'name']);
  assert.match(read.response_sha256, /^[0-9a-f]{64}$/);
});

// ---- bulk import ----

const importCsv = (text, token = steward, type = 'text/csv') =>
  srv.call('POST', `/api/v1/resources/${code}/records:import`, { token, raw: text, headers: { 'Content-Type': type } });

function idNumber(i) {
  const first17 = `1101011985${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}${String(i % 1000).padStart(3, '0')}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  return first17 + '10X98765432'[[...first17].reduce((a, c, k) => a + Number(c) * w[k], 0) % 11];
}

test('a CSV with bad rows: the good rows land, each bad one is reported by line, item and reason', async () => {
  const csv = '\uFEFFid_number,name,gender,birth_date\r\n'
    + `${idNumber(1)},"张,三",1,1985-02-02\r\n`
    + `${idNumber(2)},李四,3,\r\n`              // line 3: bad gender
    + '110101198502020010,王五,1,\r\n'          // line 4: bad check digit
    + `${idNumber(4)},"赵""六""\n第二行",2,\r\n` // a quoted field over two lines
    + `${idNumber(5)},,1,\r\n`                  // line 7: name missing
    + `${idNumber(6)},孙七,1\r\n`               // line 8: too few fields
    + '\r\n'
    + `${idNumber(7)},周八,2,1985-13-01\r\n`;   // line 10: bad date
  const res = await importCsv(csv);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual([res.json.accepted, res.json.unchanged, res.json.rejected], [2, 0, 5]);
  assert.deepEqual(res.json.errors, [
    { row: 3, item: 'gender', reason: 'not one of the allowed values' },
    { row: 4, item: 'id_number', reason: 'not a valid resident ID number' },
    { row: 7, item: 'name', reason: 'is required' },
    { row: 8, item: null, reason: 'the row has a different number of fields than the header' },
    { row: 10, item: 'birth_date', reason: 'not a date (YYYY-MM-DD)' },
  ]);
  const six = await srv.call('GET', `/api/v1/resources/${code}/records/${idNumber(4)}`, { token: steward });
  assert.equal(six.json.data.name, '赵"六"\n第二行');
  // the same file again changes nothing
  const again = await importCsv(csv);
  assert.deepEqual([again.json.accepted, again.json.unchanged, again.json.rejected], [0, 2, 5]);
  const history = await srv.call('GET', `/api/v1/resources/${code}/records/${idNumber(1)}/versions`, { token: steward });
  assert.equal(history.json.items.length, 1);
});

test('NDJSON import, header naming data elements, and refusals that change nothing', async () => {
  const nd = [`{"id_number":"${idNumber(20)}","name":"钱九"}`, '{"name":"无键"}', 'not json',
    `{"id_number":"${idNumber(21)}","name":"吴十","colour":"red"}`].join('\n');
  const res = await importCsv(nd, steward, 'application/x-ndjson');
  assert.deepEqual([res.json.accepted, res.json.rejected], [1, 3]);
  assert.deepEqual(res.json.errors.map((e) => [e.row, e.item]), [[2, 'id_number'], [3, null], [4, 'colour']]);
  // columns may name the data elements the items are bound to
  const byElement = await importCsv(`id_number,name\n${idNumber(22)},郑十一\n`);
  assert.equal(byElement.json.accepted, 1);
  const before = await srv.call('GET', `/api/v1/resources/${code}/records/${idNumber(23)}`, { token: steward });
  assert.equal(before.status, 404);
  assertProblem(await importCsv(`id_number,shoe_size\n${idNumber(23)},42\n`), 422, 'validation_failed', /shoe_size/);
  assertProblem(await importCsv(`name\n某人\n`), 422, 'validation_failed', /key item/);
  assertProblem(await importCsv(`id_number,name\n${idNumber(23)},某人\n`, steward, 'text/plain'), 415, 'unsupported_media_type');
  assertProblem(await importCsv(`id_number,name\n${idNumber(23)},某人\n`, await srv.login('gaj_clerk')), 403, 'forbidden');
  assert.equal((await srv.call('GET', `/api/v1/resources/${code}/records/${idNumber(23)}`, { token: steward })).status, 404);
});

test('a large import streams in constant memory and lands in batches', async () => {
  const rows = ['id_number,name,gender'];
  for (let i = 100; i < 3100; i++) rows.push(`${idNumber(i * 7)},批量${i},${1 + (i % 2)}`);
  const unique = new Set(rows.slice(1).map((r) => r.split(',')[0]));
  const auditor = await srv.login('demo_auditor');
  const entries = () => srv.call('GET', `/api/v1/audit/events?action=record.import&object=${code}&limit=1000`,
    { token: auditor });
  const before = (await entries()).json.items.length;
  const res = await importCsv(rows.join('\n') + '\n');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.accepted + res.json.unchanged, unique.size);
  assert.equal(res.json.rejected, 0);
  const after = (await entries()).json.items;
  assert.equal(after.length - before, 3, 'one entry per committed batch: 500, 1000, then the last 1500 rows');
  assert.deepEqual(after.at(-1).items, ['id_number', 'name', 'gender']);
});

test('a first load into an empty resource: a key repeated in the file, even batches apart, is one record', async () => {
  const made = await srv.call('POST', '/api/v1/resources', { token: steward, body: {
    name: '首次装载', provider_org: GAJ, key_item: 'id_number',
    items: [{ name: 'id_number', element: 'id_number', required: true }, { name: 'name', element: 'name' }] } });
  assert.equal(made.status, 201, made.text);
  const rc = made.json.code;
  // 2,000 rows: batches of 500 and 1,000 rows, then the rest; key 0 comes back in the second and third batch
  const rows = ['id_number,name'];
  for (let i = 0; i < 1997; i++) rows.push(`${idNumber(5000 + i)},首载${i}`);
  rows.splice(800, 0, `${idNumber(5000)},改名一`);
  rows.splice(1900, 0, `${idNumber(5000)},改名二`, `${idNumber(5001)},改名三`);
  const res = await srv.call('POST', `/api/v1/resources/${rc}/records:import`,
    { token: steward, raw: rows.join('\n') + '\n', headers: { 'Content-Type': 'text/csv' } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual([res.json.accepted, res.json.unchanged, res.json.rejected], [2000, 0, 0]);
  const count = Number(execFileSync('sqlite3', [join(srv.dir, 'yiwang.db'),
    `SELECT count(*) FROM records WHERE resource = '${rc}'`]).toString());
  assert.equal(count, 1997, 'one record per key');
  for (const [i, name, version] of [[0, '改名二', 3], [1, '改名三', 2], [2, '首载2', 1]]) {
    const got = await srv.call('GET', `/api/v1/resources/${rc}/records/${idNumber(5000 + i)}`, { token: steward });
    assert.deepEqual([got.json.data.name, got.json.version], [name, version]);
  }
});

test('an import killed mid-file keeps whole batches only; running it again completes it', async () => {
  const s = await startServer({ keepData: true });
  try {
    const token = await s.login('gaj_steward');
    const made = await s.call('POST', '/api/v1/resources', { token, body: { name: '中断测试', provider_org: GAJ,
      key_item: 'id_number', items: [{ name: 'id_number', element: 'id_number' }, { name: 'phone', element: 'phone' }] } });
    const rc = made.json.code;
    const rows = ['id_number,phone'];
    const seen = new Set();
    for (let i = 0; rows.length <= 6000; i++) {
      const id = idNumber(i * 13 + 5);
      if (seen.has(id)) continue;
      seen.add(id);
      rows.push(`${id},138${String(10000000 + i).slice(-8)}`);
    }
    const body = rows.join('\n') + '\n';
    // Send the first half, wait until some batches are committed, then kill the server mid-body.
    const net = await import('node:net');
    const sock = net.connect(s.port, '127.0.0.1');
    sock.on('error', () => {}); // the server is killed under it
    await new Promise((r) => sock.on('connect', r));
    sock.write(`POST /api/v1/resources/${rc}/records:import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n`
      + `Content-Type: text/csv\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    sock.write(body.slice(0, Math.floor(body.length / 2)));
    const auditor = await s.login('demo_auditor');
    for (let i = 0; i < 300; i++) {
      const ev = await s.call('GET', `/api/v1/audit/events?action=record.import&object=${rc}`, { token: auditor });
      if (ev.json.items.length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await s.kill();
    sock.destroy();
    const count = (dir) => Number(execFileSync('sqlite3', [join(dir, 'yiwang.db'),
      `SELECT count(*) FROM records WHERE resource = '${rc}'`]).toString());
    const landed = count(s.dir);
    // batches of 500, 1000, 2000, ... rows, and half the file sent: the first two batches, whole
    assert.equal(landed, 1500, `${landed} records after the kill`);
    const again = await startServer({ dataDir: s.dir, demo: false, keepData: true });
    try {
      const t2 = await again.login('gaj_steward', s.accounts.password);
      const res = await again.call('POST', `/api/v1/resources/${rc}/records:import`, { token: t2, raw: body,
        headers: { 'Content-Type': 'text/csv' } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.json.accepted, res.json.unchanged, res.json.rejected], [6000 - landed, landed, 0]);
    } finally {
      await again.stop();
    }
    assert.equal(count(s.dir), 6000);
    // no phone number or ID number in clear anywhere in the database files
    for (const f of readdirSync(s.dir).filter((n) => n.startsWith('yiwang.db'))) {
      const bytes = readFileSync(join(s.dir, f));
      assert.equal(bytes.indexOf(rows[1].split(',')[0]), -1, `an ID number is in ${f}`);
      assert.equal(bytes.indexOf(rows[1].split(',')[1]), -1, `a phone number is in ${f}`);
    }
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('a key rotation takes effect at once for new values and re-encrypts stored ones in the background', async () => {
  const key = '110101198001010010';
  const before = await srv.call('GET', `/api/v1/resources/${code}/records/${key}`, { token: steward });
  assert.equal(before.status, 200);
  const values = () => execFileSync('sqlite3', [join(srv.dir, 'yiwang.db'),
    `SELECT data FROM records WHERE resource = '${code}' UNION ALL SELECT data FROM record_versions WHERE resource = '${code}'`])
    .toString();
  assert.match(values(), /enc:1:1:/);
  const rotated = JSON.parse(execFileSync(BIN, ['keys', 'rotate', '--data', srv.dir]).toString());
  assert.equal(rotated.key_id, 2);
  let left = values();
  for (let i = 0; i < 100 && /enc:1:1:/.test(left); i++) {
    await new Promise((r) => setTimeout(r, 200));
    left = values();
  }
  assert.doesNotMatch(left, /enc:1:1:/, 'every stored value was re-encrypted');
  assert.match(left, /enc:1:2:/);
  const after = await srv.call('GET', `/api/v1/resources/${code}/records/${key}`, { token: steward });
  assert.deepEqual([after.json.data, after.json.version], [before.json.data, before.json.version],
    're-encryption changes neither the values nor the version');
  const auditor = await srv.login('demo_auditor');
  const trail = await srv.call('GET', '/api/v1/audit/events?action=keys.reencrypt', { token: auditor });
  assert.ok(trail.json.items.length >= 1);
});

test('a change of the resource applies to the very next record written', async () => {
  const made = await srv.call('POST', '/api/v1/resources', { token: steward, body: {
    name: '变更即生效', provider_org: GAJ, key_item: 'id_number',
    items: [{ name: 'id_number', element: 'id_number', required: true }, { name: 'note', type: 'C', length: 10, sensitivity: 'L1' }],
  } });
  assert.equal(made.status, 201, made.text);
  const at = (key, data) => srv.call('PUT', `/api/v1/resources/${made.json.code}/records/${key}`, { token: steward, body: { data } });
  // every worker has seen the resource as it was
  for (let i = 0; i < 8; i++) assert.equal((await at('11010519491231002X', { note: `第${i}次` })).status, 200 + (i === 0 ? 1 : 0));
  const shorter = await srv.call('PATCH', `/api/v1/resources/${made.json.code}`, { token: steward, body: {
    items: [{ name: 'id_number', element: 'id_number', required: true }, { name: 'note', type: 'C', length: 2, sensitivity: 'L1' }],
  } });
  assert.equal(shorter.status, 200, shorter.text);
  for (let i = 0; i < 8; i++) assertProblem(await at('11010519491231002X', { note: '五个字备注' }), 422, 'validation_failed', /note/);
});
