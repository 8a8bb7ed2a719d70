// The audit trail: the exact entries each route writes (denied attempts
// included), proofs checked by an independent verifier written here with
// node:crypto, and `yiwang audit verify` catching every kind of tampering
// done directly to the database file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, BIN } from './lib/server.mjs';
import { makeUscc, totpCode } from './lib/util.mjs';

let srv, auditor, secadmin, gajAdmin;

before(async () => {
  srv = await startServer({ keepData: true });
  auditor = await srv.login('demo_auditor');
  secadmin = await srv.login('demo_secadmin');
  gajAdmin = await srv.login('gaj_admin');
});
after(async () => {
  await srv.stop();
  rmSync(srv.dir, { recursive: true, force: true });
});

// Entries of the audit log after `since` (a seq), as an auditor reads them.
async function entriesSince(since, query = '') {
  const out = [];
  let cursor = null;
  do {
    const q = `/api/v1/audit/events?limit=1000${query}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await srv.call('GET', q, { token: auditor });
    assert.equal(res.status, 200, res.text);
    out.push(...res.json.items);
    cursor = res.json.next_cursor;
  } while (cursor);
  return out.filter((e) => e.seq > since && e.action !== 'audit.read');
}

async function lastSeq() {
  const res = await srv.call('GET', '/api/v1/audit/events?limit=1000&action=audit.read', { token: auditor });
  const all = await entriesSince(-1);
  return Math.max(-1, ...all.map((e) => e.seq), ...res.json.items.map((e) => e.seq));
}

// The fields an entry must have, beyond the per-case ones.
function expectEntry(entry, want) {
  for (const [k, v] of Object.entries(want)) assert.deepEqual(entry[k], v, `${k} of ${JSON.stringify(entry)}`);
  assert.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(entry.client, '127.0.0.1');
  assert.match(entry.request_id, /^[0-9a-f]+$/);
}

test('sign-in, sign-out and failures are entries with the right actor and result', async () => {
  const since = await lastSeq();
  const ok = await srv.call('POST', '/api/v1/auth/login', { body: { username: 'mzj_clerk', password: srv.accounts.password } });
  assert.equal(ok.status, 200);
  const bad = await srv.call('POST', '/api/v1/auth/login', { body: { username: 'mzj_clerk', password: 'wrong-Passw0rd' } });
  assert.equal(bad.status, 401);
  const ghost = await srv.call('POST', '/api/v1/auth/login', { body: { username: 'nobody.here', password: 'wrong-Passw0rd' } });
  assert.equal(ghost.status, 401);
  const out = await srv.call('POST', '/api/v1/auth/logout', { token: ok.json.token });
  assert.equal(out.status, 204);
  const mzj = srv.accounts.users.find((u) => u.username === 'mzj_clerk').org_code;
  const got = await entriesSince(since);
  assert.equal(got.length, 4, JSON.stringify(got));
  const base = { actor: 'mzj_clerk', actor_kind: 'user', actor_org: mzj, object_type: 'user', object_ids: ['mzj_clerk'],
    items: [], purpose: null, stage: null, request_sha256: null, response_sha256: null };
  expectEntry(got[0], { ...base, action: 'auth.login', result: 'ok', status: 200 });
  expectEntry(got[1], { ...base, action: 'auth.login', result: 'denied', status: 401 });
  expectEntry(got[2], { ...base, actor_org: null, object_ids: ['nobody.here'], actor: 'nobody.here',
    action: 'auth.login', result: 'denied', status: 401 });
  expectEntry(got[3], { ...base, action: 'auth.logout', result: 'ok', status: 204 });
  // Responses name the entry that recorded them.
  assert.equal(ok.headers.get('x-yiwang-audit-seq'), String(got[0].seq));
});

test('registry changes are entries; rejected and denied attempts too, and change nothing', async () => {
  const since = await lastSeq();
  const gaj = srv.accounts.users.find((u) => u.username === 'gaj_admin').org_code;
  const scjg = srv.accounts.users.find((u) => u.username === 'scjg_admin').org_code;
  const created = await srv.call('POST', '/api/v1/users', { token: gajAdmin,
    body: { username: 'audit.probe', display_name: '审计探针', org_code: gaj, roles: ['clerk'] } });
  assert.equal(created.status, 201);
  const denied = await srv.call('POST', '/api/v1/users', { token: gajAdmin,
    body: { username: 'audit.probe2', display_name: '越权', org_code: scjg, roles: ['clerk'] } });
  assert.equal(denied.status, 403);
  const invalid = await srv.call('POST', '/api/v1/users', { token: gajAdmin,
    body: { username: 'audit.probe3', display_name: '坏角色', org_code: gaj, roles: ['sysadmin', 'clerk'] } });
  assert.equal(invalid.status, 422);
  const patched = await srv.call('PATCH', '/api/v1/users/audit.probe', { token: gajAdmin, body: { display_name: '审计探针二' } });
  assert.equal(patched.status, 200);
  const client = await srv.call('POST', '/api/v1/clients', { token: secadmin, body: { org_code: gaj, name: 'audit-probe' } });
  assert.equal(client.status, 201);
  const revoked = await srv.call('DELETE', `/api/v1/clients/${gaj}/audit-probe`, { token: secadmin });
  assert.equal(revoked.status, 204);
  const forbidden = await srv.call('POST', '/api/v1/orgs', { token: gajAdmin,
    body: { code: '91350100M000100Y43', name: '不该建', region_code: '350100', level: 'city' } });
  assert.equal(forbidden.status, 403);

  const got = await entriesSince(since);
  const rows = got.map((e) => [e.actor, e.action, e.object_type, e.object_ids, e.result, e.status]);
  assert.deepEqual(rows, [
    ['gaj_admin', 'user.create', 'user', ['audit.probe'], 'ok', 201],
    ['gaj_admin', 'user.create', 'user', ['audit.probe2'], 'denied', 403],
    ['gaj_admin', 'user.create', 'user', ['audit.probe3'], 'error', 422],
    ['gaj_admin', 'user.update', 'user', ['audit.probe'], 'ok', 200],
    ['demo_secadmin', 'client.create', 'client', [`${gaj}/audit-probe`], 'ok', 201],
    ['demo_secadmin', 'client.revoke', 'client', [`${gaj}/audit-probe`], 'ok', 204],
    // refused before its body is read: no object
    ['gaj_admin', 'org.create', null, [], 'denied', 403],
  ]);
  for (const e of got) assert.equal(e.actor_kind, 'user');
  // The denied and rejected attempts changed nothing.
  assert.equal((await srv.call('GET', '/api/v1/users/audit.probe2', { token: secadmin })).status, 404);
  assert.equal((await srv.call('GET', '/api/v1/users/audit.probe3', { token: secadmin })).status, 404);
});

test('org, password and second-factor changes, and proof reads, are entries too', async () => {
  const since = await lastSeq();
  const sysadmin = await srv.login('demo_sysadmin');
  const code = makeUscc();
  assert.equal((await srv.call('POST', '/api/v1/orgs', { token: sysadmin,
    body: { code, name: '审计测试中心', region_code: '330100', level: 'city' } })).status, 201);
  assert.equal((await srv.call('PATCH', `/api/v1/orgs/${code}`, { token: sysadmin, body: { name: '审计测试中心二' } })).status, 200);
  const clerk = await srv.login('wjw_clerk');
  const enrol = await srv.call('POST', '/api/v1/auth/totp', { token: clerk });
  assert.equal(enrol.status, 201);
  assert.equal((await srv.call('POST', '/api/v1/auth/totp/confirm', { token: clerk, body: { code: '000000' } })).status,
    totpCode(enrol.json.secret) === '000000' ? 200 : 422);
  assert.equal((await srv.call('POST', '/api/v1/auth/totp/confirm', { token: clerk,
    body: { code: totpCode(enrol.json.secret) } })).status, 200);
  assert.equal((await srv.call('DELETE', '/api/v1/users/wjw_clerk/totp', { token: secadmin })).status, 204);
  assert.equal((await srv.call('POST', '/api/v1/users/wjw_clerk/password', { token: secadmin,
    body: { new_password: 'Reset-by-secadmin-42' } })).status, 204);
  assert.equal((await srv.call('GET', '/api/v1/audit/proof/0', { token: auditor })).status, 200);
  assert.equal((await srv.call('GET', '/api/v1/audit/consistency?from=1', { token: auditor })).status, 200);
  assert.equal((await srv.call('GET', '/api/v1/audit/export?from=0&to=2', { token: auditor })).status, 200);

  const got = (await entriesSince(since)).filter((e) => e.action !== 'auth.login');
  const rows = got.map((e) => [e.actor, e.action, e.object_type, e.object_ids, e.result, e.status]);
  assert.deepEqual(rows, [
    ['demo_sysadmin', 'org.create', 'org', [code], 'ok', 201],
    ['demo_sysadmin', 'org.update', 'org', [code], 'ok', 200],
    ['wjw_clerk', 'auth.totp_enroll', 'user', ['wjw_clerk'], 'ok', 201],
    ['wjw_clerk', 'auth.totp_confirm', 'user', ['wjw_clerk'], 'error', 422],
    ['wjw_clerk', 'auth.totp_confirm', 'user', ['wjw_clerk'], 'ok', 200],
    ['demo_secadmin', 'user.totp_reset', 'user', ['wjw_clerk'], 'ok', 204],
    ['demo_secadmin', 'user.password', 'user', ['wjw_clerk'], 'ok', 204],
    ['demo_auditor', 'audit.proof', 'audit_entry', ['0'], 'ok', 200],
    ['demo_auditor', 'audit.consistency', 'audit_log', [], 'ok', 200],
    ['demo_auditor', 'audit.export', 'audit_log', [], 'ok', 200],
  ].filter((r) => !(r[1] === 'auth.totp_confirm' && r[4] === 'error' && totpCode(enrol.json.secret) === '000000')));
  // The reset signed the clerk out everywhere.
  assert.equal((await srv.call('POST', '/api/v1/auth/logout', { token: clerk })).status, 401);
});

test('reading the trail is itself an entry; org admins see only their own org', async () => {
  const before = await srv.call('GET', '/api/v1/audit/events?limit=1&action=audit.read', { token: auditor });
  assert.equal(before.status, 200);
  const mine = await srv.call('GET', '/api/v1/audit/events?limit=1000', { token: gajAdmin });
  assert.equal(mine.status, 200);
  const gaj = srv.accounts.users.find((u) => u.username === 'gaj_admin').org_code;
  assert.ok(mine.json.items.length > 0);
  for (const e of mine.json.items) assert.equal(e.actor_org, gaj);
  const reads = await srv.call('GET', '/api/v1/audit/events?limit=1000&action=audit.read&actor=gaj_admin', { token: auditor });
  assert.ok(reads.json.items.some((e) => e.actor === 'gaj_admin' && e.object_type === 'audit_log' && e.result === 'ok'));
  // Others may not read it at all.
  for (const who of ['demo_sysadmin', 'gaj_steward']) {
    const t = await srv.login(who);
    assert.equal((await srv.call('GET', '/api/v1/audit/events', { token: t })).status, 403, who);
  }
});

test('event filters and cursor paging return exactly the entries the filter names, in order', async () => {
  // Every entry so far, then each filter read seven at a time through its cursors.
  const pages = async (query, limit) => {
    const out = [];
    let cursor = null;
    do {
      const res = await srv.call('GET', `/api/v1/audit/events?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`, { token: auditor });
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.items.length <= limit);
      out.push(...res.json.items);
      cursor = res.json.next_cursor;
    } while (cursor);
    return out;
  };
  const all = await pages('', 1000);
  const last = all[all.length - 1].seq;
  assert.deepEqual(all.map((e) => e.seq), all.map((_, i) => all[0].seq + i), 'no entry skipped or repeated');
  const gaj = srv.accounts.users.find((u) => u.username === 'gaj_admin').org_code;
  const middle = all[Math.floor(all.length / 2)];
  const someObject = all.find((e) => e.object_ids.length > 0).object_ids[0];
  const cases = [
    ['&result=denied', (e) => e.result === 'denied'],
    ['&result=error', (e) => e.result === 'error'],
    ['&action=auth.login&result=ok', (e) => e.action === 'auth.login' && e.result === 'ok'],
    [`&org=${gaj}`, (e) => e.actor_org === gaj],
    ['&actor=gaj_admin', (e) => e.actor === 'gaj_admin'],
    [`&from=${middle.time}`, (e) => e.time >= middle.time],
    [`&to=${middle.time}`, (e) => e.time < middle.time],
    [`&object=${encodeURIComponent(someObject)}`, (e) => e.object_ids.includes(someObject)],
  ];
  for (const [query, keep] of cases) {
    const got = (await pages(query, 7)).filter((e) => e.seq <= last);
    const want = all.filter(keep);
    assert.ok(want.length > 0, `${query} names no entry: not a test`);
    assert.deepEqual(got.map((e) => e.seq), want.map((e) => e.seq), query);
    assert.deepEqual(got, want, query);
  }
});

// ---- an independent verifier: RFC 9162 and Ed25519 with node:crypto only ----

const sha256 = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (entry) => sha256(Buffer.from([0]), Buffer.from(entry, 'utf8'));
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);

function rootFromInclusion(index, size, leaf, path) {
  let fn = BigInt(index), sn = BigInt(size) - 1n, r = leaf;
  for (const p of path) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) while (fn !== 0n && (fn & 1n) === 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

function headMessage(h) {
  const m = Buffer.alloc(68);
  Buffer.from('yiwang-tree-head-v1\0').copy(m, 0);
  m.writeBigUInt64BE(BigInt(h.tree_size), 20);
  m.writeBigUInt64BE(BigInt(h.timestamp_ms), 28);
  Buffer.from(h.root_hash, 'base64').copy(m, 36);
  return m;
}

function ed25519Key(b64) {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(b64, 'base64')]);
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

test('an inclusion proof verifies with an independent implementation against the published key', async () => {
  await new Promise((r) => setTimeout(r, 1300)); // let a head cover the entries so far
  const head = await srv.call('GET', '/api/v1/audit/tree-head', { token: gajAdmin });
  assert.equal(head.status, 200);
  const published = execFileSync(BIN, ['audit', 'key', '--data', srv.dir]).toString().trim();
  assert.equal(head.json.public_key, published);
  const key = ed25519Key(published);
  assert.ok(edVerify(null, headMessage(head.json), key, Buffer.from(head.json.signature, 'base64')));

  for (const seq of [0, 1, Math.floor(head.json.tree_size / 2), head.json.tree_size - 1]) {
    const res = await srv.call('GET', `/api/v1/audit/proof/${seq}?tree_size=${head.json.tree_size}`, { token: auditor });
    assert.equal(res.status, 200, res.text);
    const p = res.json;
    assert.equal(JSON.parse(p.entry).seq, seq);
    const leaf = leafHash(p.entry);
    assert.equal(leaf.toString('base64'), p.leaf_hash);
    const root = rootFromInclusion(seq, p.tree_size, leaf, p.audit_path.map((h) => Buffer.from(h, 'base64')));
    assert.ok(root, 'the path has the right length');
    assert.equal(root.toString('base64'), p.tree_head.root_hash);
    assert.ok(edVerify(null, headMessage(p.tree_head), key, Buffer.from(p.tree_head.signature, 'base64')));
    // A changed entry does not verify.
    const forged = p.entry.replace('"status":', '"status":1');
    const bad = rootFromInclusion(seq, p.tree_size, leafHash(forged), p.audit_path.map((h) => Buffer.from(h, 'base64')));
    assert.notEqual(bad?.toString('base64'), p.tree_head.root_hash);
  }
});

test('saved proofs and exports verify offline with yiwang audit verify-proof, and fail when altered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yiwang-proofs-'));
  try {
    const key = execFileSync(BIN, ['audit', 'key', '--data', srv.dir]).toString().trim();
    const proof = await srv.call('GET', '/api/v1/audit/proof/3', { token: auditor });
    const cons = await srv.call('GET', '/api/v1/audit/consistency?from=5', { token: auditor });
    const exp = await srv.call('GET', '/api/v1/audit/export?from=2', { token: auditor });
    assert.equal(exp.headers.get('content-type'), 'application/x-ndjson');
    const files = { proof: proof.text, cons: cons.text, exp: exp.text };
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir, name);
      execFileSync('sh', ['-c', `cat > ${path}`], { input: text });
      const ok = spawnSync(BIN, ['audit', 'verify-proof', '--key', key, path]);
      assert.equal(ok.status, 0, `${name}: ${ok.stdout}${ok.stderr}`);
    }
    // Tampered copies are refused.
    const lines = exp.text.trimEnd().split('\n');
    lines[2] = lines[2].replace('"result":"ok"', '"result":"denied"').replace('"result":"denied"', '"result":"error"');
    const tampered = { proof: proof.text.replace('"seq":3', '"seq":4'), exp: lines.join('\n') + '\n' };
    for (const [name, text] of Object.entries(tampered)) {
      const path = join(dir, `${name}.bad`);
      execFileSync('sh', ['-c', `cat > ${path}`], { input: text });
      const bad = spawnSync(BIN, ['audit', 'verify-proof', '--key', key, path]);
      assert.equal(bad.status, 1, `${name}: ${bad.stdout}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- tampering with the database file ----

// The packed rows of the log (docs/audit.md, "Storage"): each holds the stored
// forms of consecutive entries, a JSON array, and their leaf hashes.
function readRows(db) {
  const out = execFileSync('sqlite3', ['-json', db,
    'SELECT first_seq, hex(leaves) AS leaves, entries FROM audit_chunks ORDER BY first_seq']).toString();
  return JSON.parse(out || '[]').map((r) => ({ first: r.first_seq, leaves: r.leaves.match(/.{64}/g), entries: topLevel(r.entries) }));
}

// The top-level values of a JSON array, each as the exact text stored.
function topLevel(text) {
  const out = [];
  let depth = 0, inString = false, start = 1;
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (text.length > 2) out.push(text.slice(start, text.length - 1));
  return out;
}

// The canonical entry rebuilt from a stored one, as docs/audit.md describes it.
function canonicalOf(stored, seq) {
  const v = topLevel(stored);
  const status = Number(v[13]);
  const result = status < 400 ? 'ok' : [401, 403, 404, 429].includes(status) ? 'denied' : 'error';
  const keys = ['action', 'actor', 'actor_kind', 'actor_org', 'client', 'items', 'object_ids', 'object_type', 'purpose',
    'request_id', 'request_sha256', 'response_sha256'];
  return `{${keys.map((k, i) => `"${k}":${v[i]}`).join(',')},"result":"${result}","seq":${seq},"stage":${v[12]},` +
    `"status":${v[13]},"time":"${new Date(Number(v[14])).toISOString()}"}`;
}

const leafOf = (canonical) => createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(canonical)])).digest('hex').toUpperCase();

