// The resource catalog: a steward describes a resource as a draft, completes
// and publishes it; published metadata is versioned with its history; drafts
// are invisible outside the provider; bad metadata is refused and changes
// nothing; every change is an audit entry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, orgOf } from './lib/server.mjs';
import { assertProblem } from './lib/util.mjs';

let srv, gaj, scjg, GAJ, SCJG;
before(async () => {
  srv = await startServer();
  gaj = await srv.login('gaj_steward');
  scjg = await srv.login('scjg_steward');
  GAJ = orgOf(srv.accounts, 'gaj_steward');
  SCJG = orgOf(srv.accounts, 'scjg_steward');
});
after(() => srv?.stop());

const population = () => ({
  name: '人口基本信息', provider_org: GAJ, summary: '本市户籍人口的基本信息', category: 'base', format: 'table',
  share_type: 'conditional', share_method: 'api', open_type: 'closed', update_cycle: 'daily', key_item: 'id_number',
  items: [
    { name: 'id_number', title: '公民身份号码', element: 'id_number', required: true },
    { name: 'name', title: '姓名', element: 'name', required: true },
    { name: 'birth_date', element: 'birth_date' },
    { name: 'hukou_note', title: '户籍备注', type: 'M', sensitivity: 'L2' },
  ],
});

test('a steward drafts, completes, publishes and revises a resource; versions are kept', async () => {
  const made = await srv.call('POST', '/api/v1/resources', { token: gaj, body: population() });
  assert.equal(made.status, 201, made.text);
  const code = made.json.code;
  assert.match(code, new RegExp(`^${GAJ}-\\d{6}$`));
  assert.equal(made.headers.get('location'), `/api/v1/resources/${code}`);
  assert.deepEqual([made.json.status, made.json.version, made.json.published_at], ['draft', 0, null]);
  // items bound to elements take the element's definition
  const id = made.json.items[0];
  assert.deepEqual([id.type, id.length, id.sensitivity, id.mask], ['C', 18, 'L3', 'id_card']);
  assert.deepEqual([made.json.items[3].type, made.json.items[3].mask], ['M', 'none']);

  // a conditional resource needs its condition before it can be published
  assertProblem(await srv.call('POST', `/api/v1/resources/${code}/publish`, { token: gaj }), 422, 'incomplete',
    /share_condition/);
  const patched = await srv.call('PATCH', `/api/v1/resources/${code}`, { token: gaj,
    body: { share_condition: '仅用于法定职责范围内的身份核验' } });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.json.version, 0, 'editing a draft does not make a version');
  const published = await srv.call('POST', `/api/v1/resources/${code}/publish`, { token: gaj });
  assert.equal(published.status, 200, published.text);
  assert.deepEqual([published.json.status, published.json.version], ['published', 1]);
  assert.match(published.json.published_at, /Z$/);
  assertProblem(await srv.call('POST', `/api/v1/resources/${code}/publish`, { token: gaj }), 409, 'wrong_state');

  const revised = await srv.call('PATCH', `/api/v1/resources/${code}`, { token: gaj, body: { summary: '修订后的摘要' } });
  assert.equal(revised.status, 200);
  assert.equal(revised.json.version, 2);
  const history = await srv.call('GET', `/api/v1/resources/${code}/versions`, { token: scjg });
  assert.equal(history.status, 200);
  assert.deepEqual(history.json.items.map((v) => [v.version, v.metadata.summary]),
    [[1, '本市户籍人口的基本信息'], [2, '修订后的摘要']]);
  // a published resource cannot lose what publishing required
  assertProblem(await srv.call('PATCH', `/api/v1/resources/${code}`, { token: gaj, body: { key_item: 'nope' } }), 422,
    'validation_failed', /key_item/);

  const retired = await srv.call('POST', `/api/v1/resources/${code}/retire`, { token: gaj });
  assert.equal(retired.json.status, 'retired');
  assertProblem(await srv.call('PATCH', `/api/v1/resources/${code}`, { token: gaj, body: { summary: 'x' } }), 409, 'retired');
  assertProblem(await srv.call('GET', `/api/v1/resources/${code}`, { token: scjg }), 404, 'not_found');

  const auditor = await srv.login('demo_auditor');
  const events = await srv.call('GET', `/api/v1/audit/events?object=${code}&limit=1000`, { token: auditor });
  assert.deepEqual(events.json.items.map((e) => [e.action, e.status]), [
    ['resource.create', 201], ['resource.publish', 422], ['resource.update', 200], ['resource.publish', 200],
    ['resource.publish', 409], ['resource.update', 200], ['resource.update', 422], ['resource.retire', 200],
    ['resource.update', 409]]);
});

