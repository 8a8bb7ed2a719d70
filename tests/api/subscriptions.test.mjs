// Change feed and webhook subscriptions: a consumer reads the granted,
// masked changes of a resource in order with a resumable cursor, or has
// them pushed to its system; a receiver that goes away for a while gets
// every change once it is back, in order, each batch signed; the moment the
// grant ends, delivery stops.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, orgOf, BIN } from './lib/server.mjs';
import { assertProblem, sleep } from './lib/util.mjs';

let srv, gaj, jtj, GAJ, code, grantId;

function idNumber(i) {
  const first17 = `1101011985${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}${String(i % 1000).padStart(3, '0')}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  return first17 + '10X98765432'[[...first17].reduce((a, c, k) => a + Number(c) * w[k], 0) % 11];
}
const put = (i, name) => srv.call('PUT', `/api/v1/resources/${code}/records/${idNumber(i)}`,
  { token: gaj, body: { data: { name, phone: '13812345678' } } });

/** A webhook receiver on a fixed port that can be stopped and started again. */
function receiver() {
  const r = { batches: [], answer: 200, server: null, port: 0 };
  const handler = (req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      r.batches.push({ headers: req.headers, body });
      res.writeHead(r.answer).end();
    });
  };
  r.start = () => new Promise((resolve) => {
    r.server = http.createServer(handler);
    r.server.listen(r.port, '127.0.0.1', () => { r.port = r.server.address().port; resolve(); });
  });
  r.stop = () => new Promise((resolve) => {
    if (!r.server?.listening) return resolve();
    r.server.closeAllConnections();
    return r.server.close(() => resolve());
  });
  return r;
}

async function until(what, check, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

before(async () => {
  srv = await startServer();
  GAJ = orgOf(srv.accounts, 'gaj_steward');
  gaj = await srv.login('gaj_steward');
  jtj = await srv.login('jtj_steward');
  const made = await srv.call('POST', '/api/v1/resources', { token: gaj, body: {
    name: '变更订阅测试', provider_org: GAJ, summary: '订阅', category: 'department', format: 'table',
    share_type: 'unconditional', share_method: 'subscription', open_type: 'closed', update_cycle: 'realtime',
    key_item: 'id_number', items: [{ name: 'id_number', element: 'id_number', required: true },
      { name: 'name', element: 'name' }, { name: 'phone', element: 'phone' }],
  } });
  assert.equal(made.status, 201, made.text);
  code = made.json.code;
  assert.equal((await srv.call('POST', `/api/v1/resources/${code}/publish`, { token: gaj })).status, 200);
  const req = await srv.call('POST', '/api/v1/share-requests', { token: jtj, body: {
    resource: code, items: ['id_number', 'name'], purpose: '违法车辆所有人信息同步', legal_basis: '《道路交通安全法》',
    scenario: '非现场执法',
  } });
  assert.equal(req.status, 201, req.text);
  grantId = req.json.grant_id;
});
after(() => srv?.stop());

test('the change feed lists granted changes in order, with a cursor that resumes', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await put(i, `人员${i}`)).status, 201);
  assert.equal((await srv.call('DELETE', `/api/v1/resources/${code}/records/${idNumber(1)}`, { token: gaj })).status, 204);
  const first = await srv.call('GET', `/api/v1/resources/${code}/changes?limit=2`, { token: jtj });
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(first.json.items.map((c) => [c.seq, c.key, c.version, c.deleted, c.data]), [
    [1, idNumber(0), 1, false, { id_number: idNumber(0), name: '人员0' }],
    [2, idNumber(1), 1, false, { id_number: idNumber(1), name: '人员1' }],
  ]);
  assert.equal(first.json.more, true);
  assert.match(first.headers.get('x-yiwang-audit-seq'), /^\d+$/);
  const rest = await srv.call('GET', `/api/v1/resources/${code}/changes?cursor=${first.json.next_cursor}`, { token: jtj });
  // phone was not granted; a deletion names the record and carries no data
  assert.deepEqual(rest.json.items.map((c) => [c.seq, c.key, c.deleted, c.data]), [
    [3, idNumber(2), false, { id_number: idNumber(2), name: '人员2' }],
    [4, idNumber(1), true, null],
  ]);
  assert.equal(rest.json.more, false);
  const later = await srv.call('GET', `/api/v1/resources/${code}/changes?cursor=${rest.json.next_cursor}`, { token: jtj });
  assert.deepEqual([later.json.items, later.json.next_cursor], [[], rest.json.next_cursor]);
  assertProblem(await srv.call('GET', `/api/v1/resources/${code}/changes?cursor=nonsense!`, { token: jtj }), 400, 'invalid_request');
  const scjg = await srv.login('scjg_steward');
  assertProblem(await srv.call('GET', `/api/v1/resources/${code}/changes`, { token: scjg }), 403, 'no_grant');
});

test('a webhook receiver that goes away gets every change once back, in order, signed; revocation stops it', async (t) => {
  const rx = receiver();
  t.after(() => rx.stop()); // a failed assertion must not leave the receiver holding the test process open
  await rx.start();
  const feed = await srv.call('GET', `/api/v1/resources/${code}/changes?limit=1000`, { token: jtj });
  const existing = feed.json.items.at(-1)?.seq ?? 0;
  const sub = await srv.call('POST', '/api/v1/subscriptions', { token: jtj, body: {
    resource: code, url: `http://127.0.0.1:${rx.port}/hook`,
  } });
  assert.equal(sub.status, 201, sub.text);
  assert.match(sub.json.secret, /^ywh_/);
  assert.equal(sub.json.cursor, existing, 'delivery starts after the changes that exist');
  const secret = sub.json.secret;
  const seen = () => {
    const seqs = [];
    for (const b of rx.batches) for (const c of JSON.parse(b.body).changes) if (!seqs.includes(c.seq)) seqs.push(c.seq);
    return seqs;
  };

  for (let i = 10; i < 13; i++) await put(i, `订阅${i}`);
  await until('the first three changes', () => seen().length >= 3);
  await rx.stop();
  for (let i = 13; i < 16; i++) await put(i, `订阅${i}`);
  await srv.call('DELETE', `/api/v1/resources/${code}/records/${idNumber(10)}`, { token: gaj });
  // the receiver is gone: attempts fail and are recorded
  await until('a failed attempt', async () => {
    const d = await srv.call('GET', `/api/v1/subscriptions/${sub.json.id}/deliveries`, { token: jtj });
    return d.json.items.some((x) => x.status === 'pending' && x.error);
  });
  const failing = await srv.call('GET', `/api/v1/subscriptions/${sub.json.id}`, { token: jtj });
  assert.ok(failing.json.failures >= 1);
  await rx.start();
  await until('every change', () => seen().length >= 7);

  // every change, each at least once, in order; every batch signed with the subscription's secret
  assert.deepEqual(seen(), [1, 2, 3, 4, 5, 6, 7].map((n) => existing + n));
  let last = existing;
  for (const b of rx.batches) {
    const body = JSON.parse(b.body);
    assert.equal(b.headers['x-yiwang-signature'], `sha256=${createHmac('sha256', secret).update(b.body).digest('hex')}`);
    assert.equal(b.headers['x-yiwang-delivery'], body.delivery);
    assert.equal(b.headers['x-yiwang-subscription'], sub.json.id);
    assert.equal(body.grant, grantId);
    const seqs = body.changes.map((c) => c.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in order within a batch');
    assert.ok(seqs[0] <= last + 1, `batch starting at ${seqs[0]} after ${last}: a change was skipped`);
    for (const c of body.changes) assert.deepEqual(Object.keys(c.data ?? {}).filter((k) => k === 'phone'), []);
    last = Math.max(last, seqs.at(-1));
  }
  // the hub records each outcome once the receiver has answered: wait for the last one
  let deliveries;
  await until('every delivery recorded as delivered', async () => {
    deliveries = await srv.call('GET', `/api/v1/subscriptions/${sub.json.id}/deliveries`, { token: jtj });
    return deliveries.json.items.every((d) => d.status === 'delivered');
  });
  assert.ok(deliveries.json.items.some((d) => d.attempts > 1), 'a batch was retried');
  // each attempt is an audit entry of what was transmitted
  const auditor = await srv.login('demo_auditor');
  const trail = await srv.call('GET', '/api/v1/audit/events?action=subscription.deliver&limit=1000', { token: auditor });
  const sent = trail.json.items.filter((e) => e.purpose === grantId);
  assert.ok(sent.length >= deliveries.json.items.length);
  assert.ok(sent.every((e) => e.stage === 'transmit' && e.object_ids[0] === code && e.response_sha256));

  // the grant ends: not one more change goes out
  assert.equal((await srv.call('DELETE', `/api/v1/grants/${grantId}`, { token: gaj })).status, 204);
  const before = rx.batches.length;
  await put(20, '撤销之后');
  await until('the subscription to stop', async () =>
    (await srv.call('GET', `/api/v1/subscriptions/${sub.json.id}`, { token: jtj })).json.status === 'stopped');
  await sleep(600);
  assert.equal(rx.batches.length, before);
  await rx.stop();
});

