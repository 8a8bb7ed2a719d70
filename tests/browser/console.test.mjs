// Browser tests of the web console: playwright-core drives Debian's
// chromium against a real `yiwang serve --demo` (tests/api/lib/server.mjs).
//
// The journey: the 公安局 steward creates and publishes a resource and
// imports a CSV with bad rows (and sees the per-row report); the 市场监管局
// steward finds it by a Chinese search and requests it; the provider
// approves with one item masked; the grant shows on both sides; the auditor
// finds the approval in the audit trail and verifies its inclusion proof in
// the browser. Unified access: the 公安局 steward registers a service of a
// small provider system started here (a bad base URL refused first, changing
// nothing); the 市场监管局 steward requests the right to call it; its system
// calls; the provider sees the statistics and the call and verifies its proof.
// Each step leaves a screenshot in build/screenshots/.
//
// Also: the security headers of console responses, the session cookie
// (HttpOnly, SameSite=Strict, unreadable by scripts), a cookie-authenticated
// POST without its CSRF proof refused and changing nothing, bearer clients
// untouched, ETag revalidation, a phone layout, keyboard sign-in, and every
// string of the console present in both languages, and the axe-core WCAG 2
// A/AA checks on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { chromium } from 'playwright-core';
import { startServer, orgOf } from '../api/lib/server.mjs';
import { totpCode, totpStep, makeUscc, breakCheckDigit } from '../api/lib/util.mjs';

const REPO = new URL('../../', import.meta.url).pathname;
const SHOTS = join(REPO, 'build/screenshots');
const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));

let srv;
let browser;
const problems = []; // console errors, page errors and CSP violations seen on any page

