// Unified access (统一接入): a department registers its API on the hub once;
// another department's system calls it through the hub, which checks the
// right (whole service or per operation, granted through the sharing flow),
// forwards with the hub's headers and hashes, streams bodies both ways in
// constant memory, audits each call with a proof for both parties, keeps
// statistics, and tells provider failures (unreachable, timeout, down) from
// its own. The providers are real node:http servers inside this test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { startServer, orgOf } from './lib/server.mjs';
import { assertProblem, sleep } from './lib/util.mjs';

const MiB = 1 << 20;
const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const EMPTY_SHA256 = sha256('');

let srv, gaj, scjg, jtj, GAJ, SCJG, scjgClient, jtjClient, resource, service, provider, flaky;
const grants = []; // every grant scjg holds of the api resource

/**
 * A provider's system: GET /people/{id}, POST /echo, GET /big?n= (n bytes,
 * streamed), POST /upload (hashes what it gets), GET /slow, GET /health.
 * Every request it saw is kept with its headers and trailers.
 */
function providerServer() {
  const p = { seen: [], server: null, port: 0, slowMs: 10000 };
  const handler = (req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let body = '';
    req.on('data', (d) => {
      hash.update(d);
      bytes += d.length;
      if (body.length < 64 * 1024) body += d;
    });
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      const record = { method: req.method, path: url.pathname, query: url.search, headers: req.headers,
        trailers: req.trailers, bytes, sha256: hash.digest('hex'), body: bytes <= 64 * 1024 ? body : null };
      if (url.pathname !== '/health') p.seen.push(record);
      if (url.pathname === '/health') return res.writeHead(200).end('ok');
      if (url.pathname.startsWith('/people/')) {
        return res.writeHead(200, { 'Content-Type': 'application/json', ETag: '"v1"', 'Set-Cookie': 'secret=1' })
          .end(JSON.stringify({ id: decodeURIComponent(url.pathname.slice(8)), name: '张三', q: url.search }));
      }
      if (url.pathname === '/echo') return res.writeHead(201, { 'Content-Type': 'text/plain' }).end(body);
      if (url.pathname === '/upload') {
        return res.writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ bytes, sha256: record.sha256, trailer: req.trailers['x-yiwang-request-hash'] ?? null }));
      }
      if (url.pathname === '/big') return streamBytes(res, Number(url.searchParams.get('n')));
      if (url.pathname === '/broken') { // 1 MiB of a promised 8, then the connection drops
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(8 * MiB) });
        return res.write(Buffer.alloc(MiB), () => setTimeout(() => res.destroy(), 50));
      }
      if (url.pathname === '/slow') {
        const t = setTimeout(() => res.writeHead(200).end('late'), p.slowMs);
        res.on('close', () => clearTimeout(t));
        return undefined;
      }
      return res.writeHead(404).end();
    });
  };
  p.start = () => new Promise((resolve) => {
    p.server = http.createServer(handler);
    p.server.listen(p.port, '127.0.0.1', () => { p.port = p.server.address().port; resolve(); });
  });
  p.stop = () => new Promise((resolve) => { p.server.closeAllConnections(); p.server.close(resolve); });
  return p;
}

/** The bytes of a streamed body: a pattern that a dropped or repeated chunk would change. */
function chunkAt(i, size) {
  const b = Buffer.alloc(size);
  for (let k = 0; k < size; k += 4) b.writeUInt32LE((i * size + k) >>> 0, k);
  return b;
}

/** Writes n pattern bytes to res, respecting backpressure. */
function streamBytes(res, n) {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  const size = 64 * 1024;
  let i = 0;
  const pump = () => {
    while (i * size < n) {
      const chunk = chunkAt(i, Math.min(size, n - i * size));
      i++;
      if (!res.write(chunk)) return res.once('drain', pump);
    }
    return res.end();
  };
  pump();
}

/** The hash of n pattern bytes, as streamBytes sends them. */
function patternHash(n) {
  const h = createHash('sha256');
  const size = 64 * 1024;
  for (let i = 0; i * size < n; i++) h.update(chunkAt(i, Math.min(size, n - i * size)));
  return h.digest('hex');
}