test('subscribing needs a grant and a usable URL; only the consumer ends a subscription', async () => {
  const scjg = await srv.login('scjg_steward');
  assertProblem(await srv.call('POST', '/api/v1/subscriptions', { token: scjg, body: { resource: code,
    url: 'http://127.0.0.1:9/x' } }), 403, 'no_grant');
  const again = await srv.call('POST', '/api/v1/share-requests', { token: jtj, body: {
    resource: code, items: ['name'], purpose: '再次申请', legal_basis: '依据', scenario: '场景' } });
  assert.equal(again.status, 201, again.text);
  for (const url of ['ftp://127.0.0.1/x', 'not a url', 'http://']) {
    assertProblem(await srv.call('POST', '/api/v1/subscriptions', { token: jtj, body: { resource: code, url } }), 422,
      'validation_failed');
  }
  const before = (await srv.call('GET', '/api/v1/subscriptions', { token: jtj })).json.items.length;
  const sub = await srv.call('POST', '/api/v1/subscriptions', { token: jtj, body: { resource: code,
    url: 'http://127.0.0.1:9/hook' } });
  assert.equal(sub.status, 201, sub.text);
  assert.equal((await srv.call('GET', '/api/v1/subscriptions', { token: jtj })).json.items.length, before + 1);
  assertProblem(await srv.call('DELETE', `/api/v1/subscriptions/${sub.json.id}`, { token: gaj }), 403, 'forbidden');
  assertProblem(await srv.call('DELETE', `/api/v1/subscriptions/${sub.json.id}`, { token: scjg }), 404, 'not_found');
  assert.equal((await srv.call('DELETE', `/api/v1/subscriptions/${sub.json.id}`, { token: jtj })).status, 204);
  assertProblem(await srv.call('GET', `/api/v1/subscriptions/${sub.json.id}`, { token: jtj }), 404, 'not_found');
});

