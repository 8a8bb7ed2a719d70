// The command line: init, demo and serve's first start, as a deployer sees
// them (stdout, stderr, exit status, what lands in the data directory).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServer } from './lib/server.mjs';
import { isValidUscc, orgCodeCheck } from './lib/util.mjs';

const root = mkdtempSync(join(tmpdir(), 'yiwang-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `data-${n++}`); // does not exist yet

function run(...args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Row counts of every table of the database, read with the sqlite3 CLI
 * (full-text tables through their shadow tables: the CLI lacks yiwang's tokenizer).
 */
function counts(dir) {
  const db = join(dir, 'yiwang.db');
  const tables = execFileSync('sqlite3', [db, "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"],
    { encoding: 'utf8' }).trim().split('\n');
  assert.ok(tables.includes('orgs') && tables.includes('users') && tables.includes('clients'), tables.join(','));
  const query = `SELECT ${tables.map((t) => `(SELECT count(*) FROM "${t}")`).join(', ')}`;
  const values = execFileSync('sqlite3', [db, query], { encoding: 'utf8' }).trim().split('|').map(Number);
  return Object.fromEntries(tables.map((t, i) => [t, values[i]]));
}
const sql = (dir, query) => execFileSync('sqlite3', ['-json', join(dir, 'yiwang.db'), query], { encoding: 'utf8' }).trim();
const rows = (dir, query) => { const t = sql(dir, query); return t ? JSON.parse(t) : []; };

const ADMIN_KEYS = ['auditor', 'secadmin', 'sysadmin'];

test('init prints exactly one JSON object with the three administrators and exits 0', () => {
  const dir = freshDir();
  const r = run('init', '--data', dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\{.*\}\n$/s);
  const creds = JSON.parse(r.stdout); // throws on anything around the object
  assert.deepEqual(Object.keys(creds).sort(), ADMIN_KEYS);
  for (const role of ADMIN_KEYS) {
    assert.deepEqual(Object.keys(creds[role]).sort(), ['password', 'username']);
    assert.equal(creds[role].username, role);
    assert.equal(typeof creds[role].password, 'string');
    assert.ok(creds[role].password.length >= 12);
  }
  assert.equal(new Set(ADMIN_KEYS.map((k) => creds[k].password)).size, 3, 'three different passwords');
  assert.ok(existsSync(join(dir, 'yiwang.db')));
  // the passwords are stored hashed, and all three must be changed
  const users = rows(dir, 'SELECT username, roles, must_change_password, password_hash FROM users ORDER BY username');
  assert.deepEqual(users.map((u) => [u.username, u.roles, u.must_change_password]),
    [['auditor', 'auditor', 1], ['secadmin', 'secadmin', 1], ['sysadmin', 'sysadmin', 1]]);
  for (const u of users) {
    assert.match(u.password_hash, /^\$argon2id\$/);
    assert.ok(!Object.values(creds).some((c) => u.password_hash.includes(c.password)));
  }
  // the data bureau exists and is the administrators' org
  const orgs = rows(dir, 'SELECT code, level FROM orgs');
  assert.equal(orgs.length, 1);
  assert.ok(isValidUscc(orgs[0].code));
});

test('a second init on the same directory fails and prints nothing on stdout', () => {
  const dir = freshDir();
  assert.equal(run('init', '--data', dir).code, 0);
  const before = counts(dir);
  const r = run('init', '--data', dir);
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /already initialised/);
  assert.deepEqual(counts(dir), before);
});

test('init without --data, or with an unknown option, exits 2 and prints nothing on stdout', () => {
  for (const args of [['init'], ['init', '--data'], ['init', '--data', freshDir(), '--bogus'], ['init', '--data', freshDir(), 'extra']]) {
    const r = run(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.notEqual(r.stderr, '');
  }
});

test('serve with a list of denied networks it cannot read exits 2 before touching the data directory', () => {
  for (const list of ['localhost', '10.0.0.0/33', '::1/129,127.0.0.0/8']) {
    const dir = freshDir();
    const r = run('serve', '--data', dir, '--listen', '127.0.0.1:0', '--egress-deny', list);
    assert.equal(r.code, 2, `${list}: ${r.stderr}`);
    assert.match(r.stderr, /--egress-deny: '.*' is not a network/);
    assert.equal(existsSync(dir), false);
  }
});

test('demo prints its accounts as JSON; running it again changes nothing', () => {
  const dir = freshDir();
  const first = run('demo', '--data', dir);
  assert.equal(first.code, 0, first.stderr);
  const accounts = JSON.parse(first.stdout);
  const c1 = counts(dir);
  const second = run('demo', '--data', dir);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(JSON.parse(second.stdout), accounts, 'the same accounts');
  assert.deepEqual(counts(dir), c1, 'the same row counts');
  // the administrators were created once, by the first run, and shown on stderr only
  assert.match(first.stderr, /Platform administrators/);
  assert.doesNotMatch(second.stderr, /Platform administrators/);
  // demo on an init'ed directory works as well
  const dir2 = freshDir();
  assert.equal(run('init', '--data', dir2).code, 0);
  const r = run('demo', '--data', dir2);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Platform administrators/);
  assert.deepEqual(counts(dir2).orgs, c1.orgs);
});

test('the demo city: the data bureau and at least 10 departments with valid codes, every role, a client per department', async () => {
  const dir = freshDir();
  const r = run('demo', '--data', dir);
  assert.equal(r.code, 0, r.stderr);
  const acc = JSON.parse(r.stdout);
  assert.equal(typeof acc.password, 'string');
  assert.ok(acc.password.length >= 12);
  const orgs = rows(dir, 'SELECT code, name, parent_code, legacy_code FROM orgs ORDER BY code');
  assert.ok(orgs.length >= 11, `${orgs.length} orgs`);
  for (const o of orgs) {
    assert.ok(isValidUscc(o.code), `${o.name} ${o.code}: USCC check digit`);
    assert.equal(o.code.slice(16, 17), orgCodeCheck(o.code.slice(8, 16)), `${o.name} ${o.code}: organization code check digit`);
    assert.equal(o.legacy_code, 0);
  }
  const bureau = orgs.find((o) => o.parent_code === null);
  assert.equal(bureau.name, '市大数据管理局');
  const departments = orgs.filter((o) => o.parent_code === bureau.code);
  assert.equal(departments.length, orgs.length - 1);
  assert.ok(departments.length >= 10);
  // users: every role appears, and every user's org is a demo org
  const allRoles = ['sysadmin', 'secadmin', 'auditor', 'org_admin', 'steward', 'clerk', 'approver', 'inspector', 'dispatcher', 'monitor'];
  const seen = new Set(acc.users.flatMap((u) => u.roles));
  assert.deepEqual(allRoles.filter((x) => !seen.has(x)), [], 'roles without a demo user');
  for (const u of acc.users) assert.ok(orgs.some((o) => o.code === u.org_code && o.name === u.org_name), u.username);
  for (const d of departments) {
    const roles = new Set(acc.users.filter((u) => u.org_code === d.code).flatMap((u) => u.roles));
    for (const role of ['org_admin', 'steward', 'clerk']) assert.ok(roles.has(role), `${d.name} has no ${role}`);
  }
  // one client per department, with its secret shown
  assert.equal(acc.clients.length, departments.length);
  for (const d of departments) {
    const mine = acc.clients.filter((c) => c.id.startsWith(`${d.code}/`));
    assert.equal(mine.length, 1, `${d.name}: ${mine.length} clients`);
    assert.match(mine[0].secret, /^ywc_[A-Za-z0-9_-]{43}$/);
  }
  const stored = rows(dir, 'SELECT id, org_code, status FROM clients ORDER BY id');
  assert.deepEqual(stored.map((c) => c.id), acc.clients.map((c) => c.id).sort());
  assert.ok(stored.every((c) => c.status === 'active'));
  // the accounts work against a server on that directory; it prints no new credentials
  const srv = await startServer({ dataDir: dir, demo: false, keepData: true });
  try {
    assert.equal(srv.admins, null);
    for (const u of ['gaj_admin', 'scjg_inspector', 'yjj_dispatcher']) {
      const res = await srv.call('POST', '/api/v1/auth/login', { body: { username: u, password: acc.password } });
      assert.equal(res.status, 200, `${u}: ${res.text}`);
      assert.equal(res.json.user.must_change_password, false);
    }
    for (const c of acc.clients.slice(0, 3)) {
      const me = await srv.call('GET', '/api/v1/auth/me', { token: c.secret });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.json.client_id, c.id);
    }
  } finally {
    await srv.stop();
  }
});

test('serve on a fresh directory prints the administrators once, on stderr', async () => {
  const dir = freshDir();
  const first = await startServer({ dataDir: dir, demo: false, keepData: true });
  let creds;
  try {
    creds = first.admins;
    assert.deepEqual(Object.keys(creds).sort(), ADMIN_KEYS);
    for (const role of ADMIN_KEYS) assert.equal(creds[role].username, role);
    // the printed password signs in (and must be changed)
    const res = await first.call('POST', '/api/v1/auth/login', { body: creds.sysadmin });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.user.must_change_password, true);
  } finally {
    assert.deepEqual(await first.stop(), { code: 0, signal: null });
  }
  assert.ok(!first.stdout.includes(creds.sysadmin.password), 'credentials go to stderr, not stdout');
  const second = await startServer({ dataDir: dir, demo: false, keepData: true });
  try {
    assert.equal(second.admins, null);
    for (const role of ADMIN_KEYS) assert.ok(!second.stderr.includes(creds[role].password), `${role}'s password printed again`);
    // the same passwords still sign in
    assert.equal((await second.call('POST', '/api/v1/auth/login', { body: creds.secadmin })).status, 200);
  } finally {
    await second.stop();
  }
  const c = counts(dir);
  assert.equal(c.users, 3);
  assert.equal(c.orgs, 1);
});

test('serve --demo twice on one directory: the same accounts, the same rows', async () => {
  const dir = freshDir();
  const a = await startServer({ dataDir: dir, demo: true, keepData: true });
  await a.stop();
  const c1 = counts(dir);
  const b = await startServer({ dataDir: dir, demo: true, keepData: true });
  await b.stop();
  assert.deepEqual(b.accounts, a.accounts);
  // the background re-encryption notes when it has checked every record: whichever start gets there first
  const again = counts(dir);
  delete again.reencrypt_passes;
  delete c1.reencrypt_passes;
  assert.deepEqual(again, c1);
});

test('version and help exit 0; an unknown command exits 2', () => {
  const v = run('version');
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^yiwang \d+\.\d+\.\d+\n$/);
  assert.equal(run('--help').code, 0);
  const bad = run('frobnicate');
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, '');
  assert.equal(run().code, 2);
});