/** The server's resident memory, in bytes. */
function rss() {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

/** A request through node:http, streaming; resolves to {status, headers, trailers, bytes, sha256, text}. */
function rawCall(method, path, { token, headers = {}, bodyBytes = 0, keep = false } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    const req = http.request(`${srv.base}${path}`, { method, headers: h }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      let text = '';
      res.on('data', (d) => {
        hash.update(d);
        bytes += d.length;
        if (keep || text.length < 4096) text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, trailers: res.trailers, bytes,
        sha256: hash.digest('hex'), text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const size = 64 * 1024;
    let i = 0;
    const pump = () => {
      while (i * size < bodyBytes) {
        const chunk = chunkAt(i, Math.min(size, bodyBytes - i * size));
        i++;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      return req.end();
    };
    pump();
  });
}

async function until(what, check, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function ok(res, status, what) {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`);
  return res.json;
}

const OPENAPI = {
  openapi: '3.0.3',
  info: { title: '人口信息服务', version: '1.0' },
  paths: {
    '/people/{id}': { get: { operationId: 'getPerson', responses: { 200: { description: 'a person' } } } },
    '/echo': { post: { operationId: 'echo', responses: { 201: { description: 'the body' } } } },
    '/big': { get: { operationId: 'bigDownload', responses: { 200: { description: 'bytes' } } } },
    '/upload': { post: { operationId: 'upload', responses: { 200: { description: 'its hash' } } } },
    '/slow': { get: { operationId: 'slow', responses: { 200: { description: 'late' } } } },
    '/broken': { get: { operationId: 'broken', responses: { 200: { description: 'cut short' } } } },
  },
};

/** scjg asks for items of the api resource and gaj approves; returns the grant id. */
async function grant(items) {
  const asked = await ok(await srv.call('POST', '/api/v1/share-requests', { token: scjg, body: {
    resource, items, purpose: '登记核验', legal_basis: '《市场主体登记管理条例》', scenario: '企业登记',
  } }), 201, 'share request');
  const decided = await ok(await srv.call('POST', `/api/v1/share-requests/${asked.id}/approve`, { token: gaj }), 200,
    'approve');
  grants.push(decided.grant_id);
  return decided.grant_id;
}

before(async () => {
  srv = await startServer({ args: ['--access-health-interval', '1', '--access-timeout', '3',
    '--access-body-limit', String(200 * MiB), '--rate-limit', '0'] });
  GAJ = orgOf(srv.accounts, 'gaj_steward');
  SCJG = orgOf(srv.accounts, 'scjg_steward');
  const JTJ = orgOf(srv.accounts, 'jtj_steward');
  gaj = await srv.login('gaj_steward');
  scjg = await srv.login('scjg_steward');
  jtj = await srv.login('jtj_steward');
  scjgClient = srv.accounts.clients.find((c) => c.id.startsWith(`${SCJG}/`));
  jtjClient = srv.accounts.clients.find((c) => c.id.startsWith(`${JTJ}/`));
  provider = providerServer();
  await provider.start();
  flaky = providerServer();
  await flaky.start();
  const made = await ok(await srv.call('POST', '/api/v1/resources', { token: gaj, body: {
    name: '人口信息查询接口', provider_org: GAJ, summary: '统一接入的人口信息服务', category: 'base', format: 'api',
    share_type: 'conditional', share_condition: '依法履职', share_method: 'api', open_type: 'closed',
    update_cycle: 'realtime', key_item: 'service',
    items: ['service', 'get_person', 'echo', 'big_download', 'upload', 'slow'].map((name) => ({ name, type: 'C' })),
  } }), 201, 'api resource');
  resource = made.code;
  await ok(await srv.call('POST', `/api/v1/resources/${resource}/publish`, { token: gaj }), 200, 'publish');
  service = await ok(await srv.call('POST', '/api/v1/services', { token: gaj, body: {
    code: 'population', name: '人口信息服务', description: '按身份证号查询', base_url: `http://127.0.0.1:${provider.port}/`,
    resource, openapi: OPENAPI, health_path: '/health',
  } }), 201, 'service');
});

after(async () => {
  await provider?.stop();
  if (srv) {
    // in flight or not, every call ends cleanly: no sanitizer report, exit 0
    const { code, signal } = await srv.stop();
    assert.equal(code, 0, `the server exited with ${code ?? signal}:\n${srv.stderr.slice(-4000)}`);
  }
  await flaky?.stop().catch(() => {});
});