test('a webhook cannot point the hub at its own host or at link-local addresses (--egress-deny)', async () => {
  // the test servers deny link-local only (their receivers listen on loopback): a literal address is refused at once
  for (const url of ['http://169.254.169.254/latest/meta-data', 'http://2852039166/x', 'http://[::ffff:a9fe:a9fe]/x',
    'http://[fe80::1]/x']) {
    const res = await srv.call('POST', '/api/v1/subscriptions', { token: jtj, body: { resource: code, url } });
    assertProblem(res, 422, 'validation_failed', /may not reach/);
  }
  // a name is checked where it leads, when the hub connects: a server with the default list, which denies loopback
  const strict = await startServer({ env: { YIWANG_EGRESS_DENY: '127.0.0.0/8,0.0.0.0/8,169.254.0.0/16,::1/128' } });
  const rx = receiver();
  await rx.start();
  try {
    const [p, c] = [await strict.login('gaj_steward'), await strict.login('jtj_steward')];
    const made = await strict.call('POST', '/api/v1/resources', { token: p, body: {
      name: '出站限制', provider_org: orgOf(strict.accounts, 'gaj_steward'), summary: '订阅', category: 'department',
      format: 'table', share_type: 'unconditional', share_method: 'subscription', open_type: 'closed',
      update_cycle: 'realtime', key_item: 'id_number', items: [{ name: 'id_number', element: 'id_number', required: true },
        { name: 'name', element: 'name' }] } });
    assert.equal(made.status, 201, made.text);
    assert.equal((await strict.call('POST', `/api/v1/resources/${made.json.code}/publish`, { token: p })).status, 200);
    const asked = await strict.call('POST', '/api/v1/share-requests', { token: c, body: { resource: made.json.code,
      items: ['id_number', 'name'], purpose: '同步', legal_basis: '依据', scenario: '场景' } });
    assert.equal(asked.status, 201, asked.text);
    assertProblem(await strict.call('POST', '/api/v1/subscriptions', { token: c, body: { resource: made.json.code,
      url: `http://127.0.0.1:${rx.port}/hook` } }), 422, 'validation_failed', /127\.0\.0\.0\/8/);
    const sub = await strict.call('POST', '/api/v1/subscriptions', { token: c, body: { resource: made.json.code,
      url: `http://localhost:${rx.port}/hook` } });
    assert.equal(sub.status, 201, sub.text);
    const put1 = await strict.call('PUT', `/api/v1/resources/${made.json.code}/records/${idNumber(1)}`,
      { token: p, body: { data: { name: '出站' } } });
    assert.equal(put1.status, 201, put1.text);
    let failed;
    await until('a refused attempt', async () => {
      const d = await strict.call('GET', `/api/v1/subscriptions/${sub.json.id}/deliveries`, { token: c });
      failed = d.json.items.find((x) => x.error);
      return failed;
    });
    assert.match(failed.error, /may not reach \(--egress-deny\)/);
    assert.equal(failed.status, 'pending', 'refused attempts are retried like any failure');
    assert.equal(rx.batches.length, 0, 'nothing reached the receiver');
  } finally {
    await rx.stop();
    await strict.stop();
  }
});