// The row holding seq, and the entry's index in it.
function locate(rows, seq) {
  const row = rows.find((r) => seq >= r.first && seq < r.first + r.entries.length);
  return { row, i: seq - row.first };
}

// SQL that writes rows back in place of every packed row.
function writeRows(rows) {
  const q = (s) => `'${s.replaceAll("'", "''")}'`;
  return 'DELETE FROM audit_chunks;' + rows.map((r) =>
    `INSERT INTO audit_chunks (first_seq, leaves, entries) VALUES (${r.first}, X'${r.leaves.join('')}', ${q(`[${r.entries.join(',')}]`)});`).join('');
}

function verifyCopy(mutate) {
  const dir = mkdtempSync(join(tmpdir(), 'yiwang-tamper-'));
  try {
    cpSync(srv.dir, dir, { recursive: true });
    const db = join(dir, 'yiwang.db');
    if (typeof mutate === 'function') {
      const rows = readRows(db);
      mutate(rows);
      execFileSync('sqlite3', [db, writeRows(rows)]);
    } else if (mutate) {
      execFileSync('sqlite3', [db, mutate]);
    }
    const r = spawnSync(BIN, ['audit', 'verify', '--data', dir]);
    return { status: r.status, out: r.stdout.toString() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('yiwang audit verify: an untouched log verifies; every kind of tampering is caught at its seq', async () => {
  await srv.stop(); // a clean stop signs the last head; keepData holds the directory
  const intact = verifyCopy(null);
  assert.equal(intact.status, 0, intact.out);
  assert.match(intact.out, /intact: \d+ entries/);

  // The stored form is what docs/audit.md says: each leaf hashes the canonical entry rebuilt from it.
  const rows = readRows(join(srv.dir, 'yiwang.db'));
  const size = rows.reduce((n, r) => n + r.entries.length, 0);
  for (const r of rows) r.entries.forEach((e, i) => assert.equal(leafOf(canonicalOf(e, r.first + i)), r.leaves[i], `entry ${r.first + i}`));
  assert.equal(Number(execFileSync('sqlite3', [join(srv.dir, 'yiwang.db'), 'SELECT count(*) FROM audit_log']).toString()), size);

  // One byte of an entry changed: the first letter of its action.
  const altered = verifyCopy((all) => {
    const { row, i } = locate(all, 7);
    const e = row.entries[i];
    row.entries[i] = e.slice(0, 2) + (e[2] === 'x' ? 'y' : 'x') + e.slice(3);
  });
  assert.equal(altered.status, 1);
  assert.match(altered.out, /first bad seq 7\b/);

  const deleted = verifyCopy((all) => {
    const { row, i } = locate(all, 9);
    row.entries.splice(i, 1);
    row.leaves.splice(i, 1);
  });
  assert.equal(deleted.status, 1);
  assert.match(deleted.out, /first bad seq 9\b/);

  const swapped = verifyCopy((all) => {
    const a = locate(all, 11), b = locate(all, 12);
    [a.row.entries[a.i], b.row.entries[b.i]] = [b.row.entries[b.i], a.row.entries[a.i]];
    [a.row.leaves[a.i], b.row.leaves[b.i]] = [b.row.leaves[b.i], a.row.leaves[a.i]];
  });
  assert.equal(swapped.status, 1);
  assert.match(swapped.out, /first bad seq 11\b/);

  // A forged entry appended after the last signed head, with a leaf that matches it.
  const forged = verifyCopy((all) => {
    const last = all[all.length - 1];
    const copy = last.entries[last.entries.length - 1];
    all.push({ first: size, entries: [copy], leaves: [leafOf(canonicalOf(copy, size))] });
  });
  assert.equal(forged.status, 1);
  assert.match(forged.out, new RegExp(`first bad seq ${size}\\b`));

  // An entry inserted into the middle, every later one moved up by one: a replay of entry 4 ...
  const replayed = verifyCopy((all) => {
    const from = locate(all, 4), to = locate(all, 5);
    to.row.entries.splice(to.i, 0, from.row.entries[from.i]);
    to.row.leaves.splice(to.i, 0, from.row.leaves[from.i]);
  });
  assert.equal(replayed.status, 1);
  assert.match(replayed.out, /first bad seq 5\b/);
  // ... or one forged with a leaf of its own: consistent by itself, so the entry it pushed is the first caught.
  const inserted = verifyCopy((all) => {
    const from = locate(all, 4), to = locate(all, 5);
    const copy = from.row.entries[from.i];
    to.row.entries.splice(to.i, 0, copy);
    to.row.leaves.splice(to.i, 0, leafOf(canonicalOf(copy, 5)));
  });
  assert.equal(inserted.status, 1);
  assert.match(inserted.out, /first bad seq 6\b/);

  // The org index is checked too: a row hidden from an org's queries is caught.
  const hidden = verifyCopy('DELETE FROM audit_chunk_orgs WHERE first_seq = (SELECT max(first_seq) FROM audit_chunk_orgs)');
  assert.equal(hidden.status, 1);
  assert.match(hidden.out, /org index/);
});