test('a service registers with the operations of its OpenAPI document; bad registrations change nothing', async () => {
  assert.match(service.id, /^SV\d{8}$/);
  assert.equal(service.call_path, `/x/${GAJ}/population`);
  assert.deepEqual(service.operations, [
    { name: 'get_person', method: 'GET', path: '/people/{id}' },
    { name: 'echo', method: 'POST', path: '/echo' },
    { name: 'big_download', method: 'GET', path: '/big' },
    { name: 'upload', method: 'POST', path: '/upload' },
    { name: 'slow', method: 'GET', path: '/slow' },
    { name: 'broken', method: 'GET', path: '/broken' },
  ]);
  assert.equal(service.has_openapi, true);
  const before1 = (await srv.call('GET', '/api/v1/services', { token: gaj })).json.items.length;
  const base = { code: 'other', name: '其他', base_url: 'http://127.0.0.1:9/', resource };
  assertProblem(await srv.call('POST', '/api/v1/services', { token: gaj, body: { ...base, code: 'Bad Code' } }), 422,
    'validation_failed', /code/);
  assertProblem(await srv.call('POST', '/api/v1/services', { token: gaj, body: { ...base, base_url: 'ftp://x/' } }),
    422, 'validation_failed', /base_url/);
  // an address the hub may not reach (the test servers deny link-local): cloud metadata, say
  assertProblem(await srv.call('POST', '/api/v1/services', { token: gaj, body: { ...base,
    base_url: 'http://169.254.169.254/latest/' } }), 422, 'validation_failed', /may not reach \(--egress-deny\)/);
  assertProblem(await srv.call('POST', '/api/v1/services', { token: gaj, body: { ...base,
    operations: [{ name: 'service', method: 'GET', path: '/' }] } }), 422, 'validation_failed', /operation/);
  assertProblem(await srv.call('POST', '/api/v1/services', { token: gaj, body: { ...base, openapi: { swagger: '2.0' } } }),
    422, 'validation_failed', /OpenAPI 3/);
  assertProblem(await srv.call('POST', '/api/v1/services', { token: gaj, body: { ...base, extra: 1 } }), 400,
    'invalid_request');
  assertProblem(await srv.call('POST', '/api/v1/services', { token: gaj, body: { ...base, code: 'population' } }), 409,
    'conflict');
  // a resource of another format, or of another org, gives no rights to call
  const table = await ok(await srv.call('POST', '/api/v1/resources', { token: gaj, body: {
    name: '表格资源', provider_org: GAJ, summary: '表', category: 'department', format: 'table', share_type: 'unconditional',
    share_method: 'api', open_type: 'closed', update_cycle: 'daily', key_item: 'id_number',
    items: [{ name: 'id_number', element: 'id_number' }] } }), 201, 'table resource');
  assertProblem(await srv.call('POST', '/api/v1/services', { token: gaj, body: { ...base, resource: table.code } }),
    422, 'validation_failed', /format api/);
  assertProblem(await srv.call('POST', '/api/v1/services', { token: scjg, body: base }), 422, 'validation_failed',
    /your org/);
  const after1 = (await srv.call('GET', '/api/v1/services', { token: gaj })).json.items.length;
  assert.equal(after1, before1);
  // consumers see the service, not the provider's internal address
  const seen = await ok(await srv.call('GET', `/api/v1/services/${service.id}`, { token: scjg }), 200, 'get');
  assert.equal(seen.base_url, undefined);
  const own = await ok(await srv.call('GET', `/api/v1/services/${service.id}`, { token: gaj }), 200, 'get own');
  assert.equal(own.base_url, `http://127.0.0.1:${provider.port}/`);
  assertProblem(await srv.call('GET', '/api/v1/services/SV99999999', { token: gaj }), 404, 'not_found');
});

test('without a right the call is refused with 403, and the provider sees nothing', async () => {
  const seen = provider.seen.length;
  const res = await srv.call('GET', `/x/${GAJ}/population/people/110101199001011234`, { token: scjgClient.secret });
  assertProblem(res, 403, 'no_grant', new RegExp(resource));
  // only department systems call services
  assertProblem(await srv.call('GET', `/x/${GAJ}/population/people/1`, { token: scjg }), 403, 'forbidden');
  assertProblem(await srv.call('GET', `/x/${GAJ}/population/people/1`), 401, 'unauthenticated');
  assertProblem(await srv.call('GET', `/x/${GAJ}/nosuch/people/1`, { token: scjgClient.secret }), 404, 'not_found');
  assertProblem(await srv.call('GET', `/x/${SCJG}/population/people/1`, { token: scjgClient.secret }), 404, 'not_found');
  // a path cannot climb out of the service's base path at the provider (sent as it is: fetch would resolve it)
  const climb = await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: `/x/${GAJ}/population/people/%2E%2E/%2E%2E/admin`,
      headers: { Authorization: `Bearer ${scjgClient.secret}` } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(climb.status, 400);
  assert.equal(climb.json.code, 'invalid_request');
  assert.equal(provider.seen.length, seen);
  // the directory lists what the consumer may call: nothing yet
  const callable = await ok(await srv.call('GET', '/api/v1/services?callable=true', { token: scjgClient.secret }), 200,
    'directory');
  assert.equal(callable.items.length, 0);
});

