// Table-driven authorisation: every route of the server, called by every
// kind of caller, answers exactly the status the table says.
//
// The table must list every route of every yw_route table under src/ (each
// module's src/<module>/module.c, and src/app/meta.c): the first test fails
// when a route exists in the source but not here (or the other way round),
// so a new route cannot ship without its authorisation rows.
//
// Callers: the three platform administrators from init (after their forced
// password change), the demo users of each org role, a department client
// (the 公安局 exchange system), a forged session token, and no credential.
// Objects belong to the 公安局 (gaj) unless a row says otherwise; objects of
// another org answer 404 to callers who would have no right to them anyway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, orgOf } from './lib/server.mjs';
import { assertProblem, makeUscc, sourceRoutes, totpCode } from './lib/util.mjs';

const CALLERS = ['sysadmin', 'secadmin', 'auditor', 'org_admin', 'steward', 'clerk', 'inspector', 'dispatcher',
  'monitor', 'client', 'forged', 'none'];
const PLATFORM = ['sysadmin', 'secadmin', 'auditor'];
const DEMO_USER = {
  org_admin: 'gaj_admin', steward: 'gaj_steward', clerk: 'gaj_clerk', inspector: 'scjg_inspector',
  dispatcher: 'yjj_dispatcher', monitor: 'jtj_monitor',
};
const USERS = [...PLATFORM, ...Object.keys(DEMO_USER)];

let srv;
const token = {};      // caller -> bearer secret
const username = {};   // user caller -> username
const password = {};   // user caller -> current password
let GAJ, SCJG, BUREAU;
const fx = {};         // fixtures made in before()

let seq = 0;
const uniq = (prefix) => `${prefix}${Date.now().toString(36)}${(seq++).toString(36)}`;