before(async () => {
  assert.ok(CHROMIUM, 'chromium is not installed (scripts/deps.sh test installs it)');
  mkdirSync(SHOTS, { recursive: true });
  srv = await startServer({ demo: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});

after(async () => {
  if (browser) await browser.close();
  if (srv) {
    const { code, signal } = await srv.stop();
    assert.equal(code, 0, `the server exited with ${code ?? signal} (a sanitizer report?):\n${srv.stderr.slice(-4000)}`);
  }
});

/** A fresh browser context (its own cookies) at 1280×800, or a phone's size. */
async function newPage({ phone = false, lang = 'zh-CN' } = {}) {
  const context = await browser.newContext({
    baseURL: srv.base, locale: lang,
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 800 },
    deviceScaleFactor: 1, isMobile: phone, hasTouch: phone,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
  return page;
}

// A translation key shown as itself: a string missing from web/console/i18n.js.
const UNTRANSLATED = /\b(?:(?:sub_status|objection|delivery|status|share|sr|grant|result|role|mask|cycle|open|method|format|category|level|user|client|verify|col|home|nav|fix|mode|quality|audit|import|request|requests|grants|subs|deliveries|conflicts|catalog|resource)_[a-z_]+)\b/;

/** Writes the screenshot of a step, after checking the page shows no untranslated key. */
async function shot(page, name) {
  // (values shown as data, in monospace, may look like keys: share_request, id_number)
  const text = await page.evaluate(() => {
    const copy = document.body.cloneNode(true);
    for (const el of copy.querySelectorAll('.mono, pre')) el.remove();
    return copy.textContent;
  });
  const key = text.match(UNTRANSLATED);
  assert.equal(key, null, `${name}: untranslated ${key && key[0]}`);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function signIn(page, username, password = srv.accounts.password) {
  await page.goto('/#/signin');
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByRole('heading', { level: 1, name: /你好/ }).waitFor();
}

/** A link of the main navigation (the page may link to the same place in its text). */
function nav(page, name) {
  return page.locator('#nav').getByRole('link', { name, exact: true });
}

async function signOut(page) {
  await page.getByRole('button', { name: '退出登录' }).click();
  await page.getByRole('heading', { level: 1, name: '登录一网' }).waitFor();
}

/** A resident ID number with a correct check digit; serial makes it unique. */
function idNumber(serial) {
  const first17 = `11010119800101${String(serial).padStart(3, '0')}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((a, c, i) => a + Number(c) * w[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

const journey = { name: `出入境证件签发记录${Date.now().toString(36)}` };

test('console responses carry a strict CSP, the other security headers and an ETag', async () => {
  for (const path of ['/', '/console/main.js', '/console/app.css', '/console/pages/catalog.js']) {
    const res = await fetch(srv.base + path);
    assert.equal(res.status, 200, path);
    const csp = res.headers.get('content-security-policy') || '';
    assert.match(csp, /default-src 'self'/, path);
    assert.match(csp, /script-src 'self';/, path);
    assert.match(csp, /style-src 'self';/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, path);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
    assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
    assert.equal(res.headers.get('cache-control'), 'no-cache', path);
    const etag = res.headers.get('etag');
    assert.match(etag || '', /^"[0-9a-f]{20}"$/, path);
    const again = await fetch(srv.base + path, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304, path);
    assert.equal(await again.text(), '', path);
    const other = await fetch(srv.base + path, { headers: { 'If-None-Match': '"0000"' } });
    assert.equal(other.status, 200, path);
  }
  const types = { '/': /^text\/html/, '/console/main.js': /^text\/javascript/, '/console/app.css': /^text\/css/ };
  for (const [path, type] of Object.entries(types)) assert.match((await fetch(srv.base + path)).headers.get('content-type'), type);
  // No page is inline: no script or style element with content, no style attribute.
  const html = await (await fetch(srv.base + '/')).text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
  // Unknown files are a problem response, and paths cannot climb out of the console.
  for (const path of ['/console/nothing.js', '/console/..%2fMakefile', '/console/pages/..%2f..%2fMakefile']) {
    const res = await fetch(srv.base + path);
    assert.equal(res.status, 404, path);
    assert.match(res.headers.get('content-type'), /^application\/problem\+json/);
  }
});

test('the browser enforces the policy: an inline script and an inline style are refused', async () => {
  const context = await browser.newContext({ baseURL: srv.base });
  const page = await context.newPage();
  const refused = [];
  page.on('console', (m) => { if (/Content Security Policy/.test(m.text())) refused.push(m.text()); });
  await page.goto('/');
  const ran = await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.injected = true';
    document.body.append(script);
    const style = document.createElement('style');
    style.textContent = 'body { display: none }';
    document.head.append(style);
    return { script: window.injected === true, hidden: getComputedStyle(document.body).display === 'none' };
  });
  assert.deepEqual(ran, { script: false, hidden: false });
  await page.waitForTimeout(100);
  assert.ok(refused.some((m) => /script/.test(m)) && refused.some((m) => /style/.test(m)), refused.join('\n'));
  await context.close();
});

test('every string the console uses is in both language tables', async () => {
  const { TABLES } = await import('../../web/console/i18n.js');
  const zh = Object.keys(TABLES['zh-CN']).sort();
  assert.deepEqual(Object.keys(TABLES.en).sort(), zh, 'the English and Chinese tables have the same keys');
  const dir = join(REPO, 'web/console');
  const files = readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.js') && f !== 'i18n.js');
  const used = new Set();
  for (const f of files) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/\bt\('([a-z0-9_]+)'/g)) used.add(m[1]);
  }
  assert.ok(used.size > 100, 'the sources were read');
  assert.deepEqual([...used].filter((k) => !zh.includes(k)), [], 'keys used but not translated');
});

test('a steward publishes a resource and imports a CSV with bad rows', async () => {
  const page = await newPage();
  await page.goto('/');
  await page.getByRole('heading', { level: 1, name: '登录一网' }).waitFor();
  await shot(page, '01-signin');
  await signIn(page, 'gaj_steward');
  await shot(page, '02-steward-home');

  // The session is an HttpOnly, SameSite=Strict cookie that scripts cannot read.
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'yw_session');
  assert.ok(session, 'a session cookie was set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.ok(!(await page.evaluate(() => document.cookie)).includes('yw_session'), 'scripts cannot read the session');

  await page.locator('#nav').getByRole('link', { name: '资源目录', exact: true }).click();
  await page.getByRole('link', { name: '新建资源' }).click();
  await page.getByRole('heading', { level: 1, name: '新建资源' }).waitFor();
  await page.getByLabel('名称', { exact: true }).fill(journey.name);
  await page.getByLabel('资源分类').selectOption('department');
  await page.getByLabel('资源格式').selectOption('table');
  await page.getByLabel('共享类型').selectOption('conditional');
  await page.getByLabel('共享条件').fill('用于出入境相关业务办理');
  await page.getByLabel('共享方式').selectOption('api');
  await page.getByLabel('开放类型').selectOption('closed');
  await page.getByLabel('更新周期').selectOption('daily');
  await page.getByLabel('主键数据项').fill('id_number');
  await page.getByLabel('摘要').fill('公安局出入境管理部门签发证件的记录，含持证人身份证号和姓名。');
  const rows = page.locator('table.edit tbody tr');
  await rows.nth(0).getByLabel('数据元').selectOption('id_number');
  await rows.nth(0).getByLabel('必填').check();
  await page.getByRole('button', { name: '添加数据项' }).click();
  await rows.nth(1).getByLabel('数据元').selectOption('name');
  await rows.nth(1).getByLabel('必填').check();
  await shot(page, '03-resource-editor');
  await page.getByRole('button', { name: '保存草稿' }).click();
  await page.getByRole('heading', { level: 1, name: journey.name }).waitFor();
  journey.code = decodeURIComponent(page.url().split('#/resources/')[1]);
  assert.ok(journey.code, 'the detail page of the new resource opened');
  await page.getByText('草稿', { exact: true }).first().waitFor();
  await page.getByRole('button', { name: '发布' }).click();
  await page.getByText('已发布', { exact: true }).first().waitFor();
  await shot(page, '04-resource-published');

  await page.getByRole('link', { name: '导入数据' }).click();
  await page.getByRole('heading', { level: 1, name: /导入/ }).waitFor();
  const csv = ['id_number,name', `${idNumber(1)},张三`, `${idNumber(2)},李四`,
    '110101198001010000,王五', `${idNumber(3)},`, `${idNumber(4)},赵六`].join('\n') + '\n';
  await page.getByLabel('CSV 文件').setInputFiles({ name: 'records.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: '上传并导入' }).click();
  await page.getByRole('heading', { name: '导入报告' }).waitFor();
  await page.getByText('写入 3 行').waitFor();
  await page.getByText('拒绝 2 行').waitFor();
  const report = page.getByRole('table', { name: '被拒绝的行' });
  const lines = await report.locator('tbody tr').allInnerTexts();
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0], /^4\s+id_number\s+\S/);
  assert.match(lines[1], /^5\s+name\s+\S/);
  await shot(page, '05-import-report');

  // The server agrees: three records were written.
  const token = await srv.login('gaj_steward');
  for (const serial of [1, 2, 4]) {
    const res = await srv.call('GET', `/api/v1/resources/${journey.code}/records/${idNumber(serial)}`, { token });
    assert.equal(res.status, 200, res.text);
  }
  assert.equal((await srv.call('GET', `/api/v1/resources/${journey.code}/records/${idNumber(3)}`, { token })).status, 404);
  await page.context().close();
});

test('another department finds the resource by a Chinese search and requests it', async () => {
  assert.ok(journey.code, 'the previous step made the resource');
  const page = await newPage();
  await signIn(page, 'scjg_steward');
  await page.locator('#nav').getByRole('link', { name: '资源目录', exact: true }).click();
  const noMatch = page.getByText('没有符合条件的资源。请减少关键词或清除筛选条件。');
  const found = page.getByRole('link', { name: journey.name });
  /** Sets one field of the search form, searches, and waits for what it should show. */
  const search = async (label, value, outcome) => {
    const control = page.getByLabel(label);
    await (label === '关键词' ? control.fill(value) : control.selectOption(value));
    await page.getByRole('button', { name: '搜索' }).click();
    await outcome.waitFor();
  };
  await search('关键词', '没有这样的资源名称', noMatch);
  await search('关键词', '出入境 签发', found);
  // a table, not an interface: the format filter leaves it out, then finds it again
  await search('资源格式', 'api', noMatch);
  await search('资源格式', 'table', found);
  await shot(page, '06-catalog-search');
  await page.getByRole('link', { name: journey.name }).click();
  // Not the provider: no editing, publishing or import; a request instead.
  await page.getByRole('link', { name: '申请共享' }).waitFor();
  assert.equal(await page.getByRole('button', { name: '发布' }).count(), 0);
  assert.equal(await page.getByRole('link', { name: '导入数据' }).count(), 0);
  await page.getByRole('link', { name: '申请共享' }).click();
  await page.getByRole('button', { name: '提交申请' }).click();
  await page.getByText('请填写：用途、依据、应用场景。').waitFor(); // the form says what is missing
  await page.getByLabel('用途').fill('企业登记时核验法定代表人出入境证件');
  await page.getByLabel('依据').fill('《市场主体登记管理条例》第十二条');
  await page.getByLabel('应用场景').fill('企业设立登记');
  await shot(page, '07-request-form');
  await page.getByRole('button', { name: '提交申请' }).click();
  await page.getByRole('heading', { level: 1, name: /^共享申请 SR\d{8}$/ }).waitFor();
  journey.request = (await page.getByRole('heading', { level: 1 }).innerText()).match(/SR\d{8}/)[0];
  await page.getByText('待审批', { exact: true }).first().waitFor();
  // The consumer cannot decide its own request.
  assert.equal(await page.getByRole('button', { name: '同意并授权' }).count(), 0);
  await shot(page, '08-request-pending');
  await page.context().close();
});

test('the provider approves with one item masked; the grant shows up on both sides', async () => {
  assert.ok(journey.request, 'the previous step filed the request');
  const page = await newPage();
  await signIn(page, 'gaj_steward');
  const panel = page.locator('section.panel', { has: page.getByRole('heading', { name: '待我审批的共享申请' }) });
  await panel.getByRole('link', { name: journey.request }).click();
  await page.getByRole('heading', { level: 1, name: `共享申请 ${journey.request}` }).waitFor();
  await page.getByLabel('name 的授权方式').selectOption('masked');
  await shot(page, '09-decide');
  await page.getByRole('button', { name: '同意并授权' }).click();
  await page.getByText('已同意', { exact: true }).first().waitFor();
  const grantLink = page.getByRole('link', { name: /^GR\d{8}$/ });
  journey.grant = await grantLink.innerText();
  await grantLink.click();
  const row = page.getByRole('row', { name: new RegExp(journey.grant) });
  await row.waitFor();
  assert.match(await row.innerText(), /name（脱敏）/);
  assert.match(await row.innerText(), /有效/);
  await row.getByRole('button', { name: '撤销' }).waitFor(); // the provider may revoke
  await shot(page, '10-grants-provider');
  await page.context().close();

  const consumer = await newPage();
  await signIn(consumer, 'scjg_steward');
  await consumer.locator('#nav').getByRole('link', { name: '共享授权', exact: true }).click();
  const theirs = consumer.getByRole('row', { name: new RegExp(journey.grant) });
  await theirs.waitFor();
  assert.equal(await theirs.getByRole('button', { name: '撤销' }).count(), 0, 'the consumer is offered no revoke');
  await shot(consumer, '11-grants-consumer');

  // The consumer reads a record through the grant: the name masked, as approved; the read is audited.
  await theirs.getByRole('link', { name: journey.code }).click();
  await consumer.getByRole('link', { name: '查询记录' }).click();
  await consumer.getByLabel(/id_number/).fill(idNumber(1));
  await consumer.getByRole('button', { name: '查询', exact: true }).click();
  const record = consumer.getByRole('table', { name: /记录/ });
  await record.waitFor();
  assert.match(await record.getByRole('row', { name: /^id_number/ }).innerText(), new RegExp(idNumber(1)));
  const name = await record.getByRole('row', { name: /^name/ }).innerText();
  assert.match(name, /张\*/, name);
  assert.doesNotMatch(name, /张三/);
  await consumer.getByText(/此次查询已记入审计日志 #\d+/).waitFor();
  assert.ok(!consumer.url().includes(idNumber(1)), 'the key stays out of the address');
  await shot(consumer, '11b-record-through-grant');
  await consumer.getByLabel(/id_number/).fill(idNumber(9));
  await consumer.getByRole('button', { name: '查询', exact: true }).click();
  await consumer.getByRole('alert').waitFor(); // no such record: the problem, and what to do
  await consumer.context().close();
});

test('an auditor finds the approval in the trail and verifies its proof in the browser', async () => {
  assert.ok(journey.request, 'the previous steps ran');
  const page = await newPage();
  await signIn(page, 'demo_auditor');
  await shot(page, '12-auditor-home');
  // An auditor reads the trail, not shared data: no catalog of requests or grants.
  assert.equal(await page.locator('#nav').getByRole('link', { name: '共享申请', exact: true }).count(), 0);
  await page.locator('#nav').getByRole('link', { name: '审计日志', exact: true }).click();
  await page.getByLabel('对象').fill(journey.request);
  await page.getByRole('button', { name: '搜索' }).click();
  // (the unfiltered list shown first holds the demo city's approvals: pick the row of this request)
  const approval = page.getByRole('row').filter({ hasText: 'share.approve' }).filter({ hasText: journey.request });
  await approval.waitFor();
  await shot(page, '13-audit-events');
  await approval.getByRole('link').first().click();
  await page.getByRole('heading', { level: 1, name: /^审计条目 #\d+$/ }).waitFor();
  // A fresh entry may wait for the next signed head (once a second).
  for (let i = 0; i < 10 && await page.getByRole('button', { name: '重试' }).count(); i++) {
    await page.waitForTimeout(500);
    await page.getByRole('button', { name: '重试' }).click();
    await page.getByRole('heading', { level: 1 }).waitFor();
  }
  await page.getByRole('button', { name: '在浏览器中验证' }).click();
  const verdict = page.locator('#proof-result');
  await verdict.waitFor();
  assert.match(await verdict.innerText(), /验证通过/);
  const steps = await page.locator('ol.steps li').allInnerTexts();
  assert.equal(steps.length, 3);
  assert.match(steps[0], /叶哈希.*通过/s);
  assert.match(steps[1], /根哈希.*通过/s);
  assert.match(steps[2], /签名.*通过/s);
  await shot(page, '14-proof-verified');
  journey.seq = Number((await page.getByRole('heading', { level: 1 }).innerText()).match(/\d+/)[0]);

  // The same check refuses an altered entry, an altered path and an altered head.
  const verdicts = await page.evaluate(async (seq) => {
    const { verifyInclusion } = await import('/console/merkle.js');
    const get = async (p) => (await fetch(p)).json();
    const [proof, head] = await Promise.all([get(`/api/v1/audit/proof/${seq}`), get('/api/v1/audit/tree-head')]);
    const flip = (b64) => (b64[0] === 'A' ? 'B' : 'A') + b64.slice(1);
    const run = async (p) => (await verifyInclusion(p, head.public_key)).map((x) => x.ok);
    return {
      intact: await run(proof),
      entry: await run({ ...proof, entry: proof.entry.replace('share.approve', 'share.reject') }),
      path: await run({ ...proof, audit_path: [flip(proof.audit_path[0]), ...proof.audit_path.slice(1)] }),
      root: await run({ ...proof, tree_head: { ...proof.tree_head, root_hash: flip(proof.tree_head.root_hash) } }),
      time: await run({ ...proof, tree_head: { ...proof.tree_head, timestamp_ms: proof.tree_head.timestamp_ms + 1 } }),
    };
  }, journey.seq);
  assert.deepEqual(verdicts.intact, [true, true, true]);
  assert.deepEqual(verdicts.entry, [false, false, true]);
  assert.deepEqual(verdicts.path, [true, false, true]);
  assert.deepEqual(verdicts.root, [true, false, false]);
  assert.deepEqual(verdicts.time, [true, true, false]);

  // The log only grew: a first check records the signed head, a later one proves the new log extends it.
  await page.locator('#nav').getByRole('link', { name: '审计日志', exact: true }).click();
  await page.getByRole('button', { name: '核验日志只增未改' }).click();
  await page.locator('#consistency-result').getByText(/已记录基线：\d+ 个条目/).waitFor();
  const before = (await page.evaluate(() => JSON.parse(localStorage.getItem('yw_audit_verified_head')))).tree_size;
  for (let i = 0; i < 3; i++) await srv.login('gaj_clerk'); // more entries
  await page.waitForTimeout(1500); // heads are signed every second
  await page.getByRole('button', { name: '核验日志只增未改' }).click();
  const grew = page.locator('#consistency-result').getByText(new RegExp(`一致：日志从 ${before} 个条目增长到 \\d+ 个`));
  await grew.waitFor();
  const after = Number((await grew.innerText()).match(/增长到 (\d+)/)[1]);
  assert.ok(after > before, `${before} → ${after}`);
  await shot(page, '14b-consistency');
  const proofs = await page.evaluate(async ({ from, to }) => {
    const { consistent, fromBase64 } = await import('/console/merkle.js');
    const p = await (await fetch(`/api/v1/audit/consistency?from=${from}&to=${to}`)).json();
    const path = p.proof.map(fromBase64);
    const a = fromBase64(p.from_head.root_hash), b = fromBase64(p.to_head.root_hash);
    const other = b.slice(); other[0] ^= 1;
    return {
      intact: await consistent(from, to, a, b, path),
      newRootChanged: await consistent(from, to, a, other, path),
      oldRootChanged: await consistent(from, to, other, b, path),
      pathDropped: await consistent(from, to, a, b, path.slice(1)),
    };
  }, { from: before, to: after });
  assert.deepEqual(proofs, { intact: true, newRootChanged: false, oldRootChanged: false, pathDropped: false });
  await page.context().close();
});

test('a provider answers an overdue data objection; subscriptions, deliveries and conflicts are listed', async () => {
  const page = await newPage();
  await signIn(page, 'wjw_steward');
  const panel = page.locator('section.panel', { has: page.getByRole('heading', { name: '待本部门答复的数据异议' }) });
  await panel.getByText('已超期').waitFor();
  await page.locator('#nav').getByRole('link', { name: '数据异议', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: '数据异议' }).waitFor();
  const row = page.getByRole('row').filter({ hasText: '已超期' }).first();
  const id = (await row.innerText()).match(/OB\d+/)[0];
  await row.getByLabel('处理决定').selectOption('reject');
  await row.getByRole('button', { name: '提交处理结果' }).click();
  await row.getByText('驳回异议时必须说明理由。').waitFor();
  const token = await srv.login('wjw_steward');
  assert.equal((await srv.call('GET', `/api/v1/objections/${id}`, { token })).json.status, 'open', 'nothing changed');
  await shot(page, '21-objection');
  await row.getByLabel('理由').fill('经核实，死亡医学证明信息与原始档案一致');
  await row.getByRole('button', { name: '提交处理结果' }).click();
  await page.getByRole('row', { name: new RegExp(`${id}.*已驳回`) }).waitFor();
  assert.equal((await srv.call('GET', `/api/v1/objections/${id}`, { token })).json.status, 'rejected');
  await page.context().close();

  // A consumer's subscription to the journey's resource, delivering to a port nobody listens on.
  const scjg = await srv.login('scjg_steward');
  const journeyGrant = await srv.call('GET', `/api/v1/grants?resource=${encodeURIComponent(journey.code)}&role=consumer`, { token: scjg });
  const grantId = journeyGrant.json.items.find((g) => g.status === 'active')?.id;
  const made = await srv.call('POST', '/api/v1/subscriptions', { token: scjg,
    body: { resource: journey.code, url: 'http://127.0.0.1:9/hook', ...(grantId ? { grant: grantId } : {}) } });
  assert.equal(made.status, 201, made.text);
  const consumer = await newPage();
  await signIn(consumer, 'scjg_steward');
  await consumer.locator('#nav').getByRole('link', { name: '订阅', exact: true }).click();
  await consumer.getByRole('link', { name: made.json.id }).click();
  await consumer.getByRole('heading', { level: 1, name: `订阅 ${made.json.id}` }).waitFor();
  await consumer.getByRole('heading', { level: 2, name: '推送记录' }).waitFor();
  await shot(consumer, '22-subscription');
  await consumer.context().close();

  const steward = await newPage();
  await signIn(steward, 'gaj_steward');
  await steward.locator('#nav').getByRole('link', { name: '数据冲突', exact: true }).click();
  await steward.getByRole('heading', { level: 1, name: '数据冲突' }).waitFor();
  await steward.getByRole('table', { name: '数据冲突' }).waitFor();
  await shot(steward, '23-conflicts');
  await steward.context().close();
});

test('the provider rejects a request only with a reason, and revokes a grant', async () => {
  assert.ok(journey.grant, 'the previous steps ran');
  const rsj = await srv.login('rsj_steward');
  const filed = await srv.call('POST', '/api/v1/share-requests', { token: rsj, body: {
    resource: journey.code, items: ['id_number'], purpose: '社保待遇资格认证', legal_basis: '《社会保险法》', scenario: '待遇核验' } });
  assert.equal(filed.status, 201, filed.text);
  const page = await newPage();
  await signIn(page, 'gaj_steward');
  await page.goto(`/#/requests/${filed.json.id}`);
  await page.getByRole('button', { name: '拒绝申请' }).click();
  await page.getByText('请填写拒绝理由').waitFor();
  const token = await srv.login('gaj_steward');
  const still = await srv.call('GET', `/api/v1/share-requests/${filed.json.id}`, { token });
  assert.equal(still.json.status, 'pending', 'a refused form changed nothing');
  await page.getByLabel('理由').fill('申请的用途不在本资源的共享条件之内');
  await page.getByRole('button', { name: '拒绝申请' }).click();
  await page.getByText('已拒绝', { exact: true }).first().waitFor();
  await page.getByText('申请的用途不在本资源的共享条件之内').waitFor();
  assert.equal(await page.getByRole('button', { name: '同意并授权' }).count(), 0, 'a decided request offers no decision');
  await shot(page, '15-request-rejected');

  await page.locator('#nav').getByRole('link', { name: '共享授权', exact: true }).click();
  const row = page.getByRole('row', { name: new RegExp(journey.grant) });
  await row.getByRole('textbox').fill('核验业务已结束');
  page.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: '撤销' }).click();
  await page.getByRole('row', { name: new RegExp(`${journey.grant}.*已撤销`) }).waitFor();
  const grant = await srv.call('GET', `/api/v1/grants/${journey.grant}`, { token });
  assert.equal(grant.json.status, 'revoked');
  assert.equal(grant.json.revoke_reason, '核验业务已结束');
  await shot(page, '16-grant-revoked');
  await page.context().close();
});

test('an account with a second factor signs in with its one-time code', async () => {
  const user = 'mzj_clerk';
  const bearer = await srv.login(user);
  const enrol = await srv.call('POST', '/api/v1/auth/totp', { token: bearer });
  assert.equal(enrol.status, 201, enrol.text);
  const confirmed = await srv.call('POST', '/api/v1/auth/totp/confirm', { token: bearer, body: { code: totpCode(enrol.json.secret) } });
  assert.equal(confirmed.status, 200, confirmed.text);
  const page = await newPage();
  await page.goto('/#/signin');
  await page.getByLabel('用户名').fill(user);
  await page.getByLabel('密码', { exact: true }).fill(srv.accounts.password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByLabel('动态验证码').waitFor();
  await shot(page, '17-totp-step');
  await page.getByLabel('动态验证码').fill(totpCode(enrol.json.secret, totpStep() + 1));
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByRole('heading', { level: 1, name: /你好/ }).waitFor();
  await page.context().close();
});

test('a cookie session without its CSRF proof changes nothing; bearer clients work as before', async () => {
  const page = await newPage();
  await signIn(page, 'gaj_steward');
  const name = `伪造请求资源${Date.now().toString(36)}`;
  const outcome = await page.evaluate(async ({ name, org }) => {
    const body = JSON.stringify({ name, provider_org: org });
    const send = async (headers) => {
      const res = await fetch('/api/v1/resources', { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
      return { status: res.status, json: await res.json() };
    };
    return { none: await send({}), wrong: await send({ 'X-CSRF-Token': 'A'.repeat(43) }) };
  }, { name, org: orgOf(srv.accounts, 'gaj_steward') });
  for (const r of [outcome.none, outcome.wrong]) {
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'csrf_failed');
  }
  const token = await srv.login('gaj_steward');
  const list = await srv.call('GET', '/api/v1/resources', { token, query: undefined });
  assert.equal(list.status, 200);
  const search = await srv.call('GET', `/api/v1/resources?q=${encodeURIComponent(name)}`, { token });
  assert.equal(search.json.items.length, 0, 'the refused request created nothing');
  // With the proof the same call works; reads never needed it.
  const made = await page.evaluate(async ({ name, org }) => {
    const csrf = document.cookie.split('; ').find((c) => c.startsWith('yw_csrf=')).slice(8);
    const res = await fetch('/api/v1/resources', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ name: `${name}-ok`, provider_org: org }) });
    return res.status;
  }, { name, org: orgOf(srv.accounts, 'gaj_steward') });
  assert.equal(made, 201);
  // A bearer token is used as it always was, with no CSRF header.
  const bearer = await srv.call('POST', '/api/v1/resources', { token, body: { name: `${name}-bearer`, provider_org: orgOf(srv.accounts, 'gaj_steward') } });
  assert.equal(bearer.status, 201, bearer.text);
  // Signing out clears the cookie, and the old session no longer works.
  await signOut(page);
  assert.equal((await page.context().cookies()).some((c) => c.name === 'yw_session'), false);
  const after = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).status);
  assert.equal(after, 401);
  await page.context().close();
});

