// Time limits on the working-day calendar, under a clock the test moves:
// the server runs with Debian's libfaketime preloaded, whose offset comes
// from a file the test rewrites. A share request is due at the end of its
// fifth working day in China Standard Time (weekends and the configured
// holidays do not count), and becomes overdue — for both orgs and for the
// data bureau — the moment that passes, until it is decided.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, orgOf } from './lib/server.mjs';

const FAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
const DAY = 86400000, CST = 8 * 3600000;
let srv, clockDir, clockFile, holidays, GAJ;

/** The calendar again, independently: the end of n working days after the day of t, in CST. */
function deadline(t, n, rest) {
  let day = Math.floor((t + CST) / DAY);
  for (let counted = 0; counted < n;) {
    day += 1;
    const d = new Date(day * DAY);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && !rest.has(d.toISOString().slice(0, 10))) counted += 1;
  }
  return (day + 1) * DAY - CST;
}

/** Moves the server's clock to ms past the real now (libfaketime reads the file at every call). */
function setClock(ms) {
  writeFileSync(clockFile, `+${Math.round(ms / 1000)}\n`);
}

before(async () => {
  assert.ok(existsSync(FAKETIME), `${FAKETIME} is missing: make test installs libfaketime`);
  clockDir = mkdtempSync(join(tmpdir(), 'yiwang-clock-'));
  clockFile = join(clockDir, 'offset');
  writeFileSync(clockFile, '+0\n');
  // the next three weekdays are holidays
  holidays = [];
  for (let day = Math.floor((Date.now() + CST) / DAY) + 1; holidays.length < 3; day++) {
    const d = new Date(day * DAY);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) holidays.push(d.toISOString().slice(0, 10));
  }
  srv = await startServer({
    args: ['--holidays', holidays.join(',')],
    env: {
      LD_PRELOAD: FAKETIME, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
      ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:verify_asan_link_order=0`,
    },
  });
  GAJ = orgOf(srv.accounts, 'gaj_steward');
});
after(async () => {
  await srv?.stop();
  if (clockDir) rmSync(clockDir, { recursive: true, force: true });
});

test('a pending request turns overdue after five working days (holidays skipped), until it is decided', async () => {
  const gaj = await srv.login('gaj_steward');
  const code = (await srv.call('GET', `/api/v1/resources?provider=${GAJ}&share_type=conditional`, { token: gaj }))
    .json.items[0].code;
  const asked = Date.now();
  const req = await srv.call('POST', '/api/v1/share-requests', { token: await srv.login('jtj_steward'), body: {
    resource: code, items: ['name'], purpose: '核验', legal_basis: '依据', scenario: '场景' } });
  assert.equal(req.status, 201, req.text);
  const due = Date.parse(req.json.due_at);
  const expected = [deadline(asked, 5, new Set(holidays)), deadline(Date.now(), 5, new Set(holidays))];
  assert.ok(expected.includes(due), `due ${req.json.due_at}, expected ${expected.map((t) => new Date(t).toISOString())}`);
  assert.ok(due >= deadline(asked, 5, new Set()) + 3 * DAY, 'three holidays push the limit by three days at least');

  const look = async () => {
    // sessions time out while the clock jumps: sign in again each time
    const bureau = await srv.login('dsj_admin');
    const one = await srv.call('GET', `/api/v1/share-requests/${req.json.id}`, { token: bureau });
    const overdue = await srv.call('GET', '/api/v1/share-requests?overdue=true&limit=1000', { token: bureau });
    assert.deepEqual([one.status, overdue.status], [200, 200], `${one.text}\n${overdue.text}`);
    return [one.json.overdue, overdue.json.items.some((r) => r.id === req.json.id)];
  };
  assert.deepEqual(await look(), [false, false]);
  setClock(due - Date.now() - 3600000);
  assert.deepEqual(await look(), [false, false], 'an hour before the limit');
  setClock(due - Date.now() + 3600000);
  assert.deepEqual(await look(), [true, true], 'an hour after the limit');
  const provider = await srv.login('gaj_steward');
  const mine = await srv.call('GET', '/api/v1/share-requests?role=provider&overdue=true', { token: provider });
  assert.ok(mine.json.items.some((r) => r.id === req.json.id), 'the provider sees it overdue too');
  const ok = await srv.call('POST', `/api/v1/share-requests/${req.json.id}/approve`, { token: provider });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(await look(), [false, false], 'decided, late but decided');
});