test('per-operation rights: a grant of one operation allows it and nothing else', async () => {
  await grant(['get_person']);
  const res = await srv.call('GET', `/x/${GAJ}/population/people/110101199001011234?fields=name&x=a%20b`, {
    token: scjgClient.secret, headers: { Accept: 'application/json', Cookie: 'c=1' } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.id, '110101199001011234');
  assert.equal(res.json.q, '?fields=name&x=a%20b');
  assert.equal(res.headers.get('etag'), '"v1"');
  assert.equal(res.headers.get('set-cookie'), null);
  assert.equal(res.headers.get('x-yiwang-response-hash'), sha256(res.text));
  assert.match(res.headers.get('x-yiwang-audit-seq'), /^\d+$/);
  const got = provider.seen.at(-1);
  assert.equal(got.path, '/people/110101199001011234');
  assert.equal(got.headers['x-yiwang-client'], scjgClient.id);
  assert.equal(got.headers['x-yiwang-id'], res.headers.get('x-request-id'));
  assert.equal(got.headers['x-yiwang-request-hash'], EMPTY_SHA256);
  assert.equal(got.headers.authorization, undefined, 'the consumer\'s credential never reaches the provider');
  assert.equal(got.headers.cookie, undefined);
  assert.equal(got.headers.accept, 'application/json');
  // another operation of the same service is not granted
  const seen = provider.seen.length;
  assertProblem(await srv.call('POST', `/x/${GAJ}/population/echo`, { token: scjgClient.secret, raw: 'hi',
    headers: { 'Content-Type': 'text/plain' } }), 403, 'operation_not_granted', /echo/);
  assertProblem(await srv.call('GET', `/x/${GAJ}/population/unlisted`, { token: scjgClient.secret }), 403,
    'operation_not_granted');
  assert.equal(provider.seen.length, seen);
  // another org's system has no right at all
  assertProblem(await srv.call('GET', `/x/${GAJ}/population/people/1`, { token: jtjClient.secret }), 403, 'no_grant');
  const callable = await ok(await srv.call('GET', '/api/v1/services?callable=true', { token: scjgClient.secret }), 200,
    'directory');
  assert.deepEqual(callable.items.map((s) => s.id), [service.id]);
  const none = await ok(await srv.call('GET', '/api/v1/services?callable=true', { token: jtjClient.secret }), 200,
    'directory');
  assert.equal(none.items.length, 0);
  const doc = await ok(await srv.call('GET', `/api/v1/services/${service.id}/openapi`, { token: scjgClient.secret }),
    200, 'openapi');
  assert.deepEqual(doc, OPENAPI);
});

test('a whole-service grant: bodies pass with their hashes; each party fetches the inclusion proof', async () => {
  await grant(['service']);
  const body = '{"企业":"一网通办","n":1}';
  const res = await srv.call('POST', `/x/${GAJ}/population/echo`, { token: scjgClient.secret, raw: body,
    headers: { 'Content-Type': 'application/json' } });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.text, body);
  assert.equal(res.headers.get('content-type'), 'text/plain');
  assert.equal(res.headers.get('x-yiwang-response-hash'), sha256(body));
  const got = provider.seen.at(-1);
  assert.equal(got.headers['x-yiwang-request-hash'], sha256(body));
  assert.equal(got.headers['content-type'], 'application/json');
  const callId = res.headers.get('x-request-id');
  const seq = Number(res.headers.get('x-yiwang-audit-seq'));
  const call = await ok(await srv.call('GET', `/api/v1/services/${service.id}/calls/${callId}`, { token: scjgClient.secret }),
    200, 'call');
  assert.equal(call.status, 201);
  assert.equal(call.request_sha256, sha256(body));
  assert.equal(call.response_sha256, sha256(body));
  assert.equal(call.request_bytes, Buffer.byteLength(body));
  assert.equal(call.response_bytes, Buffer.byteLength(body));
  assert.equal(call.audit_seq, seq);
  assert.equal(call.operation, 'echo');
  for (const [who, token] of [['consumer', scjgClient.secret], ['consumer steward', scjg], ['provider', gaj]]) {
    let proof;
    await until(`proof for the ${who}`, async () => {
      proof = await srv.call('GET', `/api/v1/services/${service.id}/calls/${callId}/proof`, { token });
      return proof.status === 200;
    });
    assert.equal(proof.json.seq, seq);
    const entry = JSON.parse(proof.json.entry);
    assert.equal(entry.action, 'service.call');
    assert.equal(entry.request_id, callId);
    assert.equal(entry.request_sha256, sha256(body));
    assert.equal(entry.response_sha256, sha256(body));
    assert.equal(entry.status, 201);
    assert.ok(entry.object_ids.includes(`request_bytes=${Buffer.byteLength(body)}`));
    assert.ok(entry.object_ids.some((id) => /^duration_ms=\d+$/.test(id)));
    // the leaf is the hash of the entry, and the path leads to the signed root
    const leaf = createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(proof.json.entry)])).digest();
    assert.equal(leaf.toString('base64'), proof.json.leaf_hash);
  }
  // a caller's own request ids need not be unique: each call is recorded, the newest answers to its id
  for (const n of [1, 2]) {
    const again = await srv.call('POST', `/x/${GAJ}/population/echo`, { token: scjgClient.secret, raw: `第${n}次`,
      headers: { 'Content-Type': 'text/plain', 'X-Request-Id': 'my-own-id' } });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers.get('x-request-id'), 'my-own-id');
  }
  const newest = await ok(await srv.call('GET', `/api/v1/services/${service.id}/calls/my-own-id`, { token: gaj }), 200,
    'call by a caller\'s id');
  assert.equal(newest.request_sha256, sha256('第2次'));
  // a department that took no part learns nothing
  assertProblem(await srv.call('GET', `/api/v1/services/${service.id}/calls/${callId}/proof`, { token: jtj }), 404,
    'not_found');
  assertProblem(await srv.call('GET', `/api/v1/services/${service.id}/calls/${callId}`, { token: jtjClient.secret }),
    404, 'not_found');
  const mine = await ok(await srv.call('GET', `/api/v1/services/${service.id}/calls`, { token: jtj }), 200, 'calls');
  assert.equal(mine.items.length, 0);
});