test('a wrong password shows the problem and how to fix it; sign-in works from the keyboard', async () => {
  const page = await newPage();
  await page.goto('/#/catalog?status=published'); // signed out: sign in first, then back here
  await page.getByRole('heading', { level: 1, name: '登录一网' }).waitFor();
  await page.getByLabel('用户名').focus();
  await page.keyboard.type('gaj_clerk');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Not-the-Passw0rd!');
  await page.keyboard.press('Enter');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /the username or password is wrong/);
  assert.match(await alert.innerText(), /请检查用户名和密码/);
  await shot(page, '18-signin-error');
  await page.getByLabel('密码', { exact: true }).fill(srv.accounts.password);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: '资源目录' }).waitFor();
  assert.equal(await page.getByLabel('状态').inputValue(), 'published', 'the page asked for, with its filters');
  // A clerk is not offered what a clerk cannot do.
  assert.equal(await page.locator('#nav').getByRole('link', { name: '共享申请', exact: true }).count(), 0);
  assert.equal(await page.locator('#nav').getByRole('link', { name: '审计日志', exact: true }).count(), 0);
  assert.equal(await page.getByRole('link', { name: '新建资源' }).count(), 0);
  await page.context().close();
});

test('a new account must change its password first', async () => {
  const sec = await srv.adminToken('secadmin');
  const username = `gaj_new${Date.now().toString(36).slice(-5)}`;
  const made = await srv.call('POST', '/api/v1/users', { token: sec, body: {
    username, display_name: '新同事', org_code: orgOf(srv.accounts, 'gaj_steward'), roles: ['clerk'] } });
  assert.equal(made.status, 201, made.text);
  const page = await newPage();
  await page.goto('/#/signin');
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码', { exact: true }).fill(made.json.password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByRole('heading', { level: 1, name: '修改密码' }).waitFor();
  assert.equal(await page.locator('#nav').getByRole('link', { name: '资源目录', exact: true }).count(), 0, 'nothing else is offered yet');
  await page.goto('/#/catalog');
  await page.reload();
  await page.getByRole('heading', { level: 1, name: '修改密码' }).waitFor(); // still first, after a reload too
  await shot(page, '19-forced-password-change');
  const next = `Fresh-${Date.now().toString(36)}-Passw0rd!`;
  await page.getByLabel('当前密码').fill(made.json.password);
  await page.getByLabel('新密码', { exact: true }).fill(next);
  await page.getByLabel('再次输入新密码').fill(`${next}x`);
  await page.getByRole('button', { name: '修改密码' }).click();
  await page.getByText('两次输入的新密码不一致').waitFor();
  await page.getByLabel('再次输入新密码').fill(next);
  await page.getByRole('button', { name: '修改密码' }).click();
  await page.getByRole('heading', { level: 1, name: /你好/ }).waitFor();
  await page.context().close();
});

