// Durability: an acknowledged write survives SIGKILL, also with the database
// held alone (--db-exclusive); SIGTERM lets requests in flight finish and
// exits 0.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, startServer } from './lib/server.mjs';
import { makeUscc, sleep } from './lib/util.mjs';

const dirs = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

test('writes acknowledged before SIGKILL are there after a restart', async () => {
  const first = await startServer({ demo: false, keepData: true });
  dirs.push(first.dir);
  const sys = await first.adminToken('sysadmin');
  await first.adminToken('secadmin'); // so that it signs in without a pending change later
  const bureau = (await first.call('GET', '/api/v1/orgs', { token: sys })).json.items[0].code;
  // one write, killed the moment it is acknowledged
  const code = makeUscc();
  const res = await first.call('POST', '/api/v1/orgs', {
    token: sys, body: { code, name: '断电测试局', region_code: '330100', level: 'city' },
  });
  assert.equal(res.status, 201, res.text);
  first.proc.kill('SIGKILL');
  const { signal } = await first.exited;
  assert.equal(signal, 'SIGKILL');

  // many concurrent writes (one group commit or several), killed as soon as all are acknowledged
  const second = await startServer({ dataDir: first.dir, demo: false, keepData: true });
  assert.equal(second.admins, null, 'an initialised directory prints no credentials');
  const sys2 = await second.login('sysadmin', first.admins.sysadmin.password);
  const sec2 = await second.login('secadmin', first.admins.secadmin.password);
  assert.equal((await second.call('GET', `/api/v1/orgs/${code}`, { token: sys2 })).status, 200, 'the acknowledged org survived');
  const codes = Array.from({ length: 24 }, () => makeUscc());
  const names = Array.from({ length: 4 }, (_, i) => `durable_${i}_${Date.now().toString(36)}`);
  const writes = await Promise.all([
    ...codes.map((c, i) => second.call('POST', '/api/v1/orgs', {
      token: sys2, body: { code: c, name: `并发${i}`, region_code: '330100', level: 'district', parent_code: code },
    })),
    ...names.map((u) => second.call('POST', '/api/v1/users', {
      token: sec2, body: { username: u, display_name: '持久', org_code: bureau, roles: ['clerk'] },
    })),
    second.call('PATCH', `/api/v1/orgs/${code}`, { token: sys2, body: { name: '断电测试局（改）' } }),
  ]);
  second.proc.kill('SIGKILL');
  for (const w of writes) assert.ok(w.status === 201 || w.status === 200, w.text);
  await second.exited;

  const third = await startServer({ dataDir: first.dir, demo: false, keepData: true });
  try {
    const sys3 = await third.login('sysadmin', first.admins.sysadmin.password);
    const sec3 = await third.login('secadmin', first.admins.secadmin.password);
    const children = await third.call('GET', `/api/v1/orgs?parent=${code}&limit=1000`, { token: sys3 });
    assert.deepEqual(children.json.items.map((o) => o.code).sort(), [...codes].sort());
    assert.equal((await third.call('GET', `/api/v1/orgs/${code}`, { token: sys3 })).json.name, '断电测试局（改）');
    for (const u of names) assert.equal((await third.call('GET', `/api/v1/users/${u}`, { token: sec3 })).status, 200, u);
    // and the password changes made before the first kill (they let us sign in above)
    assert.equal((await third.call('GET', '/api/v1/auth/me', { token: sec3 })).json.must_change_password, false);
    // sessions are durable too: the token of the second run still works
    assert.equal((await third.call('GET', '/api/v1/auth/me', { token: sys2 })).status, 200);
  } finally {
    assert.deepEqual(await third.stop(), { code: 0, signal: null });
  }
});