test('drafts are the provider\'s business; lists show published resources and one\'s own drafts', async () => {
  const draft = (await srv.call('POST', '/api/v1/resources', { token: gaj, body: { name: '草稿资源', provider_org: GAJ } })).json;
  assertProblem(await srv.call('GET', `/api/v1/resources/${draft.code}`, { token: scjg }), 404, 'not_found');
  assertProblem(await srv.call('PATCH', `/api/v1/resources/${draft.code}`, { token: scjg, body: { summary: 'x' } }), 404,
    'not_found');
  const theirs = await srv.call('GET', `/api/v1/resources?provider=${GAJ}&limit=1000`, { token: scjg });
  assert.ok(theirs.json.items.every((r) => r.status === 'published'));
  const mine = await srv.call('GET', '/api/v1/resources?status=draft&limit=1000', { token: gaj });
  assert.ok(mine.json.items.some((r) => r.code === draft.code));
  assert.ok(mine.json.items.every((r) => r.provider_org === GAJ));
  // another org's steward cannot describe gaj's resources
  assertProblem(await srv.call('POST', '/api/v1/resources', { token: scjg, body: { name: '越权', provider_org: GAJ } }), 403,
    'forbidden');
  const filtered = await srv.call('GET', '/api/v1/resources?category=nonsense', { token: gaj });
  assertProblem(filtered, 400, 'invalid_request');
});