test('English, and a phone-sized screen', async () => {
  const page = await newPage({ phone: true });
  await signIn(page, 'gaj_steward');
  await page.getByLabel('语言').selectOption('en');
  await page.getByRole('heading', { level: 1, name: /^Hello/ }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await page.locator('#nav').getByRole('link', { name: 'Catalog', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Resource catalog' }).waitFor();
  // Nothing wider than the screen but the tables, which scroll inside their own box.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await shot(page, '20-phone-catalog-en');
  await page.locator('#nav').getByRole('link', { name: 'Data elements', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Data elements' }).waitFor();
  await page.getByRole('link', { name: 'id_number', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: /^Data element “/ }).waitFor();
  const wider = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(wider <= 0, `the element page is ${wider}px wider than the phone`);
  await shot(page, '20b-phone-element-en');
  await page.context().close();
});

test('administrators create users and department systems; anyone turns on a second factor', async () => {
  await srv.adminToken('secadmin'); // the platform account's forced first change, done through the API
  const page = await newPage();
  await signIn(page, srv.admins.secadmin.username, srv.admins.secadmin.password);
  await page.locator('#nav').getByRole('link', { name: '用户', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: '用户' }).waitFor();
  const username = `gaj_c${Date.now().toString(36).slice(-6)}`;
  await page.getByRole('button', { name: '新建用户' }).click();
  await page.getByText('请填写：用户名、名称、角色。').waitFor();
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('名称', { exact: true }).fill('窗口新人');
  await page.getByLabel('部门', { exact: true }).selectOption(orgOf(srv.accounts, 'gaj_steward'));
  await page.getByLabel('窗口人员').check();
  await page.getByRole('button', { name: '新建用户' }).click();
  const shown = page.locator('code.secret');
  await shown.waitFor();
  const password = await shown.innerText();
  await shot(page, '24-user-created');
  await page.context().close();
  const first = await srv.call('POST', '/api/v1/auth/login', { body: { username, password } });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.user.must_change_password, true);
  assert.deepEqual(first.json.user.roles, ['clerk']);

  const admin = await newPage();
  await signIn(admin, 'gaj_admin');
  await admin.locator('#nav').getByRole('link', { name: '接入系统', exact: true }).click();
  await admin.getByLabel('系统名称').fill('Not A Name');
  await admin.getByRole('button', { name: '新建接入系统' }).click();
  await admin.getByRole('alert').waitFor(); // the server's 422, with what to fix
  await admin.getByLabel('系统名称').fill('console-test');
  await admin.getByRole('button', { name: '新建接入系统' }).click();
  const secret = await admin.locator('code.secret').innerText();
  assert.match(secret, /^ywc_/);
  const id = `${orgOf(srv.accounts, 'gaj_steward')}/console-test`;
  assert.equal((await srv.call('GET', '/api/v1/auth/me', { token: secret })).status, 200);
  await admin.reload();
  admin.once('dialog', (d) => d.accept());
  await admin.getByRole('button', { name: `吊销 ${id}` }).click();
  await admin.getByRole('row', { name: new RegExp(`${id}.*已吊销`) }).waitFor();
  assert.equal((await srv.call('GET', '/api/v1/auth/me', { token: secret })).status, 401, 'the revoked secret no longer works');
  await shot(admin, '25-client-revoked');
  await admin.context().close();

  const user = await newPage();
  await signIn(user, 'zjj_steward');
  await user.getByRole('link', { name: /市住房和城乡建设局数据专员/ }).click();
  await user.getByRole('heading', { level: 1, name: '我的账号' }).waitFor();
  await user.getByRole('button', { name: '启用双因素认证' }).click();
  const totpSecret = await user.locator('#totp-secret').innerText();
  await user.getByLabel('动态验证码').fill('000000' === totpCode(totpSecret) ? '111111' : '000000');
  await user.getByRole('button', { name: '确认启用' }).click();
  await user.getByRole('alert').waitFor(); // a wrong code is refused
  await user.getByLabel('动态验证码').fill(totpCode(totpSecret));
  await user.getByRole('button', { name: '确认启用' }).click();
  await user.getByText('双因素认证已启用').waitFor();
  await shot(user, '26-totp-on');
  await user.context().close();
  const again = await srv.call('POST', '/api/v1/auth/login', { body: { username: 'zjj_steward', password: srv.accounts.password } });
  assert.equal(again.json?.code, 'totp_required');
});

test('the data bureau keeps the data elements; a refused element changes nothing', async () => {
  const page = await newPage();
  await signIn(page, 'gaj_steward');
  await nav(page, '数据元').click();
  await page.getByRole('heading', { level: 1, name: '数据元' }).waitFor();
  await page.getByRole('link', { name: 'id_number', exact: true }).waitFor();
  assert.equal(await page.getByRole('button', { name: '新建数据元' }).count(), 0, 'only the bureau adds elements');
  await page.context().close();

  const id = `console_el_${Date.now().toString(36)}`;
  const token = await srv.login('dsj_steward');
  const bureau = await newPage();
  await signIn(bureau, 'dsj_steward');
  await nav(bureau, '数据元').click();
  await bureau.getByLabel('关键词').fill('没有这样的数据元');
  await bureau.getByRole('button', { name: '搜索' }).click();
  await bureau.getByText('没有符合条件的数据元。请换一个关键词或清除搜索。').waitFor();
  await bureau.getByRole('button', { name: '新建数据元' }).click();
  await bureau.getByText('请填写：标识、名称。').waitFor();
  await bureau.getByLabel('标识').fill(id);
  await bureau.getByLabel('名称', { exact: true }).fill('控制台测试编号');
  await bureau.getByLabel('校验规则').fill('regex:[0-9');
  await bureau.getByRole('button', { name: '新建数据元' }).click();
  const alert = bureau.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /regex: is not a valid POSIX extended regular expression/);
  assert.match(await alert.innerText(), /请按提示修改/);
  assert.equal((await srv.call('GET', `/api/v1/elements/${id}`, { token })).status, 404, 'the refused element was not made');
  await shot(bureau, '27-element-refused');
  await bureau.getByLabel('校验规则').fill('regex:[0-9]{6}');
  await bureau.getByLabel('敏感级别').selectOption('L2');
  await bureau.getByLabel('定义').fill('控制台测试用的六位编号。');
  await bureau.getByRole('button', { name: '新建数据元' }).click();
  await bureau.getByRole('heading', { level: 1, name: '数据元「控制台测试编号」' }).waitFor();
  await bureau.getByText(`已创建数据元 ${id}。`).waitFor();
  const made = await srv.call('GET', `/api/v1/elements/${id}`, { token });
  assert.equal(made.status, 200);
  assert.equal(made.json.validator, 'regex:[0-9]{6}');
  assert.equal(made.json.sensitivity, 'L2');
  await shot(bureau, '28-element-created');
  await bureau.context().close();
});

test('the system administrator registers and changes a department', async () => {
  const sys = await srv.adminToken('sysadmin'); // (the forced first change; doing it again would end the browser's session)
  const page = await newPage();
  await signIn(page, srv.admins.sysadmin.username, srv.admins.sysadmin.password);
  await nav(page, '部门').click();
  await page.getByRole('heading', { level: 1, name: '部门' }).waitFor();
  const code = makeUscc();
  const name = `控制台测试局${Date.now().toString(36)}`;
  await page.getByLabel('统一社会信用代码').fill(breakCheckDigit(code));
  await page.getByLabel('名称', { exact: true }).fill(name);
  await page.getByLabel('行政区划', { exact: true }).fill('330100');
  await page.getByLabel('层级', { exact: true }).selectOption('city');
  await page.getByRole('button', { name: '登记部门' }).click();
  await page.getByRole('alert').getByText(/check digit/).waitFor();
  assert.equal((await srv.call('GET', `/api/v1/orgs/${breakCheckDigit(code)}`, { token: sys })).status, 404, 'nothing registered');
  await page.getByLabel('统一社会信用代码').fill(code);
  await page.getByRole('button', { name: '登记部门' }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
  await page.getByText(`已登记「${name}」。`).waitFor();
  await shot(page, '29-org-created');
  await page.getByLabel('名称', { exact: true }).fill(`${name}（更名）`);
  await page.getByLabel('层级', { exact: true }).selectOption('district');
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByRole('heading', { level: 1, name: `${name}（更名）` }).waitFor();
  await page.getByText('已保存。').waitFor();
  const org = await srv.call('GET', `/api/v1/orgs/${code}`, { token: sys });
  assert.equal(org.json.name, `${name}（更名）`);
  assert.equal(org.json.level, 'district');
  await shot(page, '30-org-edited');
  await page.context().close();

  const steward = await newPage();
  await signIn(steward, 'gaj_steward');
  await steward.goto(`/#/orgs/${code}`);
  await steward.getByRole('heading', { level: 1, name: `${name}（更名）` }).waitFor();
  assert.equal(await steward.getByRole('button', { name: '保存' }).count(), 0, 'only the system administrator changes orgs');
  await steward.goto('/#/orgs');
  await steward.getByRole('heading', { level: 1, name: '部门' }).waitFor();
  assert.equal(await steward.getByRole('button', { name: '登记部门' }).count(), 0);
  await steward.context().close();
});

test('the system administrator backs up the database, sees the copy and its digest, and deletes it', async () => {
  const page = await newPage();
  await signIn(page, srv.admins.sysadmin.username, srv.admins.sysadmin.password);
  await nav(page, '备份').click();
  await page.getByRole('heading', { level: 1, name: '数据库备份' }).waitFor();
  await page.getByRole('button', { name: '立即备份' }).click();
  const done = page.getByText(/^备份 yiwang-\d{8}T\d{6}\.\d{3}Z\.db 已完成。$/);
  await done.waitFor({ timeout: 60000 });
  const name = (await done.innerText()).match(/yiwang-\S+\.db/)[0];
  const row = page.getByRole('row', { name: new RegExp(name.replaceAll('.', '\\.')) });
  const digest = createHash('sha256').update(readFileSync(join(srv.dir, 'backups', name))).digest('hex');
  assert.ok((await row.innerText()).includes(digest), 'the page shows the digest of the file on disk');
  await shot(page, '30b-backup-made');
  await nav(page, '首页').click();
  await page.getByText(/^最新备份写于 .+，共 1 份。/).waitFor();
  await nav(page, '备份').click();
  page.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: `删除备份 ${name}` }).click();
  await page.getByText('备份已删除。').waitFor();
  assert.ok(!existsSync(join(srv.dir, 'backups', name)), 'the copy is gone from the disk');
  await page.context().close();

  const steward = await newPage();
  await signIn(steward, 'gaj_steward');
  assert.equal(await nav(steward, '备份').count(), 0, 'only the system administrator is offered backups');
  await steward.goto('/#/backups');
  await steward.getByRole('heading', { level: 1, name: '无权访问' }).waitFor();
  await steward.context().close();
});

test('an administrator changes an account and resets its password; an empty reset changes nothing', async () => {
  const sec = await srv.adminToken('secadmin');
  const username = `gaj_e${Date.now().toString(36).slice(-6)}`;
  const made = await srv.call('POST', '/api/v1/users', { token: sec, body: {
    username, display_name: '待修改', org_code: orgOf(srv.accounts, 'gaj_steward'), roles: ['clerk'] } });
  assert.equal(made.status, 201, made.text);
  const first = `First-${Date.now().toString(36)}-Passw0rd!`;
  const own = await srv.call('POST', '/api/v1/auth/login', { body: { username, password: made.json.password } });
  const changed = await srv.call('POST', `/api/v1/users/${username}/password`, { token: own.json.token,
    body: { current_password: made.json.password, new_password: first } });
  assert.equal(changed.status, 204, changed.text);

  const page = await newPage();
  await signIn(page, 'gaj_admin');
  await nav(page, '用户').click();
  await page.getByRole('link', { name: username, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: '待修改' }).waitFor();
  await page.getByLabel('名称', { exact: true }).fill('窗口老同事');
  await page.getByLabel('审批人员').check();
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByRole('heading', { level: 1, name: '窗口老同事' }).waitFor();
  const after = await srv.call('GET', `/api/v1/users/${username}`, { token: sec });
  assert.equal(after.json.display_name, '窗口老同事');
  assert.deepEqual(after.json.roles.sort(), ['approver', 'clerk']);
  await shot(page, '31-user-edited');

  await page.getByRole('button', { name: '重置密码' }).click();
  await page.getByText('请填写：新密码。').waitFor();
  const still = await srv.call('POST', '/api/v1/auth/login', { body: { username, password: first } });
  assert.equal(still.status, 200, 'the refused reset left the password as it was');
  assert.equal(still.json.user.must_change_password, false);
  await shot(page, '32-password-reset-refused');
  const temporary = `Temp-${Date.now().toString(36)}-Passw0rd!`;
  await page.getByLabel('新密码', { exact: true }).fill(temporary);
  await page.getByLabel('再次输入新密码').fill(temporary);
  await page.getByRole('button', { name: '重置密码' }).click();
  await page.getByText(`已重置 ${username} 的密码`).waitFor();
  await shot(page, '33-password-reset');
  const next = await srv.call('POST', '/api/v1/auth/login', { body: { username, password: temporary } });
  assert.equal(next.status, 200, next.text);
  assert.equal(next.json.user.must_change_password, true, 'the user must change it at next sign-in');
  assert.equal((await srv.call('GET', '/api/v1/auth/me', { token: still.json.token })).status, 401, 'old sessions ended');

  // An org admin is not offered another org's accounts or its own roles.
  await page.goto('/#/users/gaj_admin');
  await page.getByRole('heading', { level: 1 }).waitFor();
  assert.equal(await page.getByRole('button', { name: '重置密码' }).count(), 0);
  assert.equal(await page.getByLabel('审批人员').count(), 0);
  await page.context().close();
});

test('a consumer objects to a record and subscribes through its grant; the bureau revokes a grant', async () => {
  assert.ok(journey.code, 'the journey made the resource');
  const gaj = await srv.login('gaj_steward');
  const scjg = await srv.login('scjg_steward');
  const rsj = await srv.login('rsj_steward');
  const grantFor = async (token, items) => {
    const filed = await srv.call('POST', '/api/v1/share-requests', { token, body: {
      resource: journey.code, items, purpose: '控制台测试', legal_basis: '《测试条例》', scenario: '测试' } });
    assert.equal(filed.status, 201, filed.text);
    const approved = await srv.call('POST', `/api/v1/share-requests/${filed.json.id}/approve`, { token: gaj, body: {} });
    assert.equal(approved.status, 200, approved.text);
    return approved.json.grant_id;
  };
  const scjgGrant = await grantFor(scjg, ['id_number', 'name']);

  const page = await newPage();
  await signIn(page, 'scjg_steward');
  await page.goto(`/#/resources/${encodeURIComponent(journey.code)}/records`);
  await page.getByLabel(/id_number/).fill(idNumber(2));
  await page.getByRole('button', { name: '查询', exact: true }).click();
  await page.getByRole('heading', { level: 2, name: '对此记录提出数据异议' }).waitFor();
  await page.getByRole('button', { name: '提出异议' }).click();
  await page.getByText('请填写：数据项、理由。').waitFor();
  await page.getByLabel('数据项', { exact: true }).selectOption('name');
  await page.getByLabel('建议值').fill('李四光');
  await page.getByLabel('理由').fill('与本局登记的法定代表人姓名不一致');
  await page.getByRole('button', { name: '提出异议' }).click();
  const filed = page.getByText(/已提出异议 OB\d+/);
  await filed.waitFor();
  const objection = (await filed.innerText()).match(/OB\d+/)[0];
  const ob = await srv.call('GET', `/api/v1/objections/${objection}`, { token: gaj });
  assert.equal(ob.json.status, 'open');
  assert.equal(ob.json.item, 'name');
  assert.equal(ob.json.proposed_value, '李四光');
  await shot(page, '34-objection-filed');

  await nav(page, '订阅').click();
  await page.getByRole('heading', { level: 2, name: '新建订阅' }).waitFor();
  await page.getByLabel('授权编号').selectOption(scjgGrant);
  await page.getByLabel('推送地址').fill('http://169.254.169.254/latest');
  await page.getByRole('button', { name: '新建订阅' }).click();
  await page.getByRole('alert').getByText(/--egress-deny/).waitFor();
  const before = await srv.call('GET', '/api/v1/subscriptions', { token: scjg });
  assert.ok(!before.json.items.some((x) => x.url.includes('169.254')), 'the refused subscription was not made');
  await page.getByLabel('推送地址').fill('http://127.0.0.1:9/console-hook');
  await page.getByRole('button', { name: '新建订阅' }).click();
  const secret = page.locator('code.secret');
  await secret.waitFor();
  assert.ok((await secret.innerText()).length >= 16);
  const sub = (await page.getByText(/已创建订阅 SB\d{8}/).innerText()).match(/SB\d{8}/)[0];
  const got = await srv.call('GET', `/api/v1/subscriptions/${sub}`, { token: scjg });
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.grant_id, scjgGrant);
  await shot(page, '35-subscription-created');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: `删除订阅 ${sub}` }).click();
  await page.getByText('订阅已删除，不再推送。').waitFor();
  assert.equal(await page.getByRole('button', { name: `删除订阅 ${sub}` }).count(), 0);
  assert.equal((await srv.call('GET', `/api/v1/subscriptions/${sub}`, { token: scjg })).status, 404);
  await shot(page, '36-subscription-deleted');
  await page.context().close();

  // A steward of the data bureau revokes a grant between two other departments.
  const rsjGrant = await grantFor(rsj, ['id_number']);
  const bureau = await newPage();
  await signIn(bureau, 'dsj_steward');
  await nav(bureau, '共享授权').click();
  const row = bureau.getByRole('row', { name: new RegExp(rsjGrant) });
  await row.getByRole('textbox').fill('数据局核查：超出共享条件');
  bureau.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: '撤销' }).click();
  await bureau.getByRole('row', { name: new RegExp(`${rsjGrant}.*已撤销`) }).waitFor();
  const revoked = await srv.call('GET', `/api/v1/grants/${rsjGrant}`, { token: gaj });
  assert.equal(revoked.json.status, 'revoked');
  assert.equal(revoked.json.revoke_reason, '数据局核查：超出共享条件');
  await shot(bureau, '37-bureau-revokes');
  await bureau.context().close();
});