test('200 calls at once: each gets its own answer, hash and audit entry', async () => {
  const bodies = Array.from({ length: 200 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(i * 37)}"}`);
  const answers = await Promise.all(bodies.map((body) => srv.call('POST', `/x/${GAJ}/population/echo`, {
    token: scjgClient.secret, raw: body, headers: { 'Content-Type': 'application/json' } })));
  const seqs = new Set();
  answers.forEach((res, i) => {
    assert.equal(res.status, 201, res.text);
    assert.equal(res.text, bodies[i]);
    assert.equal(res.headers.get('x-yiwang-response-hash'), sha256(bodies[i]));
    seqs.add(res.headers.get('x-yiwang-audit-seq'));
  });
  assert.equal(seqs.size, 200, 'one audit entry per call');
});

test('100 MiB each way stream through without the server\'s memory growing', async (t) => {
  const n = 100 * MiB;
  await rawCall('GET', `/x/${GAJ}/population/big?n=${MiB}`, { token: scjgClient.secret }); // warm up
  const base = rss();
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, rss()); }, 50);
  try {
    const down = await rawCall('GET', `/x/${GAJ}/population/big?n=${n}`, { token: scjgClient.secret });
    assert.equal(down.status, 200);
    assert.equal(down.bytes, n);
    const expected = patternHash(n);
    assert.equal(down.sha256, expected);
    assert.equal(down.headers['transfer-encoding'], 'chunked');
    assert.equal(down.trailers['x-yiwang-response-hash'], expected);
    assert.match(down.trailers['x-yiwang-audit-seq'], /^\d+$/);
    const up = await rawCall('POST', `/x/${GAJ}/population/upload`, { token: scjgClient.secret, bodyBytes: n,
      headers: { 'Content-Type': 'application/octet-stream' }, keep: true });
    assert.equal(up.status, 200, up.text);
    const answer = JSON.parse(up.text);
    assert.equal(answer.bytes, n);
    assert.equal(answer.sha256, expected);
    assert.equal(answer.trailer, expected, 'the request hash of a streamed body follows as a trailer');
  } finally {
    clearInterval(sampler);
  }
  const growth = peak - base;
  t.diagnostic(`resident memory ${(base / MiB).toFixed(1)} MiB before, at most ${(peak / MiB).toFixed(1)} MiB during`);
  assert.ok(growth < 32 * MiB, `the server grew by ${(growth / MiB).toFixed(1)} MiB while 200 MiB passed`);
  const calls = await ok(await srv.call('GET', `/api/v1/services/${service.id}/calls?limit=1000`, { token: gaj }), 200,
    'calls');
  const big = calls.items.filter((c) => c.response_bytes === n || c.request_bytes === n);
  assert.equal(big.length, 2);
});