test('deliveries count against the grant\'s daily quota; past it the subscription waits for the next day', async (t) => {
  const rx = receiver();
  t.after(() => rx.stop());
  await rx.start();
  const scjg = await srv.login('scjg_steward');
  const asked = await srv.call('POST', '/api/v1/share-requests', { token: scjg, body: { resource: code,
    items: ['id_number', 'name'], purpose: '市场主体登记核验', legal_basis: '依据', scenario: '场景', daily_quota: 3 } });
  assert.equal(asked.status, 201, asked.text);
  const sub = await srv.call('POST', '/api/v1/subscriptions', { token: scjg, body: {
    resource: code, url: `http://127.0.0.1:${rx.port}/hook` } });
  assert.equal(sub.status, 201, sub.text);
  const delivered = () => new Set(rx.batches.flatMap((b) => JSON.parse(b.body).changes.map((c) => c.seq))).size;
  for (let i = 30; i < 35; i++) assert.equal((await put(i, `配额${i}`)).status, 201);
  let waiting;
  await until('the subscription to wait for the next day', async () => {
    waiting = (await srv.call('GET', `/api/v1/subscriptions/${sub.json.id}`, { token: scjg })).json;
    return /daily quota of grant .* is used up/.test(waiting.status_reason ?? '');
  });
  assert.equal(waiting.status, 'active');
  assert.match(waiting.next_attempt_at, /T16:00:00\.000Z$/, 'midnight in China Standard Time');
  assert.ok(Date.parse(waiting.next_attempt_at) > Date.now());
  await until('three changes delivered', () => delivered() >= 3);
  await sleep(600);
  assert.equal(delivered(), 3, 'no more than the quota today');
  // reads and deliveries draw on the same quota
  assertProblem(await srv.call('GET', `/api/v1/resources/${code}/records/${idNumber(30)}`, { token: scjg }), 429,
    'quota_exhausted');
});

// Last in this file: it rotates the server's data keys.
test('after a key rotation a webhook secret is sealed under the new key and still signs every delivery', async (t) => {
  const rx = receiver();
  t.after(() => rx.stop());
  await rx.start();
  const made = await srv.call('POST', '/api/v1/resources', { token: gaj, body: {
    name: '密钥轮换订阅测试', provider_org: GAJ, summary: '订阅', category: 'department', format: 'table',
    share_type: 'unconditional', share_method: 'subscription', open_type: 'closed', update_cycle: 'realtime',
    key_item: 'id_number', items: [{ name: 'id_number', element: 'id_number', required: true },
      { name: 'name', element: 'name' }],
  } });
  assert.equal(made.status, 201, made.text);
  const rc = made.json.code;
  assert.equal((await srv.call('POST', `/api/v1/resources/${rc}/publish`, { token: gaj })).status, 200);
  const asked = await srv.call('POST', '/api/v1/share-requests', { token: jtj, body: { resource: rc,
    items: ['id_number', 'name'], purpose: '同步', legal_basis: '依据', scenario: '场景' } });
  assert.equal(asked.status, 201, asked.text);
  const sub = await srv.call('POST', '/api/v1/subscriptions', { token: jtj, body: {
    resource: rc, url: `http://127.0.0.1:${rx.port}/hook` } });
  assert.equal(sub.status, 201, sub.text);
  const stored = () => execFileSync('sqlite3', [join(srv.dir, 'yiwang.db'),
    `SELECT secret FROM subscriptions WHERE id = '${sub.json.id}'`]).toString().trim();
  assert.match(stored(), /^enc:1:1:/);
  assert.ok(!stored().includes(sub.json.secret), 'the secret is not stored in clear');
  const write = (i) => srv.call('PUT', `/api/v1/resources/${rc}/records/${idNumber(100 + i)}`,
    { token: gaj, body: { data: { name: `轮换${i}` } } });
  assert.equal((await write(0)).status, 201);
  await until('the delivery before the rotation', () => rx.batches.length >= 1);

  const rotated = JSON.parse(execFileSync(BIN, ['keys', 'rotate', '--data', srv.dir]).toString());
  assert.equal(rotated.key_id, 2);
  await until('the secret sealed again', () => /^enc:1:2:/.test(stored()));
  assert.equal((await write(1)).status, 201);
  await until('the delivery after the rotation', () => rx.batches.some((b) => b.body.includes('"seq":2')));
  for (const b of rx.batches)
    assert.equal(b.headers['x-yiwang-signature'], `sha256=${createHmac('sha256', sub.json.secret).update(b.body).digest('hex')}`);
});