test('a provider registers a service; a consumer is granted it and calls it; the provider sees the statistics and verifies the call', async () => {
  const GAJ = orgOf(srv.accounts, 'gaj_steward');
  const SCJG = orgOf(srv.accounts, 'scjg_steward');
  const gaj = await srv.login('gaj_steward');
  // The provider's own system: a small HTTP server on loopback.
  const seen = [];
  const providerSystem = http.createServer((req, res) => {
    if (req.url !== '/health') seen.push({ method: req.method, url: req.url, client: req.headers['x-yiwang-client'] });
    if (req.url === '/health') return res.writeHead(200).end('ok');
    if (req.url.startsWith('/licences/')) {
      return res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: req.url.slice(10), valid: true }));
    }
    return res.writeHead(404).end();
  });
  await new Promise((resolve) => providerSystem.listen(0, '127.0.0.1', resolve));
  try {
    const made = await srv.call('POST', '/api/v1/resources', { token: gaj, body: {
      name: '证件核验接口', provider_org: GAJ, summary: '经统一接入核验出入境证件', category: 'department', format: 'api',
      share_type: 'conditional', share_condition: '依法履职', share_method: 'api', open_type: 'closed',
      update_cycle: 'realtime', key_item: 'service', items: ['service', 'get_licence'].map((name) => ({ name, type: 'C' })),
    } });
    assert.equal(made.status, 201, made.text);
    const resource = made.json.code;
    assert.equal((await srv.call('POST', `/api/v1/resources/${resource}/publish`, { token: gaj })).status, 200);
    const count = async () => (await srv.call('GET', '/api/v1/services?limit=1000', { token: gaj })).json.items.length;
    const before = await count();

    const page = await newPage();
    await signIn(page, 'gaj_steward');
    await nav(page, '统一接入').click();
    await page.getByRole('heading', { level: 1, name: '接入服务目录' }).waitFor();
    await page.getByRole('link', { name: '登记服务' }).first().click();
    await page.getByRole('heading', { level: 1, name: '登记服务' }).waitFor();
    await page.getByLabel('服务编码').fill('licence-check');
    await page.getByLabel('名称', { exact: true }).fill('出入境证件核验服务');
    await page.getByLabel('说明').fill('按证件号核验出入境证件是否有效');
    await page.getByLabel('健康检查路径').fill('/health');
    await page.getByLabel('接口资源').selectOption(resource);
    // Refused: a base URL that is not http(s). The problem is shown and nothing is registered.
    await page.getByLabel('提供方系统地址').fill(`ftp://127.0.0.1:${providerSystem.address().port}/`);
    await page.getByRole('button', { name: '登记', exact: true }).click();
    const refused = page.getByRole('alert');
    await refused.waitFor();
    assert.match(await refused.innerText(), /base_url/);
    assert.match(await refused.innerText(), /请按提示修改/);
    await shot(page, '30-service-refused');
    assert.equal(await count(), before, 'a refused registration changes nothing');
    // A paste that is not JSON is caught before it is sent.
    await page.getByLabel('提供方系统地址').fill(`http://127.0.0.1:${providerSystem.address().port}/`);
    await page.getByLabel(/OpenAPI 3 文档/).fill('{ not json');
    await page.getByRole('button', { name: '登记', exact: true }).click();
    await page.getByRole('alert').getByText(/不是有效的 JSON/).waitFor();
    assert.equal(await count(), before);
    await page.getByLabel('或选择文件').setInputFiles({ name: 'openapi.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({
      openapi: '3.0.3', info: { title: '证件核验', version: '1' },
      paths: { '/licences/{id}': { get: { operationId: 'getLicence', responses: { 200: { description: '证件状态' } } } } },
    })) });
    await page.waitForFunction(() => document.querySelector('textarea[name="openapi"]').value.includes('getLicence'));
    await shot(page, '31-service-register');
    await page.getByRole('button', { name: '登记', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: '出入境证件核验服务' }).waitFor();
    const serviceId = page.url().match(/SV\d{8}/)[0];
    assert.equal(await count(), before + 1);
    assert.match(await page.locator('#call-address').innerText(), new RegExp(`/x/${GAJ}/licence-check/…$`));
    await page.getByRole('row', { name: /get_licence\s+GET\s+\/licences\/\{id\}/ }).waitFor();
    await page.getByText('这是本部门的服务').waitFor(); // the provider is offered no request of its own service
    await shot(page, '32-service-detail-provider');
    await page.getByRole('link', { name: '查看文档' }).click();
    assert.match(await page.locator('#openapi-doc').innerText(), /"operationId": "getLicence"/);
    await page.context().close();

    // The consumer's steward finds it in the directory and requests the right to call it.
    const consumer = await newPage();
    await signIn(consumer, 'scjg_steward');
    await nav(consumer, '统一接入').click();
    await consumer.getByRole('link', { name: '本部门可调用的' }).click();
    await consumer.getByText('本部门还没有可调用的服务。').waitFor();
    await consumer.getByRole('link', { name: '全部服务' }).first().click();
    await consumer.getByRole('link', { name: '查看服务「出入境证件核验服务」' }).click();
    await consumer.getByRole('heading', { level: 1, name: '出入境证件核验服务' }).waitFor();
    assert.equal(await consumer.getByText('提供方系统地址').count(), 0, 'a consumer does not see the provider\'s address');
    assert.equal(await consumer.getByRole('link', { name: '运行统计与调用记录' }).count(), 0, 'nor its statistics');
    await shot(consumer, '33-service-detail-consumer');
    await consumer.getByRole('link', { name: '申请调用权限' }).click();
    await consumer.getByLabel('用途').fill('企业登记时核验出入境证件');
    await consumer.getByLabel('依据').fill('《市场主体登记管理条例》');
    await consumer.getByLabel('应用场景').fill('企业设立登记');
    await consumer.getByRole('button', { name: '提交申请' }).click();
    await consumer.getByRole('heading', { level: 1, name: /^共享申请 SR\d{8}$/ }).waitFor();
    const requestId = (await consumer.getByRole('heading', { level: 1 }).innerText()).match(/SR\d{8}/)[0];
    const approved = await srv.call('POST', `/api/v1/share-requests/${requestId}/approve`, { token: gaj });
    assert.equal(approved.status, 200, approved.text);
    await nav(consumer, '统一接入').click();
    await consumer.getByRole('link', { name: '本部门可调用的' }).click();
    await consumer.getByRole('link', { name: '查看服务「出入境证件核验服务」' }).waitFor();
    await shot(consumer, '34-services-callable');
    await consumer.context().close();

    // The consumer's system calls through the hub with its client secret.
    const client = srv.accounts.clients.find((c) => c.id.startsWith(`${SCJG}/`));
    const called = await srv.call('GET', `/x/${GAJ}/licence-check/licences/E12345678`, { token: client.secret });
    assert.equal(called.status, 200, called.text);
    assert.equal(called.json.id, 'E12345678');
    assert.equal(seen.at(-1).client, client.id);

    // The provider sees the statistics and the call, and verifies the call's proof.
    const provider = await newPage();
    await signIn(provider, 'gaj_steward');
    await provider.goto(`/#/services/${serviceId}`);
    await provider.getByRole('link', { name: '运行统计与调用记录' }).click();
    await provider.getByRole('heading', { level: 1, name: '出入境证件核验服务：运行情况' }).waitFor();
    await provider.locator('#stats-total').getByText('共 1 次调用').waitFor();
    const perConsumer = provider.getByRole('table', { name: '按调用部门统计' });
    assert.match(await perConsumer.getByRole('row', { name: /市场监督管理局/ }).innerText(), /市场监督管理局\s+1\s+0\s+\d+ ms/);
    await shot(provider, '35-service-stats');
    await provider.getByRole('table', { name: '调用记录' }).getByRole('link').first().click();
    await provider.getByRole('heading', { level: 1, name: /^调用 / }).waitFor();
    for (let i = 0; i < 10 && await provider.getByRole('button', { name: '重试' }).count(); i++) {
      await provider.waitForTimeout(500);
      await provider.getByRole('button', { name: '重试' }).click();
      await provider.getByRole('heading', { level: 1 }).waitFor();
    }
    await provider.getByText('service.call').first().waitFor();
    assert.match(await provider.locator('#entry-matches').innerText(), /条目与此次调用一致/);
    await provider.getByRole('button', { name: '在浏览器中验证' }).click();
    const verdict = provider.locator('#proof-result');
    await verdict.waitFor();
    assert.match(await verdict.innerText(), /验证通过/);
    await shot(provider, '36-service-call-proof');
    journey.service = serviceId;
    journey.call = decodeURIComponent(provider.url().split('/calls/')[1]);
    await provider.context().close();

    // The data bureau oversees every service: it sees the statistics. Another department's
    // monitor sees the service but is offered neither registration nor statistics.
    const bureau = await newPage();
    await signIn(bureau, 'dsj_steward');
    await bureau.goto(`/#/services/${serviceId}`);
    await bureau.getByRole('link', { name: '运行统计与调用记录' }).click();
    await bureau.locator('#stats-total').getByText('共 1 次调用').waitFor();
    await bureau.getByRole('table', { name: '调用记录' }).getByRole('link').first().waitFor();
    await bureau.context().close();
    const monitor = await newPage();
    await signIn(monitor, 'jtj_monitor');
    await nav(monitor, '统一接入').click();
    await monitor.getByRole('link', { name: /^licence-check/ }).click();
    await monitor.getByRole('heading', { level: 1, name: '出入境证件核验服务' }).waitFor();
    assert.equal(await monitor.getByRole('link', { name: '登记服务' }).count(), 0);
    assert.equal(await monitor.getByRole('link', { name: '运行统计与调用记录' }).count(), 0);
    assert.equal(await monitor.getByRole('link', { name: '调用记录' }).count(), 0);
    assert.equal(await monitor.getByRole('link', { name: '申请调用权限' }).count(), 0, 'only a steward requests');
    await monitor.getByText('请本部门的数据专员提出申请。').waitFor();
    assert.equal((await srv.call('GET', `/api/v1/services/${serviceId}/stats`, { token: await srv.login('jtj_monitor') })).status, 404,
      'the server agrees (another org\'s statistics are not found)');
    await monitor.context().close();

    // In English on a phone: the service's page fits the screen.
    const phone = await newPage({ phone: true });
    await signIn(phone, 'gaj_steward');
    await phone.getByLabel('语言').selectOption('en');
    await phone.goto(`/#/services/${serviceId}`);
    await phone.getByRole('heading', { level: 2, name: 'How to get the right to call' }).waitFor();
    const wider = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(wider <= 0, `the service page is ${wider}px wider than the phone`);
    await shot(phone, '37-phone-service-en');
    await phone.context().close();

    // The provider's system goes away: two unreachable calls mark it down, the next fails fast,
    // and the provider's home page and the directory say so.
    await new Promise((resolve) => { providerSystem.closeAllConnections(); providerSystem.close(resolve); });
    for (let i = 0; i < 2; i++) {
      const lost = await srv.call('GET', `/x/${GAJ}/licence-check/licences/E1`, { token: client.secret });
      assert.ok([502, 503].includes(lost.status), lost.text);
    }
    const fast = await srv.call('GET', `/x/${GAJ}/licence-check/licences/E1`, { token: client.secret });
    assert.equal(fast.status, 503, fast.text);
    assert.equal(fast.json.code, 'provider_down');
    const home = await newPage();
    await signIn(home, 'gaj_steward');
    const servicesPanel = home.locator('section.panel', { has: home.getByRole('heading', { name: '本部门登记的服务' }) });
    assert.match(await servicesPanel.getByRole('row', { name: /licence-check/ }).innerText(), /不可用/);
    await shot(home, '38-home-service-down');
    await servicesPanel.getByRole('link', { name: 'licence-check' }).click();
    await home.getByText('提供方系统未通过健康检查').waitFor();
    await home.context().close();
  } finally {
    if (providerSystem.listening) await new Promise((resolve) => { providerSystem.closeAllConnections(); providerSystem.close(resolve); });
  }
});