test('--db-exclusive: the server works as usual, no other process opens its database meanwhile, writes survive SIGKILL', async () => {
  const srv = await startServer({ demo: false, keepData: true, args: ['--db-exclusive'] });
  dirs.push(srv.dir);
  const sys = await srv.adminToken('sysadmin');
  const codes = Array.from({ length: 12 }, () => makeUscc());
  const writes = await Promise.all(codes.map((code, i) => srv.call('POST', '/api/v1/orgs', {
    token: sys, body: { code, name: `独占${i}`, region_code: '330100', level: 'city' },
  })));
  for (const w of writes) assert.equal(w.status, 201, w.text);
  for (const code of codes) assert.equal((await srv.call('GET', `/api/v1/orgs/${code}`, { token: sys })).json.code, code);

  const db = join(srv.dir, 'yiwang.db');
  const count = `SELECT count(*) FROM orgs WHERE code IN (${codes.map((c) => `'${c}'`).join(',')})`;
  const peek = spawnSync('sqlite3', [db, count], { encoding: 'utf8', timeout: 30000 });
  assert.notEqual(peek.status, 0, 'sqlite3 read the database of a server holding it alone');
  assert.match(peek.stderr, /locked/);
  const t0 = Date.now();
  const verify = spawnSync(BIN, ['audit', 'verify', '--data', srv.dir], { encoding: 'utf8', timeout: 30000 });
  assert.equal(verify.status, 2, verify.stdout + verify.stderr);
  assert.match(verify.stderr, /--db-exclusive/);
  assert.equal(verify.stdout, '', 'no verdict on a log it could not read');
  assert.ok(Date.now() - t0 < 5000, `audit verify took ${Date.now() - t0} ms to give up`);

  srv.proc.kill('SIGKILL');
  await srv.exited;
  const afterKill = spawnSync('sqlite3', [db, count], { encoding: 'utf8' });
  assert.equal(afterKill.stdout.trim(), String(codes.length), 'the acknowledged writes, readable once the server is gone');
});

/** Starts a POST whose body arrives in two parts; returns {finish(), response}. */
function slowPost(port, path, token, body) {
  const text = JSON.stringify(body);
  const req = http.request({
    host: '127.0.0.1', port, path, method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) },
  });
  const response = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, text: data }));
    });
    req.on('error', reject);
  });
  const half = Math.floor(text.length / 2);
  req.write(text.slice(0, half));
  return { finish: () => req.end(text.slice(half)), response };
}

test('SIGTERM: the request in flight completes, new connections are refused, exit 0', async () => {
  const srv = await startServer({ demo: false });
  const sys = await srv.adminToken('sysadmin');
  const code = makeUscc();
  const inflight = slowPost(srv.port, '/api/v1/orgs', sys, { code, name: '在途请求局', region_code: '330100', level: 'city' });
  await sleep(300); // the server holds the headers and half the body
  srv.proc.kill('SIGTERM');
  await sleep(500);
  assert.equal(srv.proc.exitCode, null, 'the server waits for the request in flight');
  // a new connection is refused (fetch could reuse a kept-alive one, so connect by hand)
  const refused = await new Promise((resolve) => {
    const sock = net.connect(srv.port, '127.0.0.1');
    sock.on('connect', () => { sock.destroy(); resolve('connected'); });
    sock.on('error', (e) => resolve(e.code));
  });
  assert.equal(refused, 'ECONNREFUSED', 'no new connections while shutting down');
  inflight.finish();
  const res = await inflight.response;
  assert.equal(res.status, 201, res.text);
  assert.equal(JSON.parse(res.text).code, code);
  const exit = await srv.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.match(srv.stderr, /SIGTERM received/);
  assert.match(srv.stderr, /"msg":"stopped"/);
  // the completed write is durable
  const again = await startServer({ dataDir: srv.dir, demo: false, keepData: true });
  dirs.push(srv.dir);
  try {
    const token = await again.login('sysadmin', srv.admins.sysadmin.password);
    assert.equal((await again.call('GET', `/api/v1/orgs/${code}`, { token })).status, 200);
  } finally {
    await again.stop();
  }
});

test('SIGTERM with nothing in flight exits 0 promptly', async () => {
  const srv = await startServer({ demo: true });
  const t0 = Date.now();
  const exit = await srv.stop();
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
});
