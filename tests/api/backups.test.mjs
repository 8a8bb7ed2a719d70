// Backups: the sysadmin copies the database of a running server, also one
// that holds it alone (--db-exclusive); the copy is whole, has its digest,
// carries its name only once it is complete, restores, and both ends are
// audited. A refused request makes no copy; a copy that fails says why and
// leaves nothing behind; deleting takes a listed name and nothing else.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServer } from './lib/server.mjs';
import { assertProblem, sleep } from './lib/util.mjs';

let srv, sys, auditor;
before(async () => {
  srv = await startServer({ args: ['--db-exclusive'] });
  sys = await srv.adminToken('sysadmin');
  auditor = await srv.adminToken('auditor');
});
after(async () => { await srv?.stop(); });

const NAME = /^yiwang-\d{8}T\d{6}\.\d{3}Z\.db$/;
const backupsDir = () => join(srv.dir, 'backups');

/** Polls the list until no copy is being made; returns the list. */
async function settled() {
  for (let i = 0; i < 300; i++) {
    const res = await srv.call('GET', '/api/v1/backups', { token: sys });
    assert.equal(res.status, 200, res.text);
    if (!res.json.running) return res.json;
    await sleep(100);
  }
  throw new Error('the backup never finished');
}

async function actionsOn(object) {
  const res = await srv.call('GET', `/api/v1/audit/events?limit=100&object=${encodeURIComponent(object)}`,
    { token: auditor });
  assert.equal(res.status, 200, res.text);
  return res.json.items.map((e) => e.action);
}

test('a refused request makes no copy', async () => {
  const steward = await srv.login('gaj_steward');
  assertProblem(await srv.call('POST', '/api/v1/backups', { token: steward }), 403, 'forbidden');
  assertProblem(await srv.call('POST', '/api/v1/backups', { token: auditor }), 403, 'forbidden');
  assertProblem(await srv.call('POST', '/api/v1/backups'), 401, 'unauthenticated');
  assert.throws(() => readdirSync(backupsDir()), /ENOENT/, 'no backups directory was made');
  const list = await srv.call('GET', '/api/v1/backups', { token: sys });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json, { items: [], running: null, last_failure: null });
});