test('yiwang import loads a local CSV into a resource: the same checks, a report, audited batches', async () => {
  const dir = freshDir();
  const demo = run('demo', '--data', dir);
  assert.equal(demo.code, 0);
  const accounts = JSON.parse(demo.stdout);
  const gaj = rows(dir, "SELECT code FROM orgs WHERE name = '市公安局'")[0].code;
  const code = `${gaj}-100001`; // the demo city's population base library
  const id = (i) => {
    const first17 = `33010619800101${String(i).padStart(3, '0')}`;
    const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    return first17 + '10X98765432'[[...first17].reduce((a, c, k) => a + Number(c) * w[k], 0) % 11];
  };
  const csv = ['id_number,name,gender,birth_date', `${id(1)},甲,1,1980-01-01`, `${id(2)},乙,2,1980-01-01`,
    `${id(3)},丙,9,1980-02-30`].join('\n') + '\n';
  const file = join(root, 'people.csv');
  execFileSync('sh', ['-c', `cat > ${file}`], { input: csv });
  const out = run('import', '--data', dir, '--resource', code, file);
  assert.equal(out.code, 0, out.stderr);
  const report = JSON.parse(out.stdout);
  assert.deepEqual([report.accepted, report.rejected], [2, 1]);
  assert.deepEqual(report.errors, [{ row: 4, item: 'birth_date', reason: 'not a date (YYYY-MM-DD)' }]);
  const imported = rows(dir, "SELECT count(*) AS n FROM audit_log WHERE action = 'record.import' AND actor = 'yiwang import'");
  assert.equal(imported[0].n, 1);
  assert.equal(run('audit', 'verify', '--data', dir).code, 0);
  // the records are there for the provider
  const srv = await startServer({ dataDir: dir, demo: false, keepData: true });
  try {
    // while the server holds the directory, the command refuses it: one writer process per directory
    const busy = run('import', '--data', dir, '--resource', code, file);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /in use by another yiwang process/);
    const token = await srv.login('gaj_steward', accounts.password);
    const rec = await srv.call('GET', `/api/v1/resources/${code}/records/${id(2)}`, { token });
    assert.equal(rec.status, 200, rec.text);
    assert.equal(rec.json.data.name, '乙');
  } finally {
    await srv.stop();
  }
  assert.notEqual(run('import', '--data', dir, '--resource', 'no-such', file).code, 0);
});