/** The newest call of the service with this request id, once it is recorded. */
async function recordedCall(id) {
  let call;
  await until(`the call ${id} recorded`, async () => {
    const r = await srv.call('GET', `/api/v1/services/${service.id}/calls/${id}`, { token: gaj });
    call = r.json;
    return r.status === 200;
  });
  return call;
}

test('a consumer that goes away mid-answer stops the transfer; the call is recorded as such', async () => {
  const id = `gone-${Date.now()}`;
  await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: `/x/${GAJ}/population/big?n=${50 * MiB}`,
      headers: { Authorization: `Bearer ${scjgClient.secret}`, 'X-Request-Id': id } }, (res) => {
      let got = 0;
      res.on('data', (d) => {
        got += d.length;
        if (got > MiB) { req.destroy(); resolve(); }
      });
      res.on('end', () => reject(new Error('the whole answer came')));
    });
    req.on('error', () => {});
    req.end();
  });
  const call = await recordedCall(id);
  assert.equal(call.outcome, 'consumer_gone');
  assert.ok(call.response_bytes < 50 * MiB, `${call.response_bytes} bytes taken from the provider`);
  // the server is well and serves the next call
  assert.equal((await srv.call('GET', `/x/${GAJ}/population/people/1`, { token: scjgClient.secret })).status, 200);
});

test('a provider that breaks off mid-answer: the consumer\'s connection is cut, not ended as if whole', async () => {
  const id = `broken-${Date.now()}`;
  const outcome = await new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: `/x/${GAJ}/population/broken`,
      headers: { Authorization: `Bearer ${scjgClient.secret}`, 'X-Request-Id': id } }, (res) => {
      let got = 0;
      res.on('data', (d) => { got += d.length; });
      res.on('end', () => resolve({ ended: true, got, trailers: res.trailers }));
      res.on('error', () => resolve({ ended: false, got }));
      res.on('aborted', () => resolve({ ended: false, got }));
    });
    req.on('error', () => resolve({ ended: false, got: -1 }));
    req.end();
  });
  assert.equal(outcome.ended, false, JSON.stringify(outcome));
  const call = await recordedCall(id);
  assert.equal(call.outcome, 'provider_unreachable');
  assert.equal(call.response_bytes, MiB);
});