test('bad metadata is refused and changes nothing', async () => {
  const count = async () => (await srv.call('GET', '/api/v1/resources?status=draft&limit=1000', { token: gaj })).json.items.length;
  const before = await count();
  const base = population();
  const cases = [
    [{ ...base, category: 'misc' }, 422, /category/],
    [{ ...base, share_type: 'sometimes' }, 422, /share_type/],
    [{ ...base, items: [{ name: 'Bad Name' }] }, 422, /items\[0\]/],
    [{ ...base, items: [{ name: 'a', element: 'no_such_element' }] }, 422, /no element/],
    [{ ...base, items: [{ name: 'a', type: 'C' }, { name: 'a', type: 'C' }] }, 422, /twice/],
    [{ ...base, items: [{ name: 'a', type: 'Q' }] }, 422, /type/],
    [{ ...base, items: [{ name: 'a', colour: 'red' }] }, 422, /unknown field/],
    [{ ...base, provider_org: SCJG }, 403, null],
    [{ ...base, owner: 'me' }, 400, /unknown field/],
    [{ name: '无提供方' }, 400, /provider_org/],
  ];
  for (const [body, status, detail] of cases) {
    const res = await srv.call('POST', '/api/v1/resources', { token: gaj, body });
    assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 80)}: ${res.text}`);
    if (detail) assert.match(res.json.detail, detail);
  }
  assert.equal(await count(), before);
});

test('Chinese full-text search: two-character words, one character, ranking by name, drafts of others hidden', async () => {
  const mine = new Set(); // the demo city's catalog is there too: look only at what this test made
  const make = async (token, body, publish = true) => {
    const r = await srv.call('POST', '/api/v1/resources', { token, body });
    mine.add(r.json?.code);
    assert.equal(r.status, 201, r.text);
    if (publish) {
      const p = await srv.call('POST', `/api/v1/resources/${r.json.code}/publish`, { token });
      assert.equal(p.status, 200, p.text);
    }
    return r.json.code;
  };
  const full = (name, summary, provider, items) => ({
    name, provider_org: provider, summary, category: 'department', format: 'table', share_type: 'unconditional',
    share_method: 'api', open_type: 'closed', update_cycle: 'daily', key_item: items[0].name, items,
  });
  const idItem = [{ name: 'id_number', title: '公民身份号码', element: 'id_number' }];
  const social = await make(scjg, full('社保缴费记录', '职工社会保险缴费明细', SCJG, idItem));
  const byName = await make(gaj, full('户籍迁移登记', '户口迁入迁出的登记信息', GAJ, idItem));
  const bySummary = await make(scjg, full('企业年报', '包括户籍所在地等股东信息', SCJG,
    [{ name: 'uscc', title: '统一社会信用代码', element: 'uscc' }]));
  const hiddenDraft = await make(scjg, full('户籍草稿', '未发布', SCJG, idItem), false);

  const search = async (q, token = gaj) => {
    const res = await srv.call('GET', `/api/v1/resources?q=${encodeURIComponent(q)}&limit=100`, { token });
    assert.equal(res.status, 200, res.text);
    return res.json.items.map((r) => r.code).filter((c) => mine.has(c));
  };
  const hukou = await search('户籍');
  assert.ok(hukou.includes(byName) && hukou.includes(bySummary), hukou.join());
  assert.ok(!hukou.includes(hiddenDraft), 'another org\'s draft is not found');
  assert.ok(hukou.indexOf(byName) < hukou.indexOf(bySummary), 'a name match ranks first');
  assert.ok((await search('户籍', scjg)).includes(hiddenDraft), 'one\'s own draft is found');
  assert.deepEqual(await search('社保'), [social]);
  assert.ok((await search('保')).includes(social), 'one character');
  assert.ok((await search('信用代码')).includes(bySummary), 'item titles are searched');
  assert.ok((await search('市场监督')).includes(social), 'the provider\'s name is searched');
  assert.deepEqual(await search('户籍 年报'), [bySummary], 'every term must match');
  assert.deepEqual(await search('籍户'), [], 'characters in another order do not match');
  assert.deepEqual(await search('" OR * NEAR('), [], 'query syntax is text');
  const mixed = await make(gaj, full('电子证照API接口', '提供 License 核验服务', GAJ, idItem));
  assert.deepEqual(await search('API接口'), [mixed], 'Chinese and English in one term');
  assert.deepEqual(await search('license 核验'), [mixed], 'English words match without case');
  assert.deepEqual(await search('API 证照'), [mixed]);
  assertProblem(await srv.call('GET', '/api/v1/resources?q=%20%20', { token: gaj }), 400, 'invalid_request');
  // the filters still apply
  const filtered = await srv.call('GET',
    `/api/v1/resources?q=${encodeURIComponent('户籍')}&provider=${GAJ}&status=published`, { token: gaj });
  assert.deepEqual(filtered.json.items.map((r) => r.code).filter((c) => mine.has(c)), [byName]);
});

test('search pages through every match once, name matches first, exactly as a substring scan finds them', async () => {
  const term = '琥珀'; // in no demo resource
  const resource = (name, summary, provider, extra = {}) => ({
    name, provider_org: provider, summary, category: 'department', format: 'table', share_type: 'unconditional',
    share_method: 'api', open_type: 'closed', update_cycle: 'daily', key_item: 'id_number',
    items: [{ name: 'id_number', title: '公民身份号码', element: 'id_number' }], ...extra,
  });
  const make = async (token, body, publish = true) => {
    const r = await srv.call('POST', '/api/v1/resources', { token, body });
    assert.equal(r.status, 201, r.text);
    if (publish) assert.equal((await srv.call('POST', `/api/v1/resources/${r.json.code}/publish`, { token })).status, 200);
    return r.json.code;
  };
  await make(gaj, resource('琥珀档案信息', '一般的摘要', GAJ));
  await make(scjg, resource('城市琥珀矿产名录', '矿产数据', SCJG, { category: 'theme', format: 'file' }));
  const exact = await make(gaj, resource('琥珀', '琥珀琥珀琥珀', GAJ));
  const amberApi = await make(scjg, resource('普通名称甲', '含有琥珀的摘要', SCJG, { format: 'api' }));
  await make(gaj, resource('普通名称乙', '摘要里说到琥珀色', GAJ, { share_type: 'conditional', share_condition: '依申请' }));
  await make(gaj, resource('普通名称丙', '另一条摘要', GAJ,
    { items: [{ name: 'amber_grade', title: '琥珀等级', type: 'C', length: 8 }], key_item: 'amber_grade' }));
  await make(scjg, resource('琥 珀 分开写', '两个字不相连', SCJG));
  await make(gaj, resource('珀琥倒过来', '顺序相反', GAJ));
  const scjgDraft = await make(scjg, resource('琥珀草稿', '尚未发布', SCJG), false);

  // the reference: every resource the caller may see, scanned for the term
  const visible = async (token) => (await srv.call('GET', '/api/v1/resources?limit=1000', { token })).json.items;
  const texts = (r) => [r.summary ?? '', ...(r.items ?? []).flatMap((i) => [i.name, i.title ?? ''])];
  const scan = (all, filter = () => true) => {
    const hits = all.filter(filter).filter((r) => r.name.includes(term) || texts(r).some((t) => t.includes(term)));
    return { byName: new Set(hits.filter((r) => r.name.includes(term)).map((r) => r.code)),
      all: new Set(hits.map((r) => r.code)) };
  };
  const pages = async (token, extra = '') => {
    const codes = [];
    let cursor = null, n = 0;
    do {
      const url = `/api/v1/resources?q=${encodeURIComponent(term)}&limit=2${extra}${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await srv.call('GET', url, { token });
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.items.length <= 2);
      codes.push(...res.json.items.map((r) => r.code));
      cursor = res.json.next_cursor;
      assert.ok(++n < 50, 'paging ends');
    } while (cursor);
    return codes;
  };
  const check = async (token, extra = '', filter = undefined) => {
    const codes = await pages(token, extra);
    const expected = scan(await visible(token), filter);
    assert.equal(new Set(codes).size, codes.length, `no result twice: ${codes.join()}`);
    assert.deepEqual(new Set(codes), expected.all, 'recall and precision of a substring scan');
    const firstOther = codes.findIndex((c) => !expected.byName.has(c));
    assert.ok(firstOther === -1 || codes.slice(firstOther).every((c) => !expected.byName.has(c)),
      `name matches first: ${codes.join()}`);
    return codes;
  };
  const everyone = await check(gaj);
  assert.equal(everyone.length, 6);
  assert.equal(everyone[0], exact, 'the resource named just the term, and about it, ranks first');
  assert.ok(!everyone.includes(scjgDraft));
  assert.ok((await check(scjg)).includes(scjgDraft), 'one\'s own draft is found');
  await check(gaj, '&category=theme', (r) => r.category === 'theme');
  await check(gaj, '&share_type=conditional', (r) => r.share_type === 'conditional');
  assert.deepEqual(await check(gaj, '&format=api', (r) => r.format === 'api'), [amberApi]);
  await check(gaj, '&format=file', (r) => r.format === 'file');
  await check(gaj, '&format=table&category=department', (r) => r.format === 'table' && r.category === 'department');
  // the same filter without search terms
  const apis = (await srv.call('GET', '/api/v1/resources?format=api&limit=1000', { token: gaj })).json.items;
  assert.ok(apis.length >= 1 && apis.every((r) => r.format === 'api') && apis.some((r) => r.code === amberApi));
  assertProblem(await srv.call('GET', '/api/v1/resources?format=pdf', { token: gaj }), 400, 'invalid_request');
  await check(gaj, `&provider=${SCJG}`, (r) => r.provider_org === SCJG);
  await check(scjg, '&status=draft', (r) => r.status === 'draft');
  await check(gaj, '&status=published', (r) => r.status === 'published');
  assert.deepEqual(await pages(gaj, '&provider=nonsense'), []);

  // publishing and retiring change who finds a resource at once
  assert.equal((await srv.call('POST', `/api/v1/resources/${scjgDraft}/publish`, { token: scjg })).status, 200);
  assert.ok((await check(gaj)).includes(scjgDraft), 'found by everyone once published');
  assert.equal((await srv.call('POST', `/api/v1/resources/${scjgDraft}/retire`, { token: scjg })).status, 200);
  assert.ok(!(await check(gaj)).includes(scjgDraft), 'retired: no longer found by others');
  assert.ok((await check(scjg, '&status=retired', (r) => r.status === 'retired')).includes(scjgDraft));

  // a cursor this server did not make
  for (const bad of ['zz', Buffer.from('xr:5').toString('base64url'), Buffer.from('nr:-1').toString('base64url')]) {
    assertProblem(await srv.call('GET', `/api/v1/resources?q=${encodeURIComponent(term)}&cursor=${bad}`, { token: gaj }),
      400, 'invalid_request');
  }
});