test('the sysadmin copies a server that holds its database alone: whole, digested, audited', async () => {
  // sqlite3 cannot open the live database: the server's copy is the way to back it up
  const peek = spawnSync('sqlite3', [join(srv.dir, 'yiwang.db'), 'SELECT count(*) FROM users'], { encoding: 'utf8' });
  assert.notEqual(peek.status, 0, 'sqlite3 read a database held alone');

  const res = await srv.call('POST', '/api/v1/backups', { token: sys });
  assert.equal(res.status, 202, res.text);
  assert.match(res.json.name, NAME);
  assert.equal(res.json.status, 'running');
  assert.ok(res.headers.get('x-yiwang-audit-seq'), 'the request is an audit entry');
  const list = await settled();
  assert.equal(list.last_failure, null);
  assert.equal(list.items.length, 1);
  const item = list.items[0];
  assert.equal(item.name, res.json.name);

  // named only when complete: the copy and its digest, nothing half-written
  assert.deepEqual(readdirSync(backupsDir()).sort(), [item.name, `${item.name}.sha256`]);
  assert.equal(statSync(backupsDir()).mode & 0o777, 0o700, 'copies are for the server\'s operators only');
  const file = join(backupsDir(), item.name);
  const bytes = readFileSync(file);
  assert.equal(item.bytes, bytes.length);
  const digest = createHash('sha256').update(bytes).digest('hex');
  assert.equal(item.sha256, digest);
  assert.equal(readFileSync(`${file}.sha256`, 'utf8'), `${digest}  ${item.name}\n`, 'sha256sum -c reads it');
  const check = spawnSync('sha256sum', ['-c', `${item.name}.sha256`], { cwd: backupsDir(), encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);

  // a database of its own, with what the server held
  const sql = (q) => spawnSync('sqlite3', [file, q], { encoding: 'utf8' });
  assert.equal(sql('PRAGMA integrity_check').stdout.trim(), 'ok');
  assert.equal(sql('PRAGMA journal_mode').stdout.trim(), 'delete', 'one self-contained file, no -wal to keep with it');
  assert.equal(sql("SELECT count(*) FROM users WHERE username = 'gaj_steward'").stdout.trim(), '1');
  const orgs = (await srv.call('GET', '/api/v1/orgs?limit=1000', { token: sys })).json.items.length;
  assert.equal(Number(sql('SELECT count(*) FROM orgs').stdout.trim()), orgs);

  // for monitoring: when the newest copy was written
  const metrics = await (await fetch(`${srv.base}/metrics`)).text();
  const newest = Number(metrics.match(/^yiwang_backup_newest_seconds (\S+)$/m)[1]);
  assert.ok(Math.abs(newest - statSync(file).mtimeMs / 1000) < 0.01, `${newest}`);
  assert.match(metrics, /^yiwang_backup_copies 1$/m);
  assert.match(metrics, /^yiwang_backup_running 0$/m);

  // the request and the finished copy, in the trail
  for (let i = 0; i < 50 && (await actionsOn(item.name)).length < 2; i++) await sleep(100);
  assert.deepEqual((await actionsOn(item.name)).sort(), ['backup.complete', 'backup.create']);

  // its audit log verifies on its own, while the server still holds the live database
  const verifyCopy = (path) => spawnSync(BIN, ['audit', 'verify', '--data', srv.dir, path], { encoding: 'utf8', timeout: 60000 });
  const intact = verifyCopy(file);
  assert.equal(intact.status, 0, intact.stdout + intact.stderr);
  assert.match(intact.stdout, /audit log intact/);
  // and an altered copy does not
  const altered = join(srv.dir, 'altered.db');
  copyFileSync(file, altered);
  const edit = spawnSync('sqlite3', [altered, "UPDATE audit_chunks SET entries = replace(entries, 'gaj_steward', 'gaj_stewarx')"
    + " WHERE first_seq = (SELECT min(first_seq) FROM audit_chunks WHERE entries LIKE '%gaj_steward%')"], { encoding: 'utf8' });
  assert.equal(edit.status, 0, edit.stderr);
  const caught = verifyCopy(altered);
  assert.equal(caught.status, 1, caught.stdout + caught.stderr);
  assert.match(caught.stdout, /NOT intact: first bad seq \d+/);
  rmSync(altered);

  // restored with the keys it was made with: the log verifies, the accounts sign in
  const restored = mkdtempSync(join(tmpdir(), 'yiwang-restore-'));
  try {
    copyFileSync(file, join(restored, 'yiwang.db'));
    for (const key of ['keys.json', 'audit-ed25519.key']) copyFileSync(join(srv.dir, key), join(restored, key));
    const verify = spawnSync(BIN, ['audit', 'verify', '--data', restored], { encoding: 'utf8', timeout: 60000 });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    const second = await startServer({ dataDir: restored, demo: false });
    try {
      const token = await second.login('gaj_steward', srv.accounts.password);
      assert.equal((await second.call('GET', '/api/v1/auth/me', { token })).json.username, 'gaj_steward');
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(restored, { recursive: true, force: true });
  }
});

test('a copy that fails says why, leaves nothing named, and the next one works', async () => {
  rmSync(backupsDir(), { recursive: true, force: true });
  writeFileSync(backupsDir(), 'not a directory'); // the copy cannot be written there
  const res = await srv.call('POST', '/api/v1/backups', { token: sys });
  assert.equal(res.status, 202, res.text);
  const list = await settled();
  assert.deepEqual(list.items, []);
  assert.equal(list.last_failure.name, res.json.name);
  assert.match(list.last_failure.error, /copying the database/);
  assert.match(await (await fetch(`${srv.base}/metrics`)).text(), /^yiwang_backup_failures_total 1$/m);
  for (let i = 0; i < 50 && (await actionsOn(res.json.name)).length < 2; i++) await sleep(100);
  assert.deepEqual((await actionsOn(res.json.name)).sort(), ['backup.create', 'backup.fail']);

  rmSync(backupsDir());
  const again = await srv.call('POST', '/api/v1/backups', { token: sys });
  assert.equal(again.status, 202, again.text);
  const next = await settled();
  assert.deepEqual(next.items.map((b) => b.name), [again.json.name]);
  assert.equal(next.last_failure.name, res.json.name, 'the last failure stays shown');
});

test('the sysadmin deletes a copy by its listed name, and nothing else', async () => {
  const made = await srv.call('POST', '/api/v1/backups', { token: sys });
  assert.equal(made.status, 202, made.text);
  await settled();
  const { name } = made.json;
  const path = join(backupsDir(), name);
  statSync(path);
  // other callers, other names: refused, and every file stays
  const steward = await srv.login('gaj_steward');
  assertProblem(await srv.call('DELETE', `/api/v1/backups/${name}`, { token: steward }), 403, 'forbidden');
  for (const bad of ['..%2Fkeys.json', 'keys.json', `${name}.sha256`, `.${name}.part`, 'yiwang-2026.db', `${name}x`]) {
    assertProblem(await srv.call('DELETE', `/api/v1/backups/${bad}`, { token: sys }), 404, 'not_found');
  }
  statSync(path);
  statSync(`${path}.sha256`);
  statSync(join(srv.dir, 'keys.json'));

  const gone = await srv.call('DELETE', `/api/v1/backups/${name}`, { token: sys });
  assert.equal(gone.status, 204, gone.text);
  assert.throws(() => statSync(path), /ENOENT/);
  assert.throws(() => statSync(`${path}.sha256`), /ENOENT/);
  assert.ok(!(await settled()).items.some((b) => b.name === name));
  assertProblem(await srv.call('DELETE', `/api/v1/backups/${name}`, { token: sys }), 404, 'not_found');
  assert.ok((await actionsOn(name)).includes('backup.delete'));
});

test('--backup-every makes copies by itself; --backup-keep keeps the newest', async () => {
  const own = await startServer({ demo: false, args: ['--backup-every', '1', '--backup-keep', '2'] });
  try {
    const admin = await own.adminToken('sysadmin');
    const audit = await own.adminToken('auditor');
    let list;
    for (let i = 0; i < 100; i++) {
      await sleep(200);
      list = (await own.call('GET', '/api/v1/backups', { token: admin })).json;
      const deleted = (await own.call('GET', '/api/v1/audit/events?limit=100&action=backup.delete', { token: audit })).json.items;
      if (deleted.length >= 2 && !list.running) break;
    }
    assert.equal(list.items.length, 2, JSON.stringify(list));
    assert.ok(list.items[0].name > list.items[1].name, 'newest first');
    const names = readdirSync(join(own.dir, 'backups')).filter((f) => f.endsWith('.db')).sort().reverse();
    assert.deepEqual(names, list.items.map((b) => b.name), 'the disk holds the two newest, nothing else');
    const events = (await own.call('GET', '/api/v1/audit/events?limit=1000', { token: audit })).json.items
      .filter((e) => e.action.startsWith('backup.'));
    const made = events.filter((e) => e.action === 'backup.create');
    assert.ok(made.length >= 4, `${made.length} scheduled copies recorded`);
    assert.ok(made.every((e) => e.actor === 'yiwang backup'), 'the server records its own');
    const deleted = events.filter((e) => e.action === 'backup.delete').map((e) => e.object_ids[0]);
    for (const name of deleted) assert.ok(!names.includes(name), `${name} was deleted`);
  } finally {
    await own.stop();
  }
});

test('a copy that would leave the disk short for the database is not begun', async (t) => {
  const own = await startServer({ demo: false });
  const dir = join(own.dir, 'backups');
  mkdirSync(dir);
  // a small disk of its own for the copies (root only: mounting is how to get one)
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir], { encoding: 'utf8' });
  try {
    if (mount.status !== 0) {
      t.skip(`no small disk to try it on: ${mount.stderr.trim()}`);
      return;
    }
    const admin = await own.adminToken('sysadmin');
    const res = await own.call('POST', '/api/v1/backups', { token: admin });
    assert.equal(res.status, 202, res.text);
    let list;
    for (let i = 0; i < 100; i++) {
      list = (await own.call('GET', '/api/v1/backups', { token: admin })).json;
      if (!list.running) break;
      await sleep(100);
    }
    assert.equal(list.last_failure?.name, res.json.name);
    assert.match(list.last_failure.error, /not enough free space: .* 256 MiB must stay free/);
    assert.deepEqual(readdirSync(dir), [], 'nothing was written');
  } finally {
    if (mount.status === 0) spawnSync('umount', [dir]);
    await own.stop();
  }
});