async function ok(res, status, what) {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`);
  return res.json;
}

/** A gaj resource made by the gaj steward, a draft or published; returns its code. */
async function newResource(publish, shareType = 'unconditional') {
  const body = {
    name: uniq('授权资源'), provider_org: GAJ, summary: '授权测试', category: 'department', format: 'table',
    share_type: shareType, share_condition: '授权测试', share_method: 'api', open_type: 'closed', update_cycle: 'daily',
    key_item: 'id_number', items: [{ name: 'id_number', element: 'id_number', required: true }],
  };
  const made = await ok(await srv.call('POST', '/api/v1/resources', { token: token.steward, body }), 201, 'fixture resource');
  if (publish)
    await ok(await srv.call('POST', `/api/v1/resources/${made.code}/publish`, { token: token.steward }), 200, 'publish');
  return made.code;
}

/** A valid resident ID number that no other row uses. */
let idSerial = 100;
function newIdNumber() {
  const first17 = `11010119900101${String(idSerial++).padStart(3, '0')}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((a, c, i) => a + Number(c) * w[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

/** A record of the published fixture resource, written by the gaj steward; returns its key. */
async function newRecord() {
  const key = newIdNumber();
  await ok(await srv.call('PUT', `/api/v1/resources/${fx.published}/records/${key}`, { token: token.steward,
    body: { data: {} } }), 201, 'fixture record');
  return key;
}

/** The scjg steward asks for a gaj resource; returns the request (pending or granted). */
async function scjgAsks(code) {
  return ok(await srv.call('POST', '/api/v1/share-requests', { token: fx.scjgSteward, body: {
    resource: code, items: ['id_number'], purpose: '授权测试', legal_basis: '测试依据', scenario: '授权测试',
  } }), 201, 'fixture share request');
}

/** The gaj steward subscribes to the scjg resource gaj holds a grant for; returns the subscription id. */
async function gajSubscribes() {
  return (await ok(await srv.call('POST', '/api/v1/subscriptions', { token: token.steward, body: {
    resource: fx.scjgResource, url: 'http://127.0.0.1:9/hook' } }), 201, 'fixture subscription')).id;
}

/** The scjg steward objects to the gaj record; returns the objection's id. */
async function scjgObjects() {
  return (await ok(await srv.call('POST', `/api/v1/resources/${fx.gajNamed}/records/${fx.gajKey}/objections`, {
    token: fx.scjgSteward, body: { item: 'name', reason: '姓名有误', proposed_value: '张四' } }), 201, 'scjg objects')).id;
}

/** The secadmin creates a client of org and returns its name. */
async function newClient(org) {
  const name = uniq('c');
  await ok(await srv.call('POST', '/api/v1/clients', { token: token.secadmin, body: { org_code: org, name } }), 201,
    'fixture client');
  return name;
}

before(async () => {
  srv = await startServer();
  GAJ = orgOf(srv.accounts, 'gaj_admin');
  SCJG = orgOf(srv.accounts, 'scjg_admin');
  BUREAU = orgOf(srv.accounts, 'dsj_admin');
  for (const role of PLATFORM) {
    token[role] = await srv.adminToken(role);
    username[role] = srv.admins[role].username;
    password[role] = srv.admins[role].password;
  }
  for (const [role, user] of Object.entries(DEMO_USER)) {
    token[role] = await srv.login(user);
    username[role] = user;
    password[role] = srv.accounts.password;
  }
  const gajClient = srv.accounts.clients.find((c) => c.id.startsWith(`${GAJ}/`));
  token.client = gajClient.secret;
  fx.gajClientId = gajClient.id;
  token.forged = 'yws_' + 'A'.repeat(43);
  token.none = undefined;

  // a gaj user nobody signs in as, the object of the user rows
  fx.gajUser = uniq('target');
  await ok(await srv.call('POST', '/api/v1/users', {
    token: token.secadmin, body: { username: fx.gajUser, display_name: '目标用户', org_code: GAJ, roles: ['clerk'] },
  }), 201, 'fixture user');
  // an org the PATCH rows rename
  fx.org = makeUscc();
  await ok(await srv.call('POST', '/api/v1/orgs', {
    token: token.sysadmin, body: { code: fx.org, name: '测试局', region_code: '330100', level: 'city', parent_code: BUREAU },
  }), 201, 'fixture org');
  // a finished backup the DELETE row removes
  fx.backup = (await ok(await srv.call('POST', '/api/v1/backups', { token: token.sysadmin }), 202, 'fixture backup')).name;
  for (let i = 0; i < 300; i++) {
    const list = await ok(await srv.call('GET', '/api/v1/backups', { token: token.sysadmin }), 200, 'backups');
    if (!list.running) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // a published and a draft gaj resource
  fx.published = await newResource(true);
  fx.draft = await newResource(false);
  fx.record = await newRecord();
  // sharing: a conditional gaj resource the scjg steward asks for, and a grant of a scjg resource to gaj
  fx.scjgSteward = await srv.login('scjg_steward');
  fx.conditional = await newResource(true, 'conditional');
  const catalog = await ok(await srv.call('GET', `/api/v1/resources?provider=${SCJG}&share_type=unconditional`,
    { token: token.steward }), 200, 'scjg resources');
  const gajAsks = await ok(await srv.call('POST', '/api/v1/share-requests', { token: token.steward, body: {
    resource: catalog.items[0].code, items: ['uscc'], purpose: '授权测试', legal_basis: '测试依据', scenario: '授权测试',
  } }), 201, 'gaj share request');
  fx.scjgResource = catalog.items[0].code;
  fx.gajRequest = gajAsks.id;
  fx.gajGrant = gajAsks.grant_id;
  fx.gajSubscription = await gajSubscribes();
  // objections: gaj holds a grant of a scjg resource with a name item, scjg one of a gaj resource
  const named = async (tok, provider, keyItem, items) => {
    const made = await ok(await srv.call('POST', '/api/v1/resources', { token: tok, body: {
      name: uniq('异议资源'), provider_org: provider, summary: '异议测试', category: 'department', format: 'table',
      share_type: 'unconditional', share_method: 'api', open_type: 'closed', update_cycle: 'daily', key_item: keyItem,
      items: items.map((name) => ({ name, element: name, required: name === keyItem })),
    } }), 201, 'objection resource');
    await ok(await srv.call('POST', `/api/v1/resources/${made.code}/publish`, { token: tok }), 200, 'publish');
    return made.code;
  };
  fx.scjgNamed = await named(fx.scjgSteward, SCJG, 'uscc', ['uscc', 'enterprise_name']);
  fx.scjgKey = makeUscc();
  await ok(await srv.call('PUT', `/api/v1/resources/${fx.scjgNamed}/records/${fx.scjgKey}`, { token: fx.scjgSteward,
    body: { data: { enterprise_name: '杭州异议测试有限公司' } } }), 201, 'scjg record');
  await ok(await srv.call('POST', '/api/v1/share-requests', { token: token.steward, body: {
    resource: fx.scjgNamed, items: ['uscc', 'enterprise_name'], purpose: '异议测试', legal_basis: '测试依据', scenario: '异议',
  } }), 201, 'gaj asks scjg');
  fx.gajNamed = await named(token.steward, GAJ, 'id_number', ['id_number', 'name']);
  fx.gajKey = newIdNumber();
  await ok(await srv.call('PUT', `/api/v1/resources/${fx.gajNamed}/records/${fx.gajKey}`, { token: token.steward,
    body: { data: { name: '张三' } } }), 201, 'gaj record');
  await ok(await srv.call('POST', '/api/v1/share-requests', { token: fx.scjgSteward, body: {
    resource: fx.gajNamed, items: ['id_number', 'name'], purpose: '异议测试', legal_basis: '测试依据', scenario: '异议',
  } }), 201, 'scjg asks gaj');
  fx.gajObjection = (await ok(await srv.call('POST', `/api/v1/resources/${fx.scjgNamed}/records/${fx.scjgKey}/objections`,
    { token: token.steward, body: { item: 'enterprise_name', reason: '名称有误' } }), 201, 'gaj objects')).id;
  // unified access: a gaj service, and a scjg service gaj holds a whole-service grant for, with one call made
  fx.provider = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200).end('{}')); });
  await new Promise((resolve) => fx.provider.listen(0, '127.0.0.1', resolve));
  const apiService = async (tok, provider, code) => {
    const made = await ok(await srv.call('POST', '/api/v1/resources', { token: tok, body: {
      name: uniq('接口资源'), provider_org: provider, summary: '统一接入测试', category: 'department', format: 'api',
      share_type: 'unconditional', share_method: 'api', open_type: 'closed', update_cycle: 'realtime',
      key_item: 'service', items: [{ name: 'service', type: 'C' }] } }), 201, 'api resource');
    await ok(await srv.call('POST', `/api/v1/resources/${made.code}/publish`, { token: tok }), 200, 'publish');
    const svc = await ok(await srv.call('POST', '/api/v1/services', { token: tok, body: {
      code, name: '授权测试服务', base_url: `http://127.0.0.1:${fx.provider.address().port}`, resource: made.code,
      openapi: { openapi: '3.0.3', info: { title: 't', version: '1' }, paths: { '/people/{id}': { get: {} } } } } }),
    201, 'service');
    return { resource: made.code, id: svc.id };
  };
  const gajApi = await apiService(token.steward, GAJ, 'authz-gaj');
  fx.gajApiResource = gajApi.resource;
  fx.gajService = gajApi.id;
  const scjgApi = await apiService(fx.scjgSteward, SCJG, 'authz-scjg');
  fx.scjgService = scjgApi.id;
  await ok(await srv.call('POST', '/api/v1/share-requests', { token: token.steward, body: {
    resource: scjgApi.resource, items: ['service'], purpose: '授权测试', legal_basis: '测试依据', scenario: '统一接入',
  } }), 201, 'gaj asks for the scjg service');
  const called = await srv.call('GET', `/x/${SCJG}/authz-scjg/people/1`, { token: token.client });
  assert.equal(called.status, 200, called.text);
  fx.serviceCall = called.headers.get('x-request-id');
  for (let i = 0; i < 100; i++) {
    const r = await srv.call('GET', `/api/v1/services/${fx.scjgService}/calls/${fx.serviceCall}/proof`, { token: token.client });
    if (r.status === 200) break;
    assert.equal(r.status, 409, r.text); // not yet signed
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // audit entries of two orgs (the sign-ins above), once a signed tree head covers them
  const events = await ok(await srv.call('GET', '/api/v1/audit/events?limit=1000', { token: token.auditor }), 200, 'audit events');
  fx.gajEntry = events.items.find((e) => e.actor === 'gaj_admin' && e.action === 'auth.login').seq;
  fx.scjgEntry = events.items.find((e) => e.actor === 'scjg_inspector' && e.action === 'auth.login').seq;
  for (let i = 0; i < 100; i++) {
    const r = await srv.call('GET', `/api/v1/audit/proof/${fx.scjgEntry}`, { token: token.auditor });
    if (r.status === 200) break;
    assert.equal(r.status, 409, r.text); // not yet signed
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

after(async () => {
  await srv?.stop();
  fx.provider?.close();
});

// Status tables. Each row names every caller, so adding a caller or a route
// forces a decision for every cell.
const ALL_USERS_AND_CLIENTS = (ok2xx) => ({
  sysadmin: ok2xx, secadmin: ok2xx, auditor: ok2xx, org_admin: ok2xx, steward: ok2xx, clerk: ok2xx,
  inspector: ok2xx, dispatcher: ok2xx, monitor: ok2xx, client: ok2xx, forged: 401, none: 401,
});
const USERS_ONLY = (ok2xx) => ({
  sysadmin: ok2xx, secadmin: ok2xx, auditor: ok2xx, org_admin: ok2xx, steward: ok2xx, clerk: ok2xx,
  inspector: ok2xx, dispatcher: ok2xx, monitor: ok2xx, client: 403, forged: 401, none: 401,
});
const SYSADMIN_ONLY = (ok2xx) => ({
  sysadmin: ok2xx, secadmin: 403, auditor: 403, org_admin: 403, steward: 403, clerk: 403,
  inspector: 403, dispatcher: 403, monitor: 403, client: 403, forged: 401, none: 401,
});
// user/client management with no particular object (list, create in own org)
const MANAGERS = (ok2xx) => ({
  sysadmin: 403, secadmin: ok2xx, auditor: 403, org_admin: ok2xx, steward: 403, clerk: 403,
  inspector: 403, dispatcher: 403, monitor: 403, client: 403, forged: 401, none: 401,
});
// user/client management of an object of the gaj org: gaj callers without
// the right get 403, callers of other orgs do not learn that it exists
const MANAGE_GAJ_OBJECT = (ok2xx) => ({
  sysadmin: 404, secadmin: ok2xx, auditor: 404, org_admin: ok2xx, steward: 403, clerk: 403,
  inspector: 404, dispatcher: 404, monitor: 404, client: 403, forged: 401, none: 401,
});
// the same on an object of the scjg org (the inspector's org)
// the audit trail: auditors read all of it, an org admin what their own org did
const AUDIT_READERS = (ok2xx) => ({
  sysadmin: 403, secadmin: 403, auditor: ok2xx, org_admin: ok2xx, steward: 403, clerk: 403,
  inspector: 403, dispatcher: 403, monitor: 403, client: 403, forged: 401, none: 401,
});
const MANAGE_SCJG_OBJECT = (ok2xx) => ({
  sysadmin: 404, secadmin: ok2xx, auditor: 404, org_admin: 404, steward: 404, clerk: 404,
  inspector: 403, dispatcher: 404, monitor: 404, client: 404, forged: 401, none: 401,
});

// resources are managed by the stewards of their provider org
const STEWARD_ONLY = (ok2xx) => ({
  sysadmin: 403, secadmin: 403, auditor: 403, org_admin: 403, steward: ok2xx, clerk: 403,
  inspector: 403, dispatcher: 403, monitor: 403, client: 403, forged: 401, none: 401,
});
// a gaj draft: the gaj org sees it, nobody else learns it exists
const GAJ_ONLY = (ok2xx) => ({
  sysadmin: 404, secadmin: 404, auditor: 404, org_admin: ok2xx, steward: ok2xx, clerk: ok2xx,
  inspector: 404, dispatcher: 404, monitor: 404, client: ok2xx, forged: 401, none: 401,
});
// changing a gaj resource: its steward; other gaj callers may see it but not change it
const MANAGE_GAJ_RESOURCE = (ok2xx, hidden) => ({
  sysadmin: hidden, secadmin: hidden, auditor: hidden, org_admin: 403, steward: ok2xx, clerk: 403,
  inspector: hidden, dispatcher: hidden, monitor: hidden, client: 403, forged: 401, none: 401,
});

// records: the provider's stewards and systems; other gaj callers may not; other orgs learn nothing
const RECORD_ACCESS = (ok2xx) => ({
  sysadmin: 404, secadmin: 404, auditor: 404, org_admin: 403, steward: ok2xx, clerk: 403,
  inspector: 404, dispatcher: 404, monitor: 404, client: ok2xx, forged: 401, none: 401,
});

// reads of records: the provider's stewards and systems; anyone else needs a grant (403 without one)
const RECORD_READERS = (ok2xx) => ({
  sysadmin: 403, secadmin: 403, auditor: 403, org_admin: 403, steward: ok2xx, clerk: 403,
  inspector: 403, dispatcher: 403, monitor: 403, client: ok2xx, forged: 401, none: 401,
});
// lists of share requests and grants: stewards, org admins and systems of an org (the data bureau sees all)
const SHARE_PARTIES = (ok2xx) => ({
  sysadmin: 403, secadmin: 403, auditor: 403, org_admin: ok2xx, steward: ok2xx, clerk: 403,
  inspector: 403, dispatcher: 403, monitor: 403, client: ok2xx, forged: 401, none: 401,
});
// a request or grant between gaj (consumer) and scjg (provider): their parties see it, nobody else learns it exists
const SHARE_OBJECT = (ok2xx) => ({
  sysadmin: 404, secadmin: 404, auditor: 404, org_admin: ok2xx, steward: ok2xx, clerk: 403,
  inspector: 403, dispatcher: 404, monitor: 404, client: ok2xx, forged: 401, none: 401,
});
// deciding or revoking where gaj provides and scjg consumes: the gaj steward; other parties see it but may not
const SHARE_PROVIDER = (ok2xx) => ({
  sysadmin: 404, secadmin: 404, auditor: 404, org_admin: 403, steward: ok2xx, clerk: 403,
  inspector: 403, dispatcher: 404, monitor: 404, client: 403, forged: 401, none: 401,
});

// statistics of a gaj service: its provider's stewards, org admins and monitors, and the data bureau's
const SERVICE_MONITORS = (ok2xx) => ({
  sysadmin: 404, secadmin: 404, auditor: 404, org_admin: ok2xx, steward: ok2xx, clerk: 403,
  inspector: 404, dispatcher: 404, monitor: 404, client: 403, forged: 401, none: 401,
});
// mediated calls: department systems only, with their client credential
const SYSTEMS_ONLY = (ok2xx) => ({
  sysadmin: 403, secadmin: 403, auditor: 403, org_admin: 403, steward: 403, clerk: 403,
  inspector: 403, dispatcher: 403, monitor: 403, client: ok2xx, forged: 401, none: 401,
});

// callers who may read shared data but hold no grant: 403 no_grant
const NO_GRANT = { clerk: 'no_grant', inspector: 'no_grant' };

// path: string or (caller) => string; body: value or async (caller) => value;
// auth: async (caller) => bearer (default: the caller's token);
// after: async (caller, res) => cleanup; codes: the problem code per caller where it is not the usual one.
const ROWS = [
  // ---- identity ----
  {
    route: 'POST /api/v1/auth/login', case: 'anyone may sign in (valid credentials)',
    body: () => ({ username: 'gaj_clerk', password: srv.accounts.password }),
    expect: {
      sysadmin: 200, secadmin: 200, auditor: 200, org_admin: 200, steward: 200, clerk: 200, inspector: 200,
      dispatcher: 200, monitor: 200, client: 200, forged: 200, none: 200,
    },
  },
  {
    route: 'POST /api/v1/auth/console/login', case: 'anyone may sign in to the console (valid credentials)',
    body: () => ({ username: 'gaj_clerk', password: srv.accounts.password }),
    expect: ALL_PUBLIC(),
  },
  {
    route: 'POST /api/v1/auth/logout', case: 'a user ends a fresh session of their own',
    auth: async (c) => (USERS.includes(c) ? srv.login(username[c], password[c]) : token[c]),
    expect: USERS_ONLY(204),
  },
  { route: 'GET /api/v1/auth/me', case: 'who am I', expect: ALL_USERS_AND_CLIENTS(200) },
  { route: 'POST /api/v1/auth/totp', case: 'enrol a second factor', expect: USERS_ONLY(201) },
  {
    route: 'POST /api/v1/auth/totp/confirm', case: 'confirm a second factor with a correct code',
    body: async (c) => {
      if (!USERS.includes(c)) return { code: '123456' };
      const r = await srv.call('POST', '/api/v1/auth/totp', { token: token[c] });
      assert.equal(r.status, 201, r.text);
      return { code: totpCode(r.json.secret) };
    },
    after: async (c, res) => {
      if (res.status !== 200) return;
      // the secadmin removes it again so that sign-in stays password-only
      await ok(await srv.call('DELETE', `/api/v1/users/${username[c]}/totp`, { token: token.secadmin }), 204,
        'totp removal');
    },
    expect: USERS_ONLY(200),
  },
  {
    route: 'POST /api/v1/users/{username}/password', case: 'an administrator resets a gaj user\'s password',
    path: () => `/api/v1/users/${fx.gajUser}/password`,
    body: (c) => ({ new_password: `Reset-${c}-Passw0rd!` }),
    expect: MANAGE_GAJ_OBJECT(204),
  },
  {
    route: 'POST /api/v1/users/{username}/password', case: 'an administrator resets a scjg user\'s password',
    path: () => '/api/v1/users/scjg_clerk/password',
    body: (c) => ({ new_password: `Reset-${c}-Passw0rd!` }),
    expect: MANAGE_SCJG_OBJECT(204),
  },
  {
    route: 'DELETE /api/v1/users/{username}/totp', case: 'an administrator removes a gaj user\'s second factor',
    path: () => `/api/v1/users/${fx.gajUser}/totp`,
    expect: MANAGE_GAJ_OBJECT(204),
  },
  {
    route: 'DELETE /api/v1/users/{username}/totp', case: 'an administrator removes a scjg user\'s second factor',
    path: () => '/api/v1/users/scjg_clerk/totp',
    expect: MANAGE_SCJG_OBJECT(204),
  },

  // ---- registry: orgs ----
  { route: 'GET /api/v1/orgs', case: 'the org directory', expect: ALL_USERS_AND_CLIENTS(200) },
  {
    route: 'POST /api/v1/orgs', case: 'register a department',
    body: () => ({ code: makeUscc(), name: '新部门', region_code: '330100', level: 'district' }),
    expect: SYSADMIN_ONLY(201),
  },
  { route: 'GET /api/v1/orgs/{code}', case: 'another org', path: () => `/api/v1/orgs/${GAJ}`, expect: ALL_USERS_AND_CLIENTS(200) },
  {
    route: 'PATCH /api/v1/orgs/{code}', case: 'rename a department',
    path: () => `/api/v1/orgs/${fx.org}`, body: (c) => ({ name: `测试局-${c}` }),
    expect: SYSADMIN_ONLY(200),
  },
  {
    route: 'PATCH /api/v1/orgs/{code}', case: 'rename one\'s own department',
    path: (c) => `/api/v1/orgs/${orgOfCaller(c)}`, rawBody: '{}',
    expect: SYSADMIN_ONLY(200),
  },

  // ---- backups ----
  { route: 'GET /api/v1/backups', case: 'the copies of the database', expect: SYSADMIN_ONLY(200) },
  { route: 'POST /api/v1/backups', case: 'copy the database', expect: SYSADMIN_ONLY(202) },
  {
    route: 'DELETE /api/v1/backups/{name}', case: 'delete a copy',
    path: () => `/api/v1/backups/${fx.backup}`, expect: SYSADMIN_ONLY(204),
  },

  // ---- registry: users ----
  { route: 'GET /api/v1/users', case: 'list users', expect: MANAGERS(200) },
  {
    route: 'POST /api/v1/users', case: 'create a clerk in the gaj org',
    body: () => ({ username: uniq('new'), display_name: '新用户', org_code: GAJ, roles: ['clerk'] }),
    expect: MANAGERS(201),
  },
  {
    route: 'POST /api/v1/users', case: 'create a clerk in the scjg org',
    body: () => ({ username: uniq('new'), display_name: '新用户', org_code: SCJG, roles: ['clerk'] }),
    expect: { ...MANAGERS(201), org_admin: 403 },
  },
  { route: 'GET /api/v1/users/{username}', case: 'a gaj user', path: () => `/api/v1/users/${fx.gajUser}`, expect: MANAGE_GAJ_OBJECT(200) },
  { route: 'GET /api/v1/users/{username}', case: 'a scjg user', path: () => '/api/v1/users/scjg_clerk', expect: MANAGE_SCJG_OBJECT(200) },
  {
    route: 'GET /api/v1/users/{username}', case: 'oneself (a client asks for a gaj user)',
    path: (c) => `/api/v1/users/${USERS.includes(c) ? username[c] : fx.gajUser}`,
    expect: USERS_ONLY(200),
  },
  {
    route: 'PATCH /api/v1/users/{username}', case: 'a gaj user',
    path: () => `/api/v1/users/${fx.gajUser}`, body: (c) => ({ display_name: `目标-${c}` }),
    expect: MANAGE_GAJ_OBJECT(200),
  },
  {
    route: 'PATCH /api/v1/users/{username}', case: 'a scjg user',
    path: () => '/api/v1/users/scjg_clerk', body: (c) => ({ display_name: `窗口-${c}` }),
    expect: MANAGE_SCJG_OBJECT(200),
  },
  {
    route: 'PATCH /api/v1/users/{username}', case: 'one\'s own display name (a client: a gaj user)',
    path: (c) => `/api/v1/users/${USERS.includes(c) ? username[c] : fx.gajUser}`,
    body: (c) => ({ display_name: `自己-${c}` }),
    expect: {
      sysadmin: 403, secadmin: 200, auditor: 403, org_admin: 200, steward: 403, clerk: 403,
      inspector: 403, dispatcher: 403, monitor: 403, client: 403, forged: 401, none: 401,
    },
  },

  // ---- registry: clients ----
  { route: 'GET /api/v1/clients', case: 'list clients', expect: MANAGERS(200) },
  {
    route: 'POST /api/v1/clients', case: 'create a gaj client',
    body: () => ({ org_code: GAJ, name: uniq('sys') }),
    expect: MANAGERS(201),
  },
  {
    route: 'POST /api/v1/clients', case: 'create a scjg client',
    body: () => ({ org_code: SCJG, name: uniq('sys') }),
    expect: { ...MANAGERS(201), org_admin: 403 },
  },
  {
    route: 'GET /api/v1/clients/{org_code}/{name}', case: 'the gaj exchange client',
    path: () => `/api/v1/clients/${fx.gajClientId}`, expect: MANAGE_GAJ_OBJECT(200),
  },
  {
    route: 'GET /api/v1/clients/{org_code}/{name}', case: 'the scjg exchange client',
    path: () => `/api/v1/clients/${SCJG}/exchange`, expect: MANAGE_SCJG_OBJECT(200),
  },
  {
    route: 'DELETE /api/v1/clients/{org_code}/{name}', case: 'revoke a fresh gaj client',
    path: async () => `/api/v1/clients/${GAJ}/${await newClient(GAJ)}`, expect: MANAGE_GAJ_OBJECT(204),
  },
  {
    route: 'DELETE /api/v1/clients/{org_code}/{name}', case: 'revoke a fresh scjg client',
    path: async () => `/api/v1/clients/${SCJG}/${await newClient(SCJG)}`, expect: MANAGE_SCJG_OBJECT(204),
  },

  // ---- audit trail ----
  { route: 'GET /api/v1/audit/tree-head', case: 'the signed tree head is public to callers', expect: ALL_USERS_AND_CLIENTS(200) },
  { route: 'GET /api/v1/audit/events', case: 'read the trail (an org admin: their org\'s part)', expect: AUDIT_READERS(200) },
  {
    route: 'GET /api/v1/audit/proof/{seq}', case: 'inclusion proof of a gaj entry',
    path: () => `/api/v1/audit/proof/${fx.gajEntry}`, expect: AUDIT_READERS(200),
  },
  {
    route: 'GET /api/v1/audit/proof/{seq}', case: 'inclusion proof of a scjg entry',
    path: () => `/api/v1/audit/proof/${fx.scjgEntry}`, expect: { ...AUDIT_READERS(200), org_admin: 404 },
  },
  {
    route: 'GET /api/v1/audit/consistency', case: 'consistency proof', path: '/api/v1/audit/consistency?from=1',
    expect: AUDIT_READERS(200),
  },
  {
    route: 'GET /api/v1/audit/export', case: 'export the trail',
    expect: { ...AUDIT_READERS(200), org_admin: 403 },
  },

  // ---- catalog ----
  { route: 'GET /api/v1/elements', case: 'the data element standards are read by everyone', expect: ALL_USERS_AND_CLIENTS(200) },
  {
    route: 'GET /api/v1/elements/{id}', case: 'one standard element', path: '/api/v1/elements/id_number',
    expect: ALL_USERS_AND_CLIENTS(200),
  },
  {
    route: 'POST /api/v1/elements', case: 'a new element (the sysadmin; the data bureau\'s stewards, see elements.test)',
    body: (c) => ({ id: `authz_${c}_${Date.now().toString(36)}`, name: '授权测试', type: 'C', sensitivity: 'L1' }),
    expect: SYSADMIN_ONLY(201),
  },

  { route: 'GET /api/v1/resources', case: 'the catalog is read by everyone', expect: ALL_USERS_AND_CLIENTS(200) },
  {
    route: 'POST /api/v1/resources', case: 'a draft of the gaj steward\'s own org',
    body: (c) => ({ name: `资源-${c}`, provider_org: GAJ }), expect: STEWARD_ONLY(201),
  },
  {
    route: 'GET /api/v1/resources/{code}', case: 'a published resource',
    path: () => `/api/v1/resources/${fx.published}`, expect: ALL_USERS_AND_CLIENTS(200),
  },
  {
    route: 'GET /api/v1/resources/{code}', case: 'a draft: its provider only',
    path: () => `/api/v1/resources/${fx.draft}`, expect: GAJ_ONLY(200),
  },
  {
    route: 'GET /api/v1/resources/{code}/versions', case: 'history of a published resource',
    path: () => `/api/v1/resources/${fx.published}/versions`, expect: ALL_USERS_AND_CLIENTS(200),
  },
  {
    route: 'PATCH /api/v1/resources/{code}', case: 'edit a gaj draft', path: () => `/api/v1/resources/${fx.draft}`,
    body: () => ({ summary: '改过的摘要' }), expect: MANAGE_GAJ_RESOURCE(200, 404),
  },
  {
    route: 'POST /api/v1/resources/{code}/publish', case: 'publish a fresh gaj draft',
    path: async () => `/api/v1/resources/${await newResource(false)}/publish`, expect: MANAGE_GAJ_RESOURCE(200, 404),
  },
  {
    route: 'POST /api/v1/resources/{code}/retire', case: 'retire a fresh published gaj resource',
    path: async () => `/api/v1/resources/${await newResource(true)}/retire`, expect: MANAGE_GAJ_RESOURCE(200, 404),
  },

  // ---- records ----
  {
    route: 'PUT /api/v1/resources/{code}/records/{key}', case: 'load a record of a gaj resource',
    path: () => `/api/v1/resources/${fx.published}/records/${newIdNumber()}`, body: () => ({ data: {} }),
    expect: RECORD_ACCESS(201),
  },
  {
    route: 'GET /api/v1/resources/{code}/records/{key}', case: 'read a gaj record (its provider; no one has a grant)',
    path: () => `/api/v1/resources/${fx.published}/records/${fx.record}`, expect: RECORD_READERS(200), codes: NO_GRANT,
  },
  {
    route: 'POST /api/v1/resources/{code}/records:batch', case: 'read gaj records by key (its provider; no grants)',
    path: () => `/api/v1/resources/${fx.published}/records:batch`, body: () => ({ keys: [fx.record] }),
    expect: RECORD_READERS(200), codes: NO_GRANT,
  },

  // ---- sharing ----
  { route: 'GET /api/v1/share-requests', case: 'requests of one\'s own org', expect: SHARE_PARTIES(200) },
  {
    route: 'POST /api/v1/share-requests', case: 'ask for a scjg resource',
    body: () => ({ resource: fx.scjgResource, items: ['uscc'], purpose: '授权测试', legal_basis: '测试依据', scenario: '授权测试' }),
    expect: {
      sysadmin: 403, secadmin: 403, auditor: 403, org_admin: 403, steward: 201, clerk: 403,
      inspector: 403, dispatcher: 403, monitor: 403, client: 201, forged: 401, none: 401,
    },
  },
  {
    route: 'GET /api/v1/share-requests/{id}', case: 'a gaj request to scjg',
    path: () => `/api/v1/share-requests/${fx.gajRequest}`, expect: SHARE_OBJECT(200),
  },
  {
    route: 'POST /api/v1/share-requests/{id}/approve', case: 'approve a fresh scjg request for a gaj resource',
    path: async () => `/api/v1/share-requests/${(await scjgAsks(fx.conditional)).id}/approve`, body: () => ({}),
    expect: SHARE_PROVIDER(200),
  },
  {
    route: 'POST /api/v1/share-requests/{id}/reject', case: 'reject a fresh scjg request for a gaj resource',
    path: async () => `/api/v1/share-requests/${(await scjgAsks(fx.conditional)).id}/reject`,
    body: () => ({ reason: '授权测试' }), expect: SHARE_PROVIDER(200),
  },
  { route: 'GET /api/v1/grants', case: 'grants of one\'s own org', expect: SHARE_PARTIES(200) },
  {
    route: 'GET /api/v1/grants/{id}', case: 'a grant of a scjg resource to gaj',
    path: () => `/api/v1/grants/${fx.gajGrant}`, expect: SHARE_OBJECT(200),
  },
  {
    route: 'GET /api/v1/resources/{code}/changes', case: 'the change feed of a gaj resource (its provider; no grants)',
    path: () => `/api/v1/resources/${fx.published}/changes`, expect: RECORD_READERS(200), codes: NO_GRANT,
  },
  {
    route: 'POST /api/v1/resources/{code}/query', case: 'filter gaj records by key (its provider; no grants)',
    path: () => `/api/v1/resources/${fx.published}/query`, body: () => ({ filter: { id_number: { eq: fx.record } } }),
    expect: RECORD_READERS(200), codes: NO_GRANT,
  },
  { route: 'GET /api/v1/subscriptions', case: 'subscriptions of one\'s own org', expect: SHARE_PARTIES(200) },
  {
    route: 'POST /api/v1/subscriptions', case: 'subscribe to a scjg resource gaj holds a grant for',
    body: () => ({ resource: fx.scjgResource, url: 'http://127.0.0.1:9/hook' }),
    expect: {
      sysadmin: 403, secadmin: 403, auditor: 403, org_admin: 403, steward: 201, clerk: 403,
      inspector: 403, dispatcher: 403, monitor: 403, client: 201, forged: 401, none: 401,
    },
  },
  {
    route: 'GET /api/v1/subscriptions/{id}', case: 'a gaj subscription to a scjg resource',
    path: () => `/api/v1/subscriptions/${fx.gajSubscription}`, expect: SHARE_OBJECT(200),
  },
  {
    route: 'GET /api/v1/subscriptions/{id}/deliveries', case: 'deliveries of a gaj subscription',
    path: () => `/api/v1/subscriptions/${fx.gajSubscription}/deliveries`, expect: SHARE_OBJECT(200),
  },
  {
    route: 'DELETE /api/v1/subscriptions/{id}', case: 'end a fresh gaj subscription (the consumer\'s)',
    path: async () => `/api/v1/subscriptions/${await gajSubscribes()}`,
    expect: {
      sysadmin: 404, secadmin: 404, auditor: 404, org_admin: 403, steward: 204, clerk: 403,
      inspector: 403, dispatcher: 404, monitor: 404, client: 204, forged: 401, none: 401,
    },
  },
  {
    route: 'DELETE /api/v1/grants/{id}', case: 'revoke a fresh grant of a gaj resource to scjg',
    path: async () => `/api/v1/grants/${(await scjgAsks(fx.published)).grant_id}`, expect: SHARE_PROVIDER(204),
  },
  {
    route: 'GET /api/v1/resources/{code}/records/{key}/versions', case: 'history of a gaj record (its provider)',
    path: () => `/api/v1/resources/${fx.published}/records/${fx.record}/versions`, expect: RECORD_ACCESS(200),
  },
  {
    route: 'POST /api/v1/resources/{code}/records:import', case: 'import a CSV into a gaj resource',
    path: () => `/api/v1/resources/${fx.published}/records:import`, contentType: 'text/csv',
    rawBody: () => `id_number\n${newIdNumber()}\n`, expect: RECORD_ACCESS(200),
  },
  {
    route: 'DELETE /api/v1/resources/{code}/records/{key}', case: 'delete a fresh gaj record',
    path: async () => `/api/v1/resources/${fx.published}/records/${await newRecord()}`, expect: RECORD_ACCESS(204),
  },

  {
    route: 'POST /api/v1/resources/{code}/records/{key}/objections', case: 'object to a scjg record gaj was granted',
    path: () => `/api/v1/resources/${fx.scjgNamed}/records/${fx.scjgKey}/objections`,
    body: () => ({ item: 'enterprise_name', reason: '名称有误', proposed_value: '杭州异议测试股份有限公司' }),
    expect: {
      sysadmin: 403, secadmin: 403, auditor: 403, org_admin: 403, steward: 201, clerk: 403,
      inspector: 403, dispatcher: 403, monitor: 403, client: 201, forged: 401, none: 401,
    },
  },
  { route: 'GET /api/v1/objections', case: 'objections of one\'s own org', expect: SHARE_PARTIES(200) },
  {
    route: 'GET /api/v1/objections/{id}', case: 'a gaj objection to a scjg record',
    path: () => `/api/v1/objections/${fx.gajObjection}`, expect: SHARE_OBJECT(200),
  },
  {
    route: 'POST /api/v1/objections/{id}/resolve', case: 'reject a fresh scjg objection to a gaj record',
    path: async () => `/api/v1/objections/${await scjgObjects()}/resolve`,
    body: () => ({ decision: 'reject', reason: '授权测试' }), expect: SHARE_PROVIDER(200),
  },
  {
    route: 'GET /api/v1/resources/{code}/quality', case: 'quality of a published gaj resource',
    path: () => `/api/v1/resources/${fx.published}/quality`, expect: ALL_USERS_AND_CLIENTS(200),
  },
  {
    route: 'GET /api/v1/resources/{code}/quality', case: 'quality of a gaj draft',
    path: () => `/api/v1/resources/${fx.draft}/quality`, expect: GAJ_ONLY(200),
  },
  { route: 'GET /api/v1/conflicts', case: 'conflicts involving one\'s own org', expect: STEWARD_ONLY(200) },
  {
    route: 'POST /api/v1/conflicts/{id}/objections', case: 'only the data bureau\'s stewards send conflicts',
    path: () => `/api/v1/conflicts/${'f'.repeat(64)}/objections`, body: () => ({}),
    expect: {
      sysadmin: 403, secadmin: 403, auditor: 403, org_admin: 403, steward: 403, clerk: 403,
      inspector: 403, dispatcher: 403, monitor: 403, client: 403, forged: 401, none: 401,
    },
  },

  // ---- unified access ----
  { route: 'GET /api/v1/services', case: 'the directory of services', expect: ALL_USERS_AND_CLIENTS(200) },
  {
    route: 'POST /api/v1/services', case: 'register a gaj service (its stewards)',
    body: () => ({ code: uniq('svc'), name: '授权测试', base_url: 'http://127.0.0.1:9', resource: fx.gajApiResource }),
    expect: STEWARD_ONLY(201),
  },
  {
    route: 'GET /api/v1/services/{id}', case: 'a gaj service', path: () => `/api/v1/services/${fx.gajService}`,
    expect: ALL_USERS_AND_CLIENTS(200),
  },
  {
    route: 'GET /api/v1/services/{id}/openapi', case: 'the OpenAPI document of a gaj service',
    path: () => `/api/v1/services/${fx.gajService}/openapi`, expect: ALL_USERS_AND_CLIENTS(200),
  },
  {
    route: 'GET /api/v1/services/{id}/stats', case: 'statistics of a gaj service',
    path: () => `/api/v1/services/${fx.gajService}/stats`, expect: SERVICE_MONITORS(200),
  },
  {
    route: 'GET /api/v1/services/{id}/calls', case: 'calls of a gaj service (the provider\'s parties)',
    path: () => `/api/v1/services/${fx.gajService}/calls`, expect: SHARE_PARTIES(200),
  },
  {
    route: 'GET /api/v1/services/{id}/calls/{call}', case: 'a gaj call of a scjg service (the consumer\'s parties)',
    path: () => `/api/v1/services/${fx.scjgService}/calls/${fx.serviceCall}`, expect: SHARE_PARTIES(200),
  },
  {
    route: 'GET /api/v1/services/{id}/calls/{call}/proof', case: 'the inclusion proof of a gaj call of a scjg service',
    path: () => `/api/v1/services/${fx.scjgService}/calls/${fx.serviceCall}/proof`, expect: SHARE_PARTIES(200),
  },
  ...['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((method) => ({
    route: `${method} /x/{org}/{service}/{path*}`, case: 'a mediated call of a scjg service gaj holds a grant for',
    path: () => `/x/${SCJG}/authz-scjg/people/1`, expect: SYSTEMS_ONLY(200),
  })),

  // ---- meta ----
  { route: 'GET /api/v1/openapi.json', case: 'the API description is public', expect: ALL_PUBLIC() },

  // ---- the web console's files ----
  { route: 'GET /', case: 'the console page is public', expect: ALL_PUBLIC() },
  { route: 'GET /console/{file}', case: 'console scripts are public', path: '/console/main.js', expect: ALL_PUBLIC() },
  {
    route: 'GET /console/pages/{file}', case: 'console page modules are public', path: '/console/pages/home.js',
    expect: ALL_PUBLIC(),
  },

  // ---- served by the HTTP layer itself ----
  { route: 'GET /healthz', builtin: true, case: 'liveness', expect: ALL_PUBLIC() },
  { route: 'GET /readyz', builtin: true, case: 'readiness', expect: ALL_PUBLIC() },
  { route: 'GET /metrics', builtin: true, case: 'metrics', expect: ALL_PUBLIC() },

  // Last: every user changes their own password (this signs out their other sessions).
  {
    route: 'POST /api/v1/users/{username}/password', case: 'oneself (a client: a gaj user)',
    path: (c) => `/api/v1/users/${USERS.includes(c) ? username[c] : fx.gajUser}/password`,
    body: (c) => (USERS.includes(c)
      ? { current_password: password[c], new_password: `Own-${CALLERS.indexOf(c)}-Passw0rd!2` }
      : { new_password: `Own-${CALLERS.indexOf(c)}-Passw0rd!2` }),
    expect: USERS_ONLY(204),
  },
];

function ALL_PUBLIC() {
  return Object.fromEntries(CALLERS.map((c) => [c, 200]));
}

function orgOfCaller(c) {
  if (PLATFORM.includes(c)) return BUREAU;
  if (DEMO_USER[c]) return orgOf(srv.accounts, DEMO_USER[c]);
  return GAJ; // the client, and callers without a credential

}

test('the table lists every route the source declares, and nothing else', () => {
  const declared = sourceRoutes();
  const server = declared.map((r) => `${r.method} ${r.pattern}`);
  assert.ok(server.length >= 20, `parsed only ${server.length} routes from the yw_route tables under src/`);
  const table = new Set(ROWS.filter((r) => !r.builtin).map((r) => r.route));
  const missing = declared.filter((r) => !table.has(`${r.method} ${r.pattern}`)).map((r) => `${r.method} ${r.pattern} (${r.file})`);
  assert.deepEqual(missing, [], 'routes without authorisation rows: add them to ROWS in tests/api/authz.test.mjs');
  const stale = [...table].filter((r) => !server.includes(r));
  assert.deepEqual(stale, [], 'rows for routes the server no longer has');
  assert.equal(new Set(server).size, server.length, 'a route is registered twice');
});

test('every row decides every caller', () => {
  for (const row of ROWS) assert.deepEqual(Object.keys(row.expect).sort(), [...CALLERS].sort(), row.case);
});

for (const row of ROWS) {
  test(`${row.route} — ${row.case}`, async () => {
    const [method, pattern] = row.route.split(' ');
    const got = {};
    const failures = [];
    for (const caller of CALLERS) {
      const path = typeof row.path === 'function' ? await row.path(caller) : row.path || pattern;
      const bearer = row.auth ? await row.auth(caller) : token[caller];
      const opts = { token: bearer };
      if (row.rawBody !== undefined) {
        opts.raw = typeof row.rawBody === 'function' ? row.rawBody(caller) : row.rawBody;
        opts.headers = { 'Content-Type': row.contentType || 'application/json' };
      } else if (row.body) {
        opts.body = await row.body(caller);
      }
      const res = await srv.call(method, path, opts);
      got[caller] = res.status;
      if (!/^[0-9a-f]{20}$/.test(res.headers.get('x-request-id') || '')) failures.push(`${caller}: no X-Request-Id`);
      if (res.status !== row.expect[caller]) failures.push(`${caller}: ${res.status} ${res.text}`);
      else if (res.status >= 400) {
        const code = row.codes?.[caller] ??
          { 401: caller === 'none' ? 'unauthenticated' : 'invalid_token', 403: 'forbidden', 404: 'not_found' }[res.status];
        try { assertProblem(res, res.status, code); } catch (e) { failures.push(`${caller}: ${e.message}`); }
      }
      if (row.after) await row.after(caller, res);
    }
    assert.deepEqual(got, row.expect, failures.join('\n'));
    assert.deepEqual(failures, []);
  });
}

test('callers who were allowed above still hold working sessions', async () => {
  // the rows must not have signed anyone out by accident, or later rows would prove nothing
  for (const c of [...USERS, 'client']) {
    const me = await srv.call('GET', '/api/v1/auth/me', { token: token[c] });
    assert.equal(me.status, 200, `${c}: ${me.text}`);
  }
});

test('an object of another org answers exactly like one that does not exist', async () => {
  // 404 must not leak existence across orgs: not by status, not by code, not by wording
  const strip = (res) => {
    const { request_id, ...rest } = res.json || {};
    return { status: res.status, body: rest };
  };
  const cases = [
    ['GET', (u) => `/api/v1/users/${u}`],
    ['PATCH', (u) => `/api/v1/users/${u}`, { display_name: '探测' }],
    ['POST', (u) => `/api/v1/users/${u}/password`, { new_password: 'Pr0be-Passw0rd!' }],
    ['DELETE', (u) => `/api/v1/users/${u}/totp`],
  ];
  const findings = [];
  for (const caller of ['org_admin', 'sysadmin', 'auditor', 'inspector', 'client']) {
    for (const [method, path, body] of cases) {
      // scjg_admin exists in the scjg org (the inspector's own org: use a gaj user for it)
      const hidden = caller === 'inspector' ? 'gaj_clerk' : 'scjg_admin';
      const a = strip(await srv.call(method, path(hidden), { token: token[caller], body }));
      const b = strip(await srv.call(method, path('no_such_user_x'), { token: token[caller], body }));
      assert.equal(a.status, 404, `${caller} ${method} ${path(hidden)}`);
      try { assert.deepEqual(a, b); } catch {
        findings.push(`${caller} ${method} ${path('{u}')}: existing "${a.body.detail}" vs missing "${b.body.detail}"`);
      }
    }
    if (caller === 'org_admin') {
      // an audit entry of another org, and one that does not exist
      const a = strip(await srv.call('GET', `/api/v1/audit/proof/${fx.scjgEntry}`, { token: token[caller] }));
      const b = strip(await srv.call('GET', '/api/v1/audit/proof/99999999', { token: token[caller] }));
      assert.equal(a.status, 404, 'org_admin proof of a scjg entry');
      try { assert.deepEqual(a, b); } catch {
        findings.push(`${caller} GET /api/v1/audit/proof/{seq}: existing "${a.body.detail}" vs missing "${b.body.detail}"`);
      }
    }
    const other = caller === 'inspector' ? GAJ : SCJG;
    for (const method of ['GET', 'DELETE']) {
      const a = strip(await srv.call(method, `/api/v1/clients/${other}/exchange`, { token: token[caller] }));
      const b = strip(await srv.call(method, `/api/v1/clients/${other}/no-such-client`, { token: token[caller] }));
      assert.equal(a.status, 404, `${caller} ${method} client`);
      try { assert.deepEqual(a, b); } catch {
        findings.push(`${caller} ${method} /api/v1/clients/{org}/{name}: existing "${a.body.detail}" vs missing "${b.body.detail}"`);
      }
    }
  }
  assert.deepEqual(findings, []);
});