test('the demo city publishes twelve resources across the base libraries and departments, with valid data', async () => {
  const all = await srv.call('GET', '/api/v1/resources?status=published&limit=1000', { token: gaj });
  const demo = all.json.items.filter((r) => /-1000\d\d$/.test(r.code));
  assert.equal(demo.length, 12);
  assert.ok(new Set(demo.map((r) => r.provider_org)).size >= 10, 'from ten departments');
  assert.deepEqual([...new Set(demo.filter((r) => r.category === 'base').map((r) => r.name))].sort(),
    ['人口基本信息', '企业基本信息', '营业执照'].sort());
  const people = demo.find((r) => r.name === '人口基本信息');
  assert.equal(people.provider_org, GAJ);
  const found = await srv.call('GET', `/api/v1/resources?q=${encodeURIComponent('人口')}`, { token: scjg });
  assert.ok(found.json.items.some((r) => r.code === people.code), 'the demo catalog is searchable');
  // its records went through validation (valid check digits) and loading them is audited
  const firms = demo.find((r) => r.name === '企业基本信息');
  assert.equal(firms.key_item, 'uscc');
  const audit = await srv.login('demo_auditor');
  const batch = await srv.call('GET', `/api/v1/audit/events?action=record.import&object=${firms.code}`, { token: audit });
  assert.ok(batch.json.items.length >= 1, 'loading the data is audited');
  assert.deepEqual([batch.json.items[0].actor, batch.json.items[0].actor_kind], ['yiwang demo', 'system']);
});