test('a slow consumer holds the provider back: nothing lost, nothing piled up', async () => {
  const n = 8 * MiB;
  const expected = patternHash(n);
  // the consumer reads at about 8 MiB/s while the provider could send far faster
  const down = await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: `/x/${GAJ}/population/big?n=${n}`,
      headers: { Authorization: `Bearer ${scjgClient.secret}` } }, (res) => {
      const h = createHash('sha256');
      let got = 0;
      res.on('data', (d) => {
        h.update(d);
        got += d.length;
        res.pause();
        setTimeout(() => res.resume(), Math.ceil(d.length / (8 * 1024)));
      });
      res.on('end', () => resolve({ got, sha256: h.digest('hex'), trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(down.got, n);
  assert.equal(down.sha256, expected);
  assert.equal(down.trailers['x-yiwang-response-hash'], expected);
});

test('bodies over the limit are refused before they are forwarded', async () => {
  const seen = provider.seen.length;
  const res = await new Promise((resolve, reject) => {
    const req = http.request(`${srv.base}/x/${GAJ}/population/upload`, { method: 'POST', headers: {
      Authorization: `Bearer ${scjgClient.secret}`, 'Content-Length': String(300 * MiB) } }, (r) => {
      let text = '';
      r.on('data', (d) => { text += d; });
      r.on('end', () => resolve({ status: r.statusCode, text }));
    });
    req.on('error', reject);
    req.write('x');
  });
  assert.equal(res.status, 413);
  assert.equal(JSON.parse(res.text).code, 'body_too_large');
  assert.equal(provider.seen.length, seen);
});

test('a slow provider ends in provider_timeout', async () => {
  const start = Date.now();
  const res = await srv.call('GET', `/x/${GAJ}/population/slow`, { token: scjgClient.secret });
  assertProblem(res, 504, 'provider_timeout');
  assert.ok(Date.now() - start < 8000);
  assert.match(res.headers.get('x-yiwang-audit-seq'), /^\d+$/);
});

test('a provider that goes down: unreachable at once, then a fast 503 until it recovers', async () => {
  const made = await ok(await srv.call('POST', '/api/v1/services', { token: gaj, body: {
    code: 'flaky', name: '不稳定服务', base_url: `http://127.0.0.1:${flaky.port}`, resource, health_path: '/health',
    operations: [{ name: 'get_person', method: 'GET', path: '/people/{id}' }] } }), 201, 'flaky service');
  const path = `/x/${GAJ}/flaky/people/1`;
  await until('the first health check', async () =>
    (await srv.call('GET', `/api/v1/services/${made.id}`, { token: gaj })).json.health.status === 'up');
  // scjg holds whole-service grants of the resource: they cover this service too
  assert.equal((await srv.call('GET', path, { token: scjgClient.secret })).status, 200);
  await flaky.stop();
  assertProblem(await srv.call('GET', path, { token: scjgClient.secret }), 502, 'provider_unreachable');
  await until('the provider marked down', async () =>
    (await srv.call('GET', `/api/v1/services/${made.id}`, { token: scjgClient.secret })).json.health.status === 'down');
  const start = Date.now();
  const res = await srv.call('GET', path, { token: scjgClient.secret });
  const ms = Date.now() - start;
  assertProblem(res, 503, 'provider_down');
  assert.match(res.headers.get('retry-after'), /^\d+$/);
  assert.ok(ms < 500, `provider_down took ${ms} ms`);
  await flaky.start(); // the same port
  await until('the provider up again', async () =>
    (await srv.call('GET', `/api/v1/services/${made.id}`, { token: gaj })).json.health.status === 'up');
  assert.equal((await srv.call('GET', path, { token: scjgClient.secret })).status, 200);
});

test('monitoring per service and consumer: the API for the provider and the bureau, and /metrics', async () => {
  const stats = await ok(await srv.call('GET', `/api/v1/services/${service.id}/stats`, { token: gaj }), 200, 'stats');
  const s = stats.consumers.find((c) => c.consumer_org === SCJG);
  assert.ok(s.calls >= 5, JSON.stringify(stats));
  assert.ok(s.errors >= 1); // the timeout
  assert.ok(s.response_bytes >= 100 * MiB);
  assert.ok(s.request_bytes >= 100 * MiB);
  for (const p of ['p50', 'p90', 'p99', 'max']) assert.equal(typeof s.latency_ms[p], 'number');
  assert.ok(s.latency_ms.p50 <= s.latency_ms.p99 && s.latency_ms.p99 <= s.latency_ms.max);
  assert.equal(stats.total.calls, stats.consumers.reduce((a, c) => a + c.calls, 0));
  const bureau = await srv.login('dsj_steward');
  await ok(await srv.call('GET', `/api/v1/services/${service.id}/stats`, { token: bureau }), 200, 'bureau');
  assertProblem(await srv.call('GET', `/api/v1/services/${service.id}/stats`, { token: scjg }), 404, 'not_found');
  assertProblem(await srv.call('GET', `/api/v1/services/${service.id}/stats?since=yesterday`, { token: gaj }), 400,
    'invalid_request');
  assertProblem(await srv.call('GET', `/api/v1/services/${service.id}/stats?until=tomorrow`, { token: gaj }), 400,
    'invalid_request');
  // a window that ends before any call was made
  const before = await ok(await srv.call('GET',
    `/api/v1/services/${service.id}/stats?since=2020-01-01T00:00:00Z&until=2021-01-01T00:00:00%2B08:00`,
    { token: gaj }), 200, 'stats of 2020');
  assert.equal(before.total.calls, 0);
  assert.equal(before.consumers.length, 0);
  assert.equal(before.until, '2020-12-31T16:00:00.000Z');
  const metrics = await (await fetch(`${srv.base}/metrics`)).text();
  const line = new RegExp(`^yiwang_service_calls_total\\{service="${service.id}",consumer="${SCJG}"\\} (\\d+)$`, 'm');
  assert.ok(Number(line.exec(metrics)?.[1]) >= 5, metrics.slice(-2000));
  assert.match(metrics, new RegExp(`yiwang_service_call_duration_seconds_count\\{service="${service.id}",consumer="${SCJG}"\\}`));
  assert.match(metrics, new RegExp(`yiwang_service_errors_total\\{service="${service.id}",consumer="${SCJG}"\\} [1-9]`));
});

test('service calls filtered by consumer, outcome and time', async () => {
  const list = async (query, token = gaj) =>
    (await ok(await srv.call('GET', `/api/v1/services/${service.id}/calls?limit=1000&${query}`, { token }), 200,
      query)).items;
  const all = await list('');
  assert.ok(all.length >= 5);
  const timeouts = await list('outcome=provider_timeout');
  assert.ok(timeouts.length >= 1);
  assert.ok(timeouts.every((c) => c.outcome === 'provider_timeout'));
  assert.equal((await list('outcome=ok')).length + timeouts.length + all.filter((c) =>
    c.outcome !== 'ok' && c.outcome !== 'provider_timeout').length, all.length);
  const unknownOutcome = await srv.call('GET', `/api/v1/services/${service.id}/calls?outcome=fine`, { token: gaj });
  assertProblem(unknownOutcome, 400, 'invalid_request');
  assert.match(unknownOutcome.json.detail, /ok, provider_unreachable, .*consumer_gone$/, 'the problem names every outcome');
  const scjgCalls = await list(`consumer_org=${SCJG}`);
  assert.ok(scjgCalls.length >= 1 && scjgCalls.every((c) => c.consumer_org === SCJG));
  // a consumer's scope stays its own, whatever it asks for
  assert.equal((await list(`consumer_org=${SCJG}`, jtj)).length, 0);
  // since is inclusive, until exclusive
  const first = all[0];
  const from = await list(`since=${encodeURIComponent(first.created_at)}`);
  assert.equal(from.length, all.length);
  const upTo = await list(`until=${encodeURIComponent(first.created_at)}`);
  assert.equal(upTo.length, 0); // nothing before the first
  assert.equal((await list('since=2099-01-01T00:00:00Z')).length, 0);
  assertProblem(await srv.call('GET', `/api/v1/services/${service.id}/calls?since=now`, { token: gaj }), 400,
    'invalid_request');
});

test('revoking the grants stops the very next call', async () => {
  const path = `/x/${GAJ}/population/people/1`;
  assert.equal((await srv.call('GET', path, { token: scjgClient.secret })).status, 200);
  for (const id of grants) {
    const r = await srv.call('DELETE', `/api/v1/grants/${id}?reason=${encodeURIComponent('事项办结')}`, { token: gaj });
    assert.equal(r.status, 204, r.text);
  }
  const seen = provider.seen.length;
  assertProblem(await srv.call('GET', path, { token: scjgClient.secret }), 403, 'no_grant');
  assert.equal(provider.seen.length, seen);
  const callable = await ok(await srv.call('GET', '/api/v1/services?callable=true', { token: scjgClient.secret }), 200,
    'directory');
  assert.equal(callable.items.length, 0);
});

test('a base URL whose name leads where the hub may not connect fails as unreachable, and the provider sees nothing', async () => {
  const strict = await startServer({ env: { YIWANG_EGRESS_DENY: '127.0.0.0/8,::1/128' } });
  const p = providerServer();
  await p.start();
  try {
    const [prov, cons] = [await strict.login('gaj_steward'), await strict.login('scjg_steward')];
    const made = await ok(await strict.call('POST', '/api/v1/resources', { token: prov, body: {
      name: '出站限制接口', provider_org: orgOf(strict.accounts, 'gaj_steward'), summary: '出站', category: 'base',
      format: 'api', share_type: 'unconditional', share_method: 'api', open_type: 'closed', update_cycle: 'realtime',
      key_item: 'service', items: [{ name: 'service', type: 'C' }] } }), 201, 'api resource');
    await ok(await strict.call('POST', `/api/v1/resources/${made.code}/publish`, { token: prov }), 200, 'publish');
    assertProblem(await strict.call('POST', '/api/v1/services', { token: prov, body: { code: 'direct', name: '直连',
      base_url: `http://127.0.0.1:${p.port}/`, resource: made.code } }), 422, 'validation_failed', /127\.0\.0\.0\/8/);
    const svc = await ok(await strict.call('POST', '/api/v1/services', { token: prov, body: { code: 'named',
      name: '经名称', base_url: `http://localhost:${p.port}/`, resource: made.code, health_path: '/health' } }), 201,
      'service by name');
    await ok(await strict.call('POST', '/api/v1/share-requests', { token: cons, body: { resource: made.code,
      items: ['service'], purpose: '核验', legal_basis: '依据', scenario: '场景' } }), 201, 'request');
    const secret = strict.accounts.clients.find((c) => c.id.startsWith(`${orgOf(strict.accounts, 'scjg_steward')}/`)).secret;
    const res = await strict.call('GET', `${svc.call_path}/people/1`, { token: secret });
    assertProblem(res, 502, 'provider_unreachable', /may not reach \(--egress-deny\)/);
    assert.equal(p.seen.length, 0, 'nothing reached the provider');
  } finally {
    await p.stop();
    await strict.stop();
  }
});