test('pages pass the axe-core WCAG 2 A and AA checks', async () => {
  assert.ok(journey.code && journey.request && journey.seq && journey.service, 'the journey ran');
  // axe is injected as a script of its own, which the console's CSP rightly refuses: this
  // context alone bypasses it (the CSP itself is tested above and on every other page).
  const context = await browser.newContext({ baseURL: srv.base, locale: 'zh-CN', viewport: { width: 1280, height: 800 }, bypassCSP: true });
  const page = await context.newPage();
  const axePath = join(REPO, 'tests/browser/node_modules/axe-core/axe.min.js');
  const check = async (route, ready) => {
    await page.goto(`/#${route}`);
    await ready();
    await page.addScriptTag({ path: axePath });
    const found = await page.evaluate(async () => {
      const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    });
    return found.map((v) => `${route}: ${v}`);
  };
  const h1 = (name) => () => page.getByRole('heading', { level: 1, name }).waitFor();
  const violations = [];
  violations.push(...await check('/signin', h1('登录一网')));
  await signIn(page, 'gaj_steward');
  violations.push(...await check('/', h1(/你好/)));
  violations.push(...await check('/catalog', h1('资源目录')));
  violations.push(...await check(`/resources/${encodeURIComponent(journey.code)}`, h1(journey.name)));
  violations.push(...await check('/resources/new', h1('新建资源')));
  violations.push(...await check(`/resources/${encodeURIComponent(journey.code)}/import`, h1(/导入/)));
  violations.push(...await check(`/resources/${encodeURIComponent(journey.code)}/records`, h1(/查询/)));
  violations.push(...await check('/account', h1('我的账号')));
  violations.push(...await check('/requests?role=', h1('共享申请')));
  violations.push(...await check(`/requests/${journey.request}`, h1(`共享申请 ${journey.request}`)));
  violations.push(...await check('/grants', h1('共享授权')));
  violations.push(...await check('/objections', h1('数据异议')));
  violations.push(...await check('/subscriptions', h1('变更订阅')));
  violations.push(...await check('/conflicts', h1('数据冲突')));
  violations.push(...await check('/elements', h1('数据元')));
  violations.push(...await check('/elements/id_number', h1(/^数据元「/)));
  violations.push(...await check(`/orgs/${orgOf(srv.accounts, 'gaj_steward')}`, h1('市公安局')));
  violations.push(...await check('/services', h1('接入服务目录')));
  violations.push(...await check('/services/new', h1('登记服务')));
  violations.push(...await check(`/services/${journey.service}`, h1('出入境证件核验服务')));
  violations.push(...await check(`/services/${journey.service}/stats`, h1(/运行情况/)));
  violations.push(...await check(`/services/${journey.service}/calls/${encodeURIComponent(journey.call)}`, h1(/^调用 /)));
  await signOut(page);
  await signIn(page, 'gaj_admin');
  violations.push(...await check('/users', h1('用户')));
  violations.push(...await check('/users/gaj_clerk', h1(/窗口/)));
  await signOut(page);
  await signIn(page, 'demo_auditor');
  violations.push(...await check('/audit', h1('审计日志')));
  violations.push(...await check(`/audit/${journey.seq}`, h1(`审计条目 #${journey.seq}`)));
  // The checker itself finds a fault when there is one: an input without a label.
  await page.evaluate(() => document.getElementById('main').append(document.createElement('input')));
  const planted = await page.evaluate(async () => (await window.axe.run(document, { runOnly: { type: 'rule', values: ['label'] } })).violations.length);
  assert.equal(planted, 1, 'axe reports an unlabelled input');
  await context.close();
  assert.deepEqual(violations, []);
});

test('no page logged an error or a Content-Security-Policy violation', () => {
  // (refusals the tests provoke on purpose are logged by the browser as failed loads)
  assert.deepEqual(problems.filter((p) => !/the server responded with a status of 4[0-9][0-9]/.test(p)), []);
});
