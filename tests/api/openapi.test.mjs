// The API description (api/openapi.yaml, served as /api/v1/openapi.json)
// and the server agree:
//
// - every route in the server's route tables (each yw_route table under src/:
//   src/*/module.c, src/app/meta.c, src/trail/trail.c, ...) is described with
//   that method, and the description has no route the server lacks (the
//   built-in /healthz, /readyz and /metrics aside); public routes have
//   `security: []`, audited routes (YW_ROUTE_AUDIT) name their action in
//   `x-audit-action`, and their responses carry X-Yiwang-Audit-Seq;
// - every schema in the document uses only keywords tests/api/lib/schema.mjs
//   enforces, every $ref resolves, every request body refuses unknown members;
// - a set of real requests over every route, succeeding and failing, gets
//   only statuses the description lists for that route, with the documented
//   content type, a body valid against the documented schema, and the
//   documented required headers; problem bodies also keep the contract of
//   DESIGN.md §5 (type ends in code, status and request_id repeat the response);
// - the bodies sent in successful requests are valid against the documented
//   request schema, and bodies the server refuses for their shape are
//   refused by it too (the cases marked docRejects).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { startServer, orgOf } from './lib/server.mjs';
import { Validator, formatErrors } from './lib/schema.mjs';
import { REPO, makeUscc, breakCheckDigit, orgCodeCheck, usccCheck, totpCode, totpStep, sleep } from './lib/util.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// Served by src/http/server.c itself, outside the route tables (GET and HEAD).
const BUILTIN = ['/healthz', '/readyz', '/metrics'].flatMap((p) => [`GET ${p}`, `HEAD ${p}`]);

const srv = await startServer();
after(async () => {
  const { code, signal } = await srv.stop();
  assert.equal(code, 0, `the server exited with ${code ?? signal} (a sanitizer report?):\n${srv.stderr.slice(-4000)}`);
});

const docRes = await srv.call('GET', '/api/v1/openapi.json');
assert.equal(docRes.status, 200, docRes.text);
const doc = docRes.json;
const v = new Validator(doc);
const coverage = new Map(); // "METHOD /template" -> Set of statuses seen

// ---- the checker ----------------------------------------------------------

function operation(method, template) {
  const op = doc.paths?.[template]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${template} is not described in api/openapi.yaml`);
  return op;
}

function mediaBase(type) {
  return (type || '').split(';')[0].trim().toLowerCase();
}

/** The documented media type object for a response Content-Type, or undefined. */
function mediaFor(content, type) {
  if (Object.hasOwn(content, type)) return content[type];
  const key = Object.keys(content).find((k) => mediaBase(k) === mediaBase(type));
  return key === undefined ? undefined : content[key];
}

function requestSchema(op) {
  const body = v.deref(op.requestBody);
  return body?.content?.['application/json']?.schema;
}

/**
 * Checks one response against the description of method + template and
 * records the status for the coverage test.
 */
function conforms(method, template, res, label) {
  const op = operation(method, template);
  const what = `${label}: ${method} ${template} → ${res.status}`;
  const audited = op['x-audit-action'] !== undefined;
  const key = `${method} ${template}`;
  if (!coverage.has(key)) coverage.set(key, new Set());
  coverage.get(key).add(res.status);

  const documented = Object.keys(op.responses);
  assert.ok(Object.hasOwn(op.responses, String(res.status)),
    `${what}: status not documented (documented: ${documented.join(', ')})\n${res.text}`);
  const response = v.deref(op.responses[String(res.status)]);

  if (audited) {
    assert.match(res.headers.get('x-yiwang-audit-seq') || '', /^[0-9]+$/, `${what}: an audited operation answers without X-Yiwang-Audit-Seq`);
  }
  const rid = res.headers.get('x-request-id');
  assert.ok(rid && /^[A-Za-z0-9._-]{1,40}$/.test(rid), `${what}: X-Request-Id missing or odd: ${rid}`);
  for (const [name, h] of Object.entries(response.headers || {})) {
    const header = v.deref(h);
    const value = res.headers.get(name);
    if (header.required) assert.ok(value !== null, `${what}: documented header ${name} is missing`);
    if (value !== null && header.schema) {
      const errs = v.validate(header.schema, value);
      assert.equal(errs.length, 0, `${what}: header ${name}: ${value}\n${formatErrors(errs)}`);
    }
  }

  const content = response.content;
  if (!content || method === 'HEAD') {
    assert.equal(res.text, '', `${what}: documented without a body, but one came`);
    return;
  }
  const type = res.headers.get('content-type');
  const media = mediaFor(content, type);
  assert.ok(media, `${what}: Content-Type ${type} is not documented (${Object.keys(content).join(', ')})`);
  const base = mediaBase(type);
  const isJson = base === 'application/json' || base.endsWith('+json');
  let body = res.text;
  if (isJson) {
    assert.ok(res.json !== null || res.text === 'null', `${what}: body is not JSON: ${res.text.slice(0, 200)}`);
    body = res.json;
  }
  if (media.schema) {
    const errs = v.validate(media.schema, body);
    assert.equal(errs.length, 0, `${what}: body does not match the documented schema\n${formatErrors(errs)}\n${res.text.slice(0, 600)}`);
  }
  if (base === 'application/problem+json') checkProblem(res, what);
}

/** DESIGN.md §5 on problem bodies, beyond what a schema can say. */
function checkProblem(res, what) {
  const p = res.json;
  assert.equal(p.status, res.status, `${what}: problem status differs from the HTTP status`);
  assert.equal(p.type, `https://yiwang.dev/problems/${p.code}`, `${what}: problem type does not end in its code`);
  assert.equal(p.request_id, res.headers.get('x-request-id'), `${what}: problem request_id differs from X-Request-Id`);
  assert.doesNotMatch(p.detail, /SQLITE|sqlite3_|SELECT |INSERT |UPDATE |\.c:\d+/, `${what}: detail leaks internals`);
}

/**
 * Sends a request to a documented route and checks the answer.
 *   template  the documented path, e.g. /api/v1/orgs/{code}
 *   params    values for the {placeholders}
 *   query     an object of query parameters
 *   expect    the status the scenario expects (also checked)
 *   code      the problem code the scenario expects
 *   docRejects  the body's shape is wrong: the documented request schema must refuse it
 */
async function api(method, template, { params = {}, query, token, body, raw, headers, announce: length, expect, code, docRejects, label } = {}) {
  const path = template.replace(/\{(\w+)\}/g, (_, name) => {
    assert.ok(Object.hasOwn(params, name), `no value for {${name}}`);
    return encodeURIComponent(params[name]);
  });
  const qs = query ? `?${new URLSearchParams(query)}` : '';
  const res = length === undefined
    ? await srv.call(method, path + qs, { token, body, raw, headers })
    : await announce(method, path + qs, length, token ? { Authorization: `Bearer ${token}` } : {});
  const what = label || `${method} ${path}${qs}`;
  if (expect !== undefined) assert.equal(res.status, expect, `${what}: expected ${expect}, got ${res.status}: ${res.text}`);
  if (code !== undefined) assert.equal(res.json?.code, code, `${what}: expected problem ${code}: ${res.text}`);
  conforms(method, template, res, what);

  const schema = requestSchema(operation(method, template));
  if (schema && body !== undefined) {
    const errs = v.validate(schema, body);
    if (res.status >= 200 && res.status < 300) {
      assert.equal(errs.length, 0, `${what}: the server accepted a body the description refuses\n${formatErrors(errs)}`);
    }
    if (docRejects) assert.ok(errs.length > 0, `${what}: the description accepts a body the server refuses for its shape`);
  }
  return res;
}

/**
 * Sends only the head of a request announcing a body of `length` bytes: the
 * server refuses a body over the route's limit by its Content-Length alone,
 * answers at once and closes the connection. (Streaming the body with fetch
 * would race that close and fail now and then with EPIPE.) Returns the answer
 * in the shape of srv.call.
 */
function announce(method, path, length, headers = {}) {
  const head = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json',
    `Content-Length: ${length}`, ...Object.entries(headers).map(([k, x]) => `${k}: ${x}`), '', ''].join('\r\n');
  return new Promise((resolve, reject) => {
    const sock = net.connect(srv.port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const done = () => {
      const text = data.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const lines = text.slice(0, end).split('\r\n');
      const h = new Headers();
      for (const line of lines.slice(1)) {
        const at = line.indexOf(':');
        h.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      }
      const body = data.subarray(Buffer.byteLength(text.slice(0, end + 4)));
      const want = Number(h.get('content-length') ?? -1);
      if (want >= 0 && body.length < want) return false;
      const bodyText = body.subarray(0, want >= 0 ? want : body.length).toString('utf8');
      let json = null;
      try { json = JSON.parse(bodyText); } catch { /* not JSON */ }
      sock.destroy();
      resolve({ status: Number(lines[0].split(' ')[1]), headers: h, json, text: bodyText });
      return true;
    };
    sock.setTimeout(10000, () => { sock.destroy(); reject(new Error(`no answer to ${method} ${path}`)); });
    sock.on('data', (d) => { data = Buffer.concat([data, d]); done(); });
    sock.on('error', reject);
    sock.on('close', () => { if (!done()) reject(new Error(`connection closed: ${data}`)); });
    sock.on('connect', () => sock.write(head));
  });
}

/** Over the default 1 MiB body limit. */
const HUGE = { announce: 1024 * 1024 + 1 };

async function login(username, password = srv.accounts.password, extra = {}) {
  const res = await api('POST', '/api/v1/auth/login', { body: { username, password, ...extra }, expect: 200 });
  return res.json.token;
}

// ---- state shared by the scenarios (they run in order) ----------------------

const acc = srv.accounts;
const GAJ = orgOf(acc, 'gaj_admin');
const JTJ = orgOf(acc, 'jtj_admin');
const BUREAU = orgOf(acc, 'dsj_admin');
const gajClient = acc.clients.find((c) => c.id.startsWith(`${GAJ}/`));
const t = {};
// A new department: registration authority 1, category 1 (机关), region 330100, org code 00249799-check.
const NEW_ORG = (() => {
  const first17 = `11330100${'00249799'}${orgCodeCheck('00249799')}`;
  return first17 + usccCheck(first17);
})();

// ---- the document itself ------------------------------------------------------

test('the validator enforces what the document relies on', () => {
  const vv = new Validator({ components: { schemas: { N: { type: ['string', 'null'], format: 'date-time' } } } });
  const obj = { type: 'object', additionalProperties: false, required: ['a'], properties: { a: { $ref: '#/components/schemas/N' } } };
  assert.ok(vv.isValid(obj, { a: null }));
  assert.ok(vv.isValid(obj, { a: '2025-02-28T23:59:59.123Z' }));
  assert.ok(vv.isValid(obj, { a: '2024-02-29T00:00:00+08:00' }));
  assert.ok(!vv.isValid(obj, { a: '2025-02-29T00:00:00Z' }), 'not a leap year');
  assert.ok(!vv.isValid(obj, { a: '2025-01-01 00:00:00Z' }));
  assert.ok(!vv.isValid(obj, { a: 1 }));
  assert.ok(!vv.isValid(obj, {}), 'required');
  assert.ok(!vv.isValid(obj, { a: null, b: 1 }), 'additionalProperties false');
  assert.ok(vv.isValid({ type: 'integer' }, 3) && !vv.isValid({ type: 'integer' }, 3.5));
  assert.ok(vv.isValid({ type: 'number' }, 3));
  assert.ok(!vv.isValid({ type: 'string', maxLength: 2 }, '公民身') && vv.isValid({ type: 'string', maxLength: 3 }, '公民身'));
  assert.ok(!vv.isValid({ enum: ['a', 'b'] }, 'c') && vv.isValid({ const: true }, true) && !vv.isValid({ const: true }, 1));
  assert.ok(!vv.isValid({ type: 'array', items: { type: 'string' } }, ['a', 2]));
  const one = { oneOf: [{ type: 'string' }, { type: 'string', maxLength: 1 }] };
  assert.ok(vv.isValid(one, 'ab') && !vv.isValid(one, 'a'), 'oneOf needs exactly one');
  assert.ok(vv.isValid({ anyOf: [{ type: 'null' }, { type: 'integer' }] }, null));
  assert.ok(!vv.isValid({ type: 'string', pattern: '^a+$' }, 'ab'));
  assert.throws(() => vv.check({ type: 'string', contentEncoding: 'base64' }), /not supported/);
  assert.throws(() => vv.check({ $ref: '#/components/schemas/Missing' }), /does not resolve/);
});

test('the description is OpenAPI 3.1, served as JSON, and uses only what the validator enforces', () => {
  assert.match(docRes.headers.get('content-type'), /^application\/json/);
  assert.equal(doc.openapi, '3.1.0');
  assert.equal(doc.components.securitySchemes.bearer.scheme, 'bearer');
  assert.deepEqual(doc.security, [{ bearer: [] }]);
  for (const [name, schema] of Object.entries(doc.components.schemas)) v.check(schema, `#/components/schemas/${name}`);
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const p of item.parameters || []) v.check(v.deref(p).schema, `${template} parameter`);
    for (const method of METHODS.filter((m) => item[m])) {
      const op = item[method];
      const where = `${method.toUpperCase()} ${template}`;
      assert.ok(op.responses && Object.keys(op.responses).length > 0, `${where}: no responses`);
      for (const p of op.parameters || []) v.check(v.deref(p).schema, `${where} parameter`);
      for (const [status, r] of Object.entries(op.responses)) {
        assert.match(status, /^[1-5][0-9][0-9]$/, `${where}: response keys are quoted status codes`);
        const response = v.deref(r);
        assert.equal(typeof response.description, 'string', `${where} ${status}: description`);
        for (const h of Object.values(response.headers || {})) v.check(v.deref(h).schema || {}, `${where} ${status} header`);
        for (const [type, media] of Object.entries(response.content || {})) {
          v.check(media.schema, `${where} ${status} ${type}`);
          if (Number(status) >= 400) {
            assert.equal(type, 'application/problem+json', `${where} ${status}: errors are problem details`);
            assert.equal(media.schema.$ref, '#/components/schemas/Problem', `${where} ${status}: errors use Problem`);
          }
        }
      }
      const schema = requestSchema(op);
      const streamed = op.requestBody && Object.keys(op.requestBody.content).every((c) => c !== 'application/json');
      if (op.requestBody && !streamed) {
        assert.ok(schema, `${where}: request body is not application/json`);
        const resolved = v.deref(schema);
        assert.equal(resolved.type, 'object', `${where}: request body is an object`);
        assert.equal(resolved.additionalProperties, false, `${where}: unknown members must be refused`);
      }
      const path = template.match(/\{\w+\}/g) || [];
      const declared = [...(item.parameters || []), ...(op.parameters || [])].map((p) => v.deref(p))
        .filter((p) => p.in === 'path').map((p) => `{${p.name}}`);
      assert.deepEqual([...declared].sort(), [...path].sort(), `${where}: path parameters`);
      const secured = op.security === undefined ? doc.security : op.security;
      if (secured.length > 0) assert.ok(op.responses['401'], `${where}: authenticated operations document 401`);
    }
  }
  const problem = doc.components.schemas.Problem;
  assert.deepEqual([...problem.required].sort(), ['code', 'detail', 'request_id', 'status', 'title', 'type']);
});

/**
 * Every route table of the server: each `yw_route NAME[] = {...};` in a .c
 * file under src/ (the modules' module.c, src/app/meta.c, and any other
 * module that keeps its table beside its handlers). Entries look like
 * {"GET", "/api/v1/orgs", handler, FLAGS, BODY_LIMIT, "action"}, with an optional
 * stream function after the action.
 */
function routeTables() {
  const routes = new Map(); // "METHOD /pattern" -> {flags, action, file}
  const files = readdirSync(join(REPO, 'src'), { recursive: true }).filter((f) => f.endsWith('.c'));
  for (const f of files) {
    const text = readFileSync(join(REPO, 'src', f), 'utf8');
    for (const table of text.matchAll(/\byw_route\s+\w+\s*\[\s*\]\s*=\s*\{([\s\S]*?)\n\};/g)) {
      const entries = [...table[1].matchAll(/\{\s*"([A-Z]+)"\s*,\s*"(\/[^"]*)"\s*,\s*\w+\s*,\s*([^,]+?)\s*,\s*[^,]+?\s*,\s*"([^"]*)"\s*(?:,\s*\w+\s*)?\}/g)];
      const opened = (table[1].match(/\{\s*"/g) || []).length;
      assert.equal(entries.length, opened, `src/${f}: could not read every entry of a route table`);
      for (const [, method, pattern, flags, action] of entries) {
        const key = `${method} ${pattern}`;
        assert.ok(!routes.has(key), `${key} is routed twice`);
        routes.set(key, { flags: flags.split('|').map((x) => x.trim()), action, file: `src/${f}` });
      }
    }
  }
  return routes;
}

test('every route of the server is described, and nothing else', () => {
  const routes = routeTables();
  assert.ok(routes.has('GET /api/v1/openapi.json') && routes.has('POST /api/v1/auth/login'), 'route tables found');
  const described = new Map();
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) if (item[m]) described.set(`${m.toUpperCase()} ${template}`, item[m]);
  }
  const missing = [...routes.keys()].filter((r) => !described.has(r)).map((r) => `${r} (${routes.get(r).file})`);
  const extra = [...described.keys()].filter((r) => !routes.has(r) && !BUILTIN.includes(r));
  assert.deepEqual(missing, [], 'routes in the server but not in api/openapi.yaml');
  assert.deepEqual(extra, [], 'operations in api/openapi.yaml that the server does not route');
  for (const b of BUILTIN) assert.ok(described.has(b), `${b} is described`);
  // Public routes need no credential; audited routes name their audit action.
  for (const [key, route] of routes) {
    const op = described.get(key);
    const isPublic = route.flags.includes('YW_ROUTE_PUBLIC');
    assert.deepEqual(op.security, isPublic ? [] : undefined, `${key}: security (public: ${isPublic})`);
    const audited = route.flags.includes('YW_ROUTE_AUDIT');
    assert.equal(op['x-audit-action'], audited ? route.action : undefined, `${key}: x-audit-action`);
  }
});

// ---- the scenarios -------------------------------------------------------------

test('meta: description, health, readiness, metrics', async () => {
  await api('GET', '/api/v1/openapi.json', { expect: 200 });
  await api('GET', '/healthz', { expect: 200 });
  await api('HEAD', '/healthz', { expect: 200 });
  await api('GET', '/readyz', { expect: 200 });
  await api('HEAD', '/readyz', { expect: 200 });
  const m = await api('GET', '/metrics', { expect: 200 });
  assert.match(m.text, /^yiwang_http_requests_total\{/m);
  await api('HEAD', '/metrics', { expect: 200 });
});

test('sign-in: success and every refusal', async () => {
  t.gajAdmin = await login('gaj_admin');
  t.gajClerk = await login('gaj_clerk');
  t.jtjAdmin = await login('jtj_admin');
  t.jtjSteward = await login('jtj_steward');
  t.jtjClerk = await login('jtj_clerk');
  t.dsjAdmin = await login('dsj_admin');
  t.sys = await login('demo_sysadmin');
  t.sec = await login('demo_secadmin');
  const L = '/api/v1/auth/login';
  await api('POST', L, { body: { username: 'mzj_clerk', password: 'Wrong-Passw0rd' }, expect: 401, code: 'invalid_credentials' });
  await api('POST', L, { body: { username: 'nobody_here', password: 'Wrong-Passw0rd' }, expect: 401, code: 'invalid_credentials' });
  await api('POST', L, { body: { username: 'gaj_admin' }, expect: 400, code: 'invalid_request', docRejects: true });
  await api('POST', L, { body: { username: 'gaj_admin', password: acc.password, remember: true }, expect: 400, docRejects: true });
  await api('POST', L, { body: { username: 'gaj_admin', password: 12345 }, expect: 400, docRejects: true });
  await api('POST', L, { body: { username: 'gaj_admin', password: acc.password, totp: '1234567' }, expect: 400, docRejects: true });
  await api('POST', L, { body: ['gaj_admin'], expect: 400, docRejects: true });
  await api('POST', L, { raw: '{"username":', headers: { 'Content-Type': 'application/json' }, expect: 400, code: 'malformed_json' });
  await api('POST', L, { raw: 'username=gaj_admin', headers: { 'Content-Type': 'text/plain' }, expect: 415, code: 'unsupported_media_type' });
  await api('POST', L, { announce: 16 * 1024 + 1, expect: 413, code: 'body_too_large' });
  // Five failures lock the account; then even the right password is refused, with Retry-After.
  for (let i = 0; i < 5; i++) {
    await api('POST', L, { body: { username: 'sthj_clerk', password: `Wrong-Passw0rd-${i}` }, expect: 401, code: 'invalid_credentials' });
  }
  const locked = await api('POST', L, { body: { username: 'sthj_clerk', password: acc.password }, expect: 401, code: 'account_locked' });
  assert.match(locked.headers.get('retry-after') || '', /^[0-9]+$/);
});

test('who am I, for users and clients; sign-out', async () => {
  const me = await api('GET', '/api/v1/auth/me', { token: t.gajAdmin, expect: 200 });
  assert.equal(me.json.kind, 'user');
  const client = await api('GET', '/api/v1/auth/me', { token: gajClient.secret, expect: 200 });
  assert.equal(client.json.kind, 'client');
  assert.equal(client.json.client_id, gajClient.id);
  await api('GET', '/api/v1/auth/me', { expect: 401, code: 'unauthenticated' });
  await api('GET', '/api/v1/auth/me', { token: `yws_${'A'.repeat(43)}`, expect: 401, code: 'invalid_token' });
  await api('GET', '/api/v1/auth/me', { headers: { Authorization: 'Basic Z2FqOng=' }, expect: 401, code: 'unauthenticated' });

  const session = await login('gaj_steward');
  await api('POST', '/api/v1/auth/logout', { token: session, expect: 204 });
  await api('GET', '/api/v1/auth/me', { token: session, expect: 401, code: 'invalid_token' });
  await api('POST', '/api/v1/auth/logout', { token: session, expect: 401 });
  await api('POST', '/api/v1/auth/logout', { token: gajClient.secret, expect: 403, code: 'forbidden' });
  await api('POST', '/api/v1/auth/logout', { expect: 401 });
});

test('the console: its files, its cookie sign-in and the CSRF proof', async () => {
  const page = await api('GET', '/', { expect: 200 });
  assert.match(page.text, /<script type="module" src="\/console\/main.js">/);
  await api('GET', '/', { headers: { 'If-None-Match': page.headers.get('etag') }, expect: 304 });
  const main = await api('GET', '/console/{file}', { params: { file: 'main.js' }, expect: 200 });
  await api('GET', '/console/{file}', { params: { file: 'main.js' }, headers: { 'If-None-Match': main.headers.get('etag') }, expect: 304 });
  await api('GET', '/console/{file}', { params: { file: 'app.css' }, expect: 200 });
  await api('GET', '/console/{file}', { params: { file: 'nothing.js' }, expect: 404, code: 'not_found' });
  const mod = await api('GET', '/console/pages/{file}', { params: { file: 'catalog.js' }, expect: 200 });
  await api('GET', '/console/pages/{file}', { params: { file: 'catalog.js' }, headers: { 'If-None-Match': mod.headers.get('etag') }, expect: 304 });
  await api('GET', '/console/pages/{file}', { params: { file: '..%2fmain.js' }, expect: 404, code: 'not_found' });

  const L = '/api/v1/auth/console/login';
  await api('POST', L, { body: { username: 'gaj_steward' }, expect: 400, code: 'invalid_request', docRejects: true });
  await api('POST', L, { body: { username: 'gaj_steward', password: 'Wrong-Passw0rd' }, expect: 401, code: 'invalid_credentials' });
  await api('POST', L, { raw: 'username=gaj_steward', headers: { 'Content-Type': 'text/plain' }, expect: 415, code: 'unsupported_media_type' });
  await api('POST', L, { announce: 16 * 1024 + 1, expect: 413, code: 'body_too_large' });
  const res = await api('POST', L, { body: { username: 'gaj_steward', password: acc.password }, expect: 200 });
  assert.equal(res.json.token, undefined, 'the token stays out of the body');
  const cookies = res.headers.getSetCookie();
  const session = cookies.find((c) => c.startsWith('yw_session='));
  const csrf = cookies.find((c) => c.startsWith('yw_csrf='));
  assert.match(session, /^yw_session=yws_[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
  assert.match(csrf, /^yw_csrf=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; SameSite=Strict$/);
  const cookie = `${session.split(';')[0]}; ${csrf.split(';')[0]}`;
  const proof = csrf.split(';')[0].slice('yw_csrf='.length);
  const me = await api('GET', '/api/v1/auth/me', { headers: { Cookie: cookie }, expect: 200 });
  assert.equal(me.json.username, 'gaj_steward');
  // Unsafe requests by cookie need the proof; without it (or with another) they change nothing.
  await api('POST', '/api/v1/auth/logout', { headers: { Cookie: cookie }, expect: 403, code: 'csrf_failed' });
  await api('POST', '/api/v1/auth/logout', { headers: { Cookie: cookie, 'X-CSRF-Token': 'A'.repeat(43) }, expect: 403, code: 'csrf_failed' });
  await api('GET', '/api/v1/auth/me', { headers: { Cookie: cookie }, expect: 200 });
  // A bearer token is taken before any cookie, and needs no proof.
  const bearer = await login('gaj_steward');
  await api('POST', '/api/v1/auth/logout', { token: bearer, headers: { Cookie: cookie }, expect: 204 });
  await api('GET', '/api/v1/auth/me', { headers: { Cookie: cookie }, expect: 200 });
  const out = await api('POST', '/api/v1/auth/logout', { headers: { Cookie: cookie, 'X-CSRF-Token': proof }, expect: 204 });
  assert.ok(out.headers.getSetCookie().some((c) => /^yw_session=; Path=\/; Max-Age=0; HttpOnly/.test(c)), 'sign-out clears the cookie');
  await api('GET', '/api/v1/auth/me', { headers: { Cookie: cookie }, expect: 401, code: 'invalid_token' });
});

test('TOTP: enrol, confirm, sign-in needs it, an administrator removes it', async () => {
  const T = '/api/v1/auth/totp', C = '/api/v1/auth/totp/confirm';
  await api('POST', T, { expect: 401 });
  await api('POST', T, { token: gajClient.secret, expect: 403, code: 'forbidden' });
  await api('POST', C, { token: t.jtjClerk, body: { code: '123456' }, expect: 409, code: 'no_pending_totp' });
  const enrol = await api('POST', T, { token: t.jtjClerk, expect: 201 });
  const { secret } = enrol.json;
  const step = totpStep();
  const near = new Set([-2, -1, 0, 1, 2].map((d) => totpCode(secret, step + d)));
  let wrong = '000000';
  for (let n = 0; near.has(wrong); n++) wrong = String(n).padStart(6, '0');
  await api('POST', C, { token: t.jtjClerk, body: { code: wrong }, expect: 422, code: 'wrong_code' });
  await api('POST', C, { token: t.jtjClerk, body: {}, expect: 400, docRejects: true });
  await api('POST', C, { token: t.jtjClerk, body: { code: '1234567' }, expect: 400, docRejects: true });
  await api('POST', C, { token: t.jtjClerk, raw: '123456', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', C, { token: gajClient.secret, body: { code: '123456' }, expect: 403 });
  await api('POST', C, { body: { code: '123456' }, expect: 401 });
  await api('POST', C, { token: t.jtjClerk, ...HUGE, expect: 413, code: 'body_too_large' });
  await api('POST', C, { token: t.jtjClerk, body: { code: totpCode(secret) }, expect: 200 });
  await api('POST', T, { token: t.jtjClerk, expect: 409, code: 'totp_enabled' });
  await api('POST', C, { token: t.jtjClerk, body: { code: '123456' }, expect: 409, code: 'no_pending_totp' });
  await api('POST', '/api/v1/auth/login', { body: { username: 'jtj_clerk', password: acc.password }, expect: 401, code: 'totp_required' });

  const R = '/api/v1/users/{username}/totp';
  await api('DELETE', R, { params: { username: 'jtj_clerk' }, expect: 401 });
  await api('DELETE', R, { params: { username: 'jtj_clerk' }, token: t.gajAdmin, expect: 404, label: 'another org is hidden' });
  await api('DELETE', R, { params: { username: 'jtj_clerk' }, token: t.jtjSteward, expect: 403 });
  await api('DELETE', R, { params: { username: 'demo_auditor' }, token: t.dsjAdmin, expect: 403, label: 'platform admins: secadmin only' });
  await api('DELETE', R, { params: { username: 'no_such_user' }, token: t.sec, expect: 404 });
  await api('DELETE', R, { params: { username: 'jtj_clerk' }, token: t.jtjAdmin, expect: 204 });
  await login('jtj_clerk');
});

test('orgs: list, create, read, change', async () => {
  const O = '/api/v1/orgs', ONE = '/api/v1/orgs/{code}';
  const page = await api('GET', O, { token: t.gajClerk, query: { limit: 3 }, expect: 200 });
  assert.equal(page.json.items.length, 3);
  assert.equal(typeof page.json.next_cursor, 'string');
  const next = await api('GET', O, { token: gajClient.secret, query: { limit: 1000, cursor: page.json.next_cursor }, expect: 200 });
  assert.equal(next.json.next_cursor, null);
  assert.ok(next.json.items.every((o) => o.code > page.json.items[2].code));
  await api('GET', O, { token: t.gajClerk, query: { level: 'city', parent: BUREAU }, expect: 200 });
  await api('GET', O, { token: t.gajClerk, query: { limit: 0 }, expect: 400, code: 'invalid_request' });
  await api('GET', O, { token: t.gajClerk, query: { cursor: '!!' }, expect: 400, code: 'invalid_request' });
  await api('GET', O, { expect: 401 });

  const org = { code: NEW_ORG, name: '市数据测试中心', region_code: '330100', level: 'district', parent_code: BUREAU };
  const created = await api('POST', O, { token: t.sys, body: org, expect: 201 });
  assert.equal(created.headers.get('location'), `/api/v1/orgs/${NEW_ORG}`);
  assert.equal(created.json.parent_code, BUREAU);
  await api('POST', O, { token: t.sys, body: org, expect: 409, code: 'conflict' });
  await api('POST', O, { token: t.sys, body: { ...org, code: breakCheckDigit(makeUscc()) }, expect: 422, code: 'validation_failed' });
  await api('POST', O, { token: t.sys, body: { ...org, code: makeUscc(), level: 'galaxy' }, expect: 422, docRejects: true });
  await api('POST', O, { token: t.sys, body: { ...org, code: makeUscc(), region_code: '990100' }, expect: 422, docRejects: true });
  await api('POST', O, { token: t.sys, body: { ...org, code: makeUscc(), parent_code: makeUscc() }, expect: 422 });
  await api('POST', O, { token: t.sys, body: { ...org, note: 'x' }, expect: 400, docRejects: true });
  await api('POST', O, { token: t.sys, body: { name: 'x', region_code: '330100', level: 'city' }, expect: 400, docRejects: true });
  await api('POST', O, { token: t.sys, body: { ...org, code: 'X'.repeat(19) }, expect: 400, docRejects: true });
  await api('POST', O, { token: t.sys, raw: 'code=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, expect: 415 });
  await api('POST', O, { token: t.sys, ...HUGE, expect: 413 });
  await api('POST', O, { token: t.gajAdmin, body: org, expect: 403, code: 'forbidden' });
  await api('POST', O, { body: org, expect: 401 });

  await api('GET', ONE, { params: { code: NEW_ORG }, token: t.gajClerk, expect: 200 });
  await api('GET', ONE, { params: { code: breakCheckDigit(NEW_ORG) }, token: t.gajClerk, expect: 404, code: 'not_found' });
  await api('GET', ONE, { params: { code: NEW_ORG }, expect: 401 });

  const changed = await api('PATCH', ONE, { params: { code: NEW_ORG }, token: t.sys, body: { name: '市数据测试中心（新）', status: 'inactive' }, expect: 200 });
  assert.equal(changed.json.status, 'inactive');
  await api('PATCH', ONE, { params: { code: NEW_ORG }, token: t.sys, body: {}, expect: 200 });
  await api('PATCH', ONE, { params: { code: NEW_ORG }, token: t.sys, body: { level: 'galaxy' }, expect: 422, docRejects: true });
  await api('PATCH', ONE, { params: { code: NEW_ORG }, token: t.sys, body: { status: 'closed' }, expect: 422, docRejects: true });
  await api('PATCH', ONE, { params: { code: NEW_ORG }, token: t.sys, body: { parent_code: NEW_ORG }, expect: 422 });
  await api('PATCH', ONE, { params: { code: BUREAU }, token: t.sys, body: { parent_code: NEW_ORG }, expect: 422, label: 'a cycle' });
  await api('PATCH', ONE, { params: { code: NEW_ORG }, token: t.sys, body: { code: BUREAU }, expect: 400, docRejects: true });
  await api('PATCH', ONE, { params: { code: NEW_ORG }, token: t.sys, body: { parent_code: 7 }, expect: 400, docRejects: true });
  const top = await api('PATCH', ONE, { params: { code: NEW_ORG }, token: t.sys, body: { parent_code: null }, expect: 200 });
  assert.equal(top.json.parent_code, null);
  await api('PATCH', ONE, { params: { code: NEW_ORG }, token: t.sys, ...HUGE, expect: 413 });
  await api('PATCH', ONE, { params: { code: NEW_ORG }, token: t.sys, raw: 'name=x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('PATCH', ONE, { params: { code: breakCheckDigit(NEW_ORG) }, token: t.sys, body: { name: 'x' }, expect: 404 });
  await api('PATCH', ONE, { params: { code: NEW_ORG }, token: t.gajAdmin, body: { name: 'x' }, expect: 403 });
  await api('PATCH', ONE, { params: { code: NEW_ORG }, body: { name: 'x' }, expect: 401 });
});

test('users: list, create, read, change', async () => {
  const U = '/api/v1/users', ONE = '/api/v1/users/{username}';
  const all = await api('GET', U, { token: t.sec, query: { limit: 5 }, expect: 200 });
  assert.equal(typeof all.json.next_cursor, 'string');
  await api('GET', U, { token: t.sec, query: { org: JTJ }, expect: 200 });
  const own = await api('GET', U, { token: t.gajAdmin, query: { org: JTJ }, expect: 200 });
  assert.ok(own.json.items.length > 0 && own.json.items.every((u) => u.org_code === GAJ), 'org admins see their own org only');
  await api('GET', U, { token: t.gajClerk, expect: 403, code: 'forbidden' });
  await api('GET', U, { token: t.sec, query: { limit: 5000 }, expect: 400 });
  await api('GET', U, { expect: 401 });

  const user = { username: 'gaj_newbie', display_name: '公安新人', org_code: GAJ, roles: ['clerk'] };
  const created = await api('POST', U, { token: t.gajAdmin, body: user, expect: 201 });
  assert.equal(created.headers.get('location'), '/api/v1/users/gaj_newbie');
  t.newbiePassword = created.json.password;
  await api('POST', U, { token: t.gajAdmin, body: user, expect: 409, code: 'conflict' });
  await api('POST', U, { token: t.gajAdmin, body: { ...user, username: 'gaj_other', org_code: JTJ }, expect: 403 });
  await api('POST', U, { token: t.gajAdmin, body: { ...user, username: 'gaj_root', roles: ['sysadmin'] }, expect: 403 });
  await api('POST', U, { token: t.gajClerk, body: { ...user, username: 'gaj_other' }, expect: 403 });
  await api('POST', U, { token: t.sec, body: { ...user, username: 'Gaj-Upper' }, expect: 422, docRejects: true });
  await api('POST', U, { token: t.sec, body: { ...user, username: 'gaj_other', roles: ['wizard'] }, expect: 422, docRejects: true });
  await api('POST', U, { token: t.sec, body: { ...user, username: 'gaj_other', roles: [] }, expect: 422, docRejects: true });
  await api('POST', U, { token: t.sec, body: { ...user, username: 'gaj_other', roles: ['clerk', 'clerk'] }, expect: 422, docRejects: true });
  await api('POST', U, { token: t.sec, body: { ...user, username: 'gaj_other', roles: ['auditor', 'steward'] }, expect: 422 });
  await api('POST', U, { token: t.sec, body: { ...user, username: 'gaj_other', org_code: breakCheckDigit(GAJ) }, expect: 422 });
  const { roles: _, ...noRoles } = user;
  await api('POST', U, { token: t.sec, body: { ...noRoles, username: 'gaj_other' }, expect: 400, docRejects: true });
  await api('POST', U, { token: t.sec, body: { ...user, username: 'gaj_other', email: 'a@b' }, expect: 400, docRejects: true });
  await api('POST', U, { token: t.sec, body: { ...user, username: 'gaj_other', roles: 'clerk' }, expect: 400, docRejects: true });
  await api('POST', U, { token: t.sec, raw: '{', headers: { 'Content-Type': 'application/json' }, expect: 400 });
  await api('POST', U, { token: t.sec, raw: 'x', headers: { 'Content-Type': 'text/csv' }, expect: 415 });
  await api('POST', U, { token: t.sec, ...HUGE, expect: 413 });
  await api('POST', U, { body: user, expect: 401 });

  await api('GET', ONE, { params: { username: 'gaj_clerk' }, token: t.gajAdmin, expect: 200 });
  await api('GET', ONE, { params: { username: 'gaj_clerk' }, token: t.gajClerk, expect: 200, label: 'oneself' });
  await api('GET', ONE, { params: { username: 'gaj_steward' }, token: t.gajClerk, expect: 403 });
  await api('GET', ONE, { params: { username: 'jtj_clerk' }, token: t.gajAdmin, expect: 404, label: 'another org is hidden' });
  await api('GET', ONE, { params: { username: 'no_such_user' }, token: t.sec, expect: 404 });
  await api('GET', ONE, { params: { username: 'gaj_clerk' }, expect: 401 });

  const P = { params: { username: 'gaj_newbie' } };
  await api('PATCH', ONE, { ...P, token: t.gajAdmin, body: { display_name: '公安新同事', roles: ['clerk', 'approver'] }, expect: 200 });
  await api('PATCH', ONE, { params: { username: 'gaj_admin' }, token: t.gajAdmin, body: { roles: ['steward'] }, expect: 403, label: 'own roles' });
  await api('PATCH', ONE, { params: { username: 'gaj_admin' }, token: t.gajAdmin, body: { status: 'disabled' }, expect: 422, label: 'own status' });
  await api('PATCH', ONE, { ...P, token: t.gajAdmin, body: { status: 'gone' }, expect: 422, docRejects: true });
  await api('PATCH', ONE, { ...P, token: t.gajAdmin, body: { display_name: '' }, expect: 422, docRejects: true });
  await api('PATCH', ONE, { ...P, token: t.gajAdmin, body: { org_code: JTJ }, expect: 400, docRejects: true });
  await api('PATCH', ONE, { ...P, token: t.gajAdmin, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('PATCH', ONE, { ...P, token: t.gajAdmin, ...HUGE, expect: 413 });
  await api('PATCH', ONE, { params: { username: 'demo_auditor' }, token: t.dsjAdmin, body: { display_name: 'x' }, expect: 403 });
  await api('PATCH', ONE, { params: { username: 'jtj_clerk' }, token: t.gajAdmin, body: { display_name: 'x' }, expect: 404 });
  await api('PATCH', ONE, { ...P, token: t.gajClerk, body: { display_name: 'x' }, expect: 403 });
  await api('PATCH', ONE, { ...P, body: { display_name: 'x' }, expect: 401 });

  // Disabling an account ends its sessions at once.
  const steward = await login('gaj_steward');
  const off = await api('PATCH', ONE, { params: { username: 'gaj_steward' }, token: t.gajAdmin, body: { status: 'disabled' }, expect: 200 });
  assert.equal(off.json.status, 'disabled');
  await api('GET', '/api/v1/auth/me', { token: steward, expect: 401 });
  await api('PATCH', ONE, { params: { username: 'gaj_steward' }, token: t.gajAdmin, body: { status: 'active' }, expect: 200 });
});

test('passwords: the forced first change, own changes, resets', async () => {
  const PW = '/api/v1/users/{username}/password';
  const first = await api('POST', '/api/v1/auth/login', { body: { username: 'gaj_newbie', password: t.newbiePassword }, expect: 200 });
  assert.equal(first.json.user.must_change_password, true);
  const nb = first.json.token;
  await api('GET', '/api/v1/auth/me', { token: nb, expect: 403, code: 'password_change_required' });
  await api('GET', '/api/v1/orgs', { token: nb, expect: 403, code: 'password_change_required' });
  await api('GET', '/api/v1/orgs/{code}', { params: { code: GAJ }, token: nb, expect: 403, code: 'password_change_required' });
  await api('GET', '/api/v1/audit/tree-head', { token: nb, expect: 403, code: 'password_change_required' });
  await api('POST', PW, { params: { username: 'gaj_clerk' }, token: nb, body: { new_password: 'Another-Passw0rd' }, expect: 403, code: 'password_change_required' });
  const me = { params: { username: 'gaj_newbie' }, token: nb };
  await api('POST', PW, { ...me, body: { new_password: 'Fresh-Passw0rd!' }, expect: 400, label: 'own change without the current one' });
  await api('POST', PW, { ...me, body: { current_password: t.newbiePassword, new_password: 'short' }, expect: 422, code: 'weak_password', docRejects: true });
  await api('POST', PW, { ...me, body: { current_password: t.newbiePassword, new_password: 'alllowercaseletters' }, expect: 422, code: 'weak_password' });
  await api('POST', PW, { ...me, body: { current_password: 'Not-The-Passw0rd', new_password: 'Fresh-Passw0rd!' }, expect: 422, code: 'wrong_password' });
  await api('POST', PW, { ...me, body: { current_password: t.newbiePassword, new_password: 'Fresh-Passw0rd!', confirm: 'x' }, expect: 400, docRejects: true });
  await api('POST', PW, { ...me, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', PW, { ...me, announce: 16 * 1024 + 1, expect: 413 });
  await api('POST', PW, { ...me, body: { current_password: t.newbiePassword, new_password: 'Fresh-Passw0rd!' }, expect: 204 });
  await api('GET', '/api/v1/auth/me', { token: nb, expect: 200 });

  // An administrator's reset: new_password only; the user must change it again.
  const reset = { params: { username: 'gaj_newbie' }, token: t.gajAdmin };
  await api('POST', PW, { ...reset, body: { current_password: 'Fresh-Passw0rd!', new_password: 'Reset-Passw0rd1' }, expect: 400 });
  await api('POST', PW, { ...reset, body: { new_password: 'Reset-Passw0rd1' }, expect: 204 });
  await api('GET', '/api/v1/auth/me', { token: nb, expect: 401, label: 'a reset ends the sessions' });
  await api('POST', PW, { params: { username: 'jtj_steward' }, token: t.gajAdmin, body: { new_password: 'Reset-Passw0rd1' }, expect: 404 });
  await api('POST', PW, { params: { username: 'demo_sysadmin' }, token: t.dsjAdmin, body: { new_password: 'Reset-Passw0rd1' }, expect: 403 });
  await api('POST', PW, { params: { username: 'gaj_steward' }, token: t.gajClerk, body: { new_password: 'Reset-Passw0rd1' }, expect: 403 });
  await api('POST', PW, { params: { username: 'no_such_user' }, token: t.sec, body: { new_password: 'Reset-Passw0rd1' }, expect: 404 });
  await api('POST', PW, { params: { username: 'gaj_newbie' }, body: { new_password: 'Reset-Passw0rd1' }, expect: 401 });
});

test('clients: list, create, use, read, revoke', async () => {
  const C = '/api/v1/clients', ONE = '/api/v1/clients/{org_code}/{name}';
  const own = await api('GET', C, { token: t.gajAdmin, expect: 200 });
  assert.ok(own.json.items.every((c) => c.org_code === GAJ));
  const page = await api('GET', C, { token: t.sec, query: { limit: 2 }, expect: 200 });
  await api('GET', C, { token: t.sec, query: { limit: 2, cursor: page.json.next_cursor }, expect: 200 });
  await api('GET', C, { token: t.sec, query: { org: JTJ }, expect: 200 });
  await api('GET', C, { token: t.gajClerk, expect: 403 });
  await api('GET', C, { token: gajClient.secret, expect: 403, label: 'a client cannot list clients' });
  await api('GET', C, { token: t.sec, query: { limit: 'ten' }, expect: 400 });
  await api('GET', C, { expect: 401 });

  const client = { org_code: GAJ, name: 'case-system' };
  const created = await api('POST', C, { token: t.gajAdmin, body: client, expect: 201 });
  assert.equal(created.headers.get('location'), `/api/v1/clients/${GAJ}/case-system`);
  const secret = created.json.secret;
  const who = await api('GET', '/api/v1/auth/me', { token: secret, expect: 200 });
  assert.equal(who.json.client_id, `${GAJ}/case-system`);
  await api('POST', C, { token: t.gajAdmin, body: client, expect: 409 });
  await api('POST', C, { token: t.gajAdmin, body: { ...client, name: 'Case_System' }, expect: 422, docRejects: true });
  await api('POST', C, { token: t.gajAdmin, body: { ...client, name: '-lead' }, expect: 422, docRejects: true });
  await api('POST', C, { token: t.sec, body: { org_code: breakCheckDigit(GAJ), name: 'orphan' }, expect: 422 });
  await api('POST', C, { token: t.gajAdmin, body: { ...client, org_code: JTJ }, expect: 403 });
  await api('POST', C, { token: t.gajClerk, body: client, expect: 403 });
  await api('POST', C, { token: t.gajAdmin, body: { ...client, scope: 'all' }, expect: 400, docRejects: true });
  await api('POST', C, { token: t.gajAdmin, body: { ...client, name: 'x'.repeat(49) }, expect: 400, docRejects: true });
  await api('POST', C, { token: t.gajAdmin, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', C, { token: t.gajAdmin, ...HUGE, expect: 413 });
  await api('POST', C, { body: client, expect: 401 });

  const P = { params: { org_code: GAJ, name: 'case-system' } };
  await api('GET', ONE, { ...P, token: t.gajAdmin, expect: 200 });
  await api('GET', ONE, { ...P, token: t.jtjAdmin, expect: 404, label: 'another org is hidden' });
  await api('GET', ONE, { ...P, token: t.gajClerk, expect: 403 });
  await api('GET', ONE, { params: { org_code: GAJ, name: 'no-such-system' }, token: t.sec, expect: 404 });
  await api('GET', ONE, { ...P, expect: 401 });

  await api('DELETE', ONE, { ...P, token: t.jtjAdmin, expect: 404 });
  await api('DELETE', ONE, { ...P, token: t.gajClerk, expect: 403 });
  await api('DELETE', ONE, { ...P, expect: 401 });
  await api('DELETE', ONE, { params: { org_code: GAJ, name: 'no-such-system' }, token: t.sec, expect: 404 });
  await api('DELETE', ONE, { ...P, token: t.gajAdmin, expect: 204 });
  await api('GET', '/api/v1/auth/me', { token: secret, expect: 401, code: 'invalid_token' });
  const gone = await api('GET', ONE, { ...P, token: t.gajAdmin, expect: 200 });
  assert.equal(gone.json.status, 'revoked');
  assert.equal(typeof gone.json.revoked_at, 'string');
  await api('DELETE', ONE, { ...P, token: t.gajAdmin, expect: 204, label: 'revoking again' });
});

test('audit trail: entries, tree head, proofs, export', async () => {
  const auditor = await login('demo_auditor');
  const E = '/api/v1/audit/events', H = '/api/v1/audit/tree-head', P = '/api/v1/audit/proof/{seq}';
  const C = '/api/v1/audit/consistency', X = '/api/v1/audit/export';

  // An audited change names its entry; the entry records it.
  const change = await api('PATCH', '/api/v1/orgs/{code}', { params: { code: NEW_ORG }, token: t.sys, body: { name: '市数据测试中心' }, expect: 200 });
  const seq = Number(change.headers.get('x-yiwang-audit-seq'));
  const found = await api('GET', E, { token: auditor, query: { action: 'org.update', object: NEW_ORG, result: 'ok' }, expect: 200 });
  const entry = found.json.items.find((e) => e.seq === seq);
  assert.ok(entry, `entry ${seq} is listed`);
  assert.equal(entry.request_id, change.headers.get('x-request-id'));
  assert.equal(entry.actor, 'demo_sysadmin');
  assert.equal(entry.status, 200);

  const page = await api('GET', E, { token: auditor, query: { limit: 2 }, expect: 200 });
  assert.equal(typeof page.json.next_cursor, 'string');
  await api('GET', E, { token: auditor, query: { limit: 2, cursor: page.json.next_cursor, from: '2000-01-01T00:00:00Z' }, expect: 200 });
  const own = await api('GET', E, { token: t.gajAdmin, query: { org: JTJ }, expect: 200 });
  assert.ok(own.json.items.length > 0 && own.json.items.every((e) => e.actor_org === GAJ), 'org admins read their own org only');
  await api('GET', E, { token: t.gajClerk, expect: 403 });
  await api('GET', E, { token: gajClient.secret, expect: 403 });
  await api('GET', E, { token: auditor, query: { result: 'maybe' }, expect: 400 });
  await api('GET', E, { token: auditor, query: { from: 'yesterday' }, expect: 400 });
  await api('GET', E, { token: auditor, query: { limit: 0 }, expect: 400 });
  await api('GET', E, { expect: 401 });

  await api('GET', H, { token: gajClient.secret, expect: 200 });
  await api('GET', H, { expect: 401 });
  // Heads are signed every second: wait until one covers the change.
  let head;
  for (let i = 0; i < 50; i++) {
    head = await api('GET', H, { token: t.gajClerk, expect: 200 });
    if (head.json.tree_size > seq) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(head.json.tree_size > seq, 'a signed head covers the change within 5 s');

  const proof = await api('GET', P, { params: { seq }, token: auditor, expect: 200 });
  const leaf = createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(proof.json.entry, 'utf8')])).digest('base64');
  assert.equal(proof.json.leaf_hash, leaf, 'leaf hash = SHA-256(0x00 || entry)');
  await api('GET', P, { params: { seq: 0 }, token: auditor, query: { tree_size: 1 }, expect: 200 });
  await api('GET', P, { params: { seq }, token: auditor, query: { tree_size: seq }, expect: 422, code: 'validation_failed' });
  await api('GET', P, { params: { seq: 'first' }, token: auditor, expect: 400 });
  await api('GET', P, { params: { seq }, token: auditor, query: { tree_size: 'all' }, expect: 400 });
  await api('GET', P, { params: { seq: 99999999 }, token: auditor, expect: 404 });
  await api('GET', P, { params: { seq: 0 }, token: t.gajAdmin, expect: 404, label: 'platform entries are hidden from org admins' });
  await api('GET', P, { params: { seq }, token: t.gajClerk, expect: 403 });
  await api('GET', P, { params: { seq }, expect: 401 });

  const size = head.json.tree_size;
  const cons = await api('GET', C, { token: auditor, query: { from: 1, to: size }, expect: 200 });
  assert.equal(cons.json.to_head.tree_size, size);
  await api('GET', C, { token: t.gajAdmin, query: { from: 2 }, expect: 200 });
  await api('GET', C, { token: auditor, query: { to: size }, expect: 400 });
  await api('GET', C, { token: auditor, query: { from: 'one' }, expect: 400 });
  await api('GET', C, { token: auditor, query: { from: size, to: 1 }, expect: 422 });
  await api('GET', C, { token: auditor, query: { from: 1, to: 99999999 }, expect: 422 });
  await api('GET', C, { token: t.gajClerk, query: { from: 1 }, expect: 403 });
  await api('GET', C, { query: { from: 1 }, expect: 401 });

  const exp = await api('GET', X, { token: auditor, query: { from: 2, to: 5 }, expect: 200 });
  const lines = exp.text.split('\n');
  assert.equal(lines.pop(), '', 'NDJSON ends with a newline');
  assert.equal(lines.length, 4, 'a header line and three entries');
  const [first, ...entries] = lines.map((l) => JSON.parse(l));
  let errs = v.validate({ $ref: '#/components/schemas/AuditExportHeader' }, first);
  assert.equal(errs.length, 0, `export header\n${formatErrors(errs)}`);
  for (const e of entries) {
    errs = v.validate({ $ref: '#/components/schemas/AuditEntry' }, e);
    assert.equal(errs.length, 0, `export entry\n${formatErrors(errs)}`);
  }
  assert.deepEqual(entries.map((e) => e.seq), [2, 3, 4]);
  await api('GET', X, { token: auditor, query: { from: 5, to: 2 }, expect: 422 });
  await api('GET', X, { token: auditor, query: { from: -1 }, expect: 400 });
  await api('GET', X, { token: t.gajAdmin, query: { from: 0, to: 1 }, expect: 403, label: 'export is for auditors' });
  await api('GET', X, { query: { from: 0, to: 1 }, expect: 401 });
});

test('data elements: list, search, create, read', async () => {
  const E = '/api/v1/elements', ONE = '/api/v1/elements/{id}';
  const bureau = await login('dsj_steward');
  const page = await api('GET', E, { token: t.gajClerk, query: { limit: 5 }, expect: 200 });
  await api('GET', E, { token: gajClient.secret, query: { limit: 5, cursor: page.json.next_cursor }, expect: 200 });
  await api('GET', E, { token: t.gajClerk, query: { q: '身份' }, expect: 200 });
  await api('GET', E, { token: t.gajClerk, query: { q: 'x'.repeat(101) }, expect: 400 });
  await api('GET', E, { token: t.gajClerk, query: { limit: 0 }, expect: 400 });
  await api('GET', E, { expect: 401 });

  const element = { id: 'hukou_type', name: '户口性质', type: 'C', length: 2, validator: 'enum:10|20', sensitivity: 'L2' };
  const created = await api('POST', E, { token: bureau, body: element, expect: 201 });
  assert.equal(created.headers.get('location'), '/api/v1/elements/hukou_type');
  await api('POST', E, { token: bureau, body: element, expect: 409 });
  await api('POST', E, { token: bureau, body: { ...element, id: 'bad_type', type: 'Q' }, expect: 422 });
  await api('POST', E, { token: bureau, body: { ...element, id: 'bad_regex', validator: 'regex:([' }, expect: 422 });
  await api('POST', E, { token: bureau, body: { ...element, colour: 'red' }, expect: 400, docRejects: true });
  await api('POST', E, { token: bureau, body: { ...element, name: 'x'.repeat(257) }, expect: 400, docRejects: true });
  await api('POST', E, { token: bureau, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', E, { token: bureau, ...HUGE, expect: 413 });
  await api('POST', E, { token: t.gajAdmin, body: { ...element, id: 'not_mine' }, expect: 403 });
  await api('POST', E, { body: element, expect: 401 });

  await api('GET', ONE, { params: { id: 'hukou_type' }, token: t.gajClerk, expect: 200 });
  await api('GET', ONE, { params: { id: 'no_such_element' }, token: t.gajClerk, expect: 404 });
  await api('GET', ONE, { params: { id: 'id_number' }, expect: 401 });
});

test('resources: draft, list, read, change, publish, retire, versions', async () => {
  const R = '/api/v1/resources', ONE = '/api/v1/resources/{code}';
  const steward = await login('gaj_steward');
  const draft = { name: '户籍人口', provider_org: GAJ, items: [{ name: 'id_number', element: 'id_number', required: true }] };
  const made = await api('POST', R, { token: steward, body: draft, expect: 201 });
  const code = made.json.code;
  await api('POST', R, { token: steward, body: { ...draft, category: 'misc' }, expect: 422 });
  await api('POST', R, { token: steward, body: { ...draft, owner: 'x' }, expect: 400, docRejects: true });
  await api('POST', R, { token: steward, body: { name: 'x' }, expect: 400, docRejects: true });
  await api('POST', R, { token: steward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', R, { token: steward, ...HUGE, expect: 413 });
  await api('POST', R, { token: t.gajClerk, body: draft, expect: 403 });
  await api('POST', R, { body: draft, expect: 401 });

  await api('GET', R, { token: t.gajClerk, query: { status: 'draft', limit: 2 }, expect: 200 });
  await api('GET', R, { token: gajClient.secret, query: { provider: GAJ, category: 'base', share_type: 'conditional' }, expect: 200 });
  await api('GET', R, { token: t.gajClerk, query: { status: 'lost' }, expect: 400 });
  await api('GET', R, { token: t.gajClerk, query: { q: '户籍 人口', limit: 1 }, expect: 200 });
  await api('GET', R, { token: t.gajClerk, query: { q: 'x'.repeat(201) }, expect: 400 });
  await api('GET', R, { expect: 401 });

  const P = { params: { code } };
  await api('GET', ONE, { ...P, token: t.gajClerk, expect: 200 });
  await api('GET', ONE, { ...P, token: t.jtjAdmin, expect: 404, label: 'a draft is its provider\'s business' });
  await api('GET', ONE, { ...P, expect: 401 });

  await api('POST', `${ONE}/publish`, { ...P, token: steward, expect: 422, code: 'incomplete' });
  const complete = { summary: '户籍人口基本信息', category: 'base', format: 'table', share_type: 'conditional',
    share_condition: '依法履职', share_method: 'api', open_type: 'closed', update_cycle: 'daily', key_item: 'id_number' };
  await api('PATCH', ONE, { ...P, token: steward, body: complete, expect: 200 });
  await api('PATCH', ONE, { ...P, token: steward, body: { provider_org: JTJ }, expect: 422 });
  await api('PATCH', ONE, { ...P, token: steward, body: { colour: 'red' }, expect: 400, docRejects: true });
  await api('PATCH', ONE, { ...P, token: steward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('PATCH', ONE, { ...P, token: steward, ...HUGE, expect: 413 });
  await api('PATCH', ONE, { ...P, token: t.gajClerk, body: { summary: 'x' }, expect: 403 });
  await api('PATCH', ONE, { ...P, token: t.jtjAdmin, body: { summary: 'x' }, expect: 404 });
  await api('PATCH', ONE, { ...P, body: { summary: 'x' }, expect: 401 });

  await api('POST', `${ONE}/retire`, { ...P, token: steward, expect: 409, code: 'wrong_state' });
  await api('POST', `${ONE}/publish`, { ...P, token: t.gajClerk, expect: 403 });
  await api('POST', `${ONE}/publish`, { ...P, token: t.jtjAdmin, expect: 404 });
  await api('POST', `${ONE}/publish`, { ...P, expect: 401 });
  await api('POST', `${ONE}/publish`, { ...P, token: steward, expect: 200 });
  await api('POST', `${ONE}/publish`, { ...P, token: steward, expect: 409, code: 'wrong_state' });
  await api('GET', `${ONE}/versions`, { ...P, token: t.jtjAdmin, expect: 200 });
  await api('GET', `${ONE}/versions`, { params: { code: 'no-such' }, token: t.jtjAdmin, expect: 404 });
  await api('GET', `${ONE}/versions`, { ...P, expect: 401 });
  await api('POST', `${ONE}/retire`, { ...P, token: t.gajClerk, expect: 403 });
  await api('POST', `${ONE}/retire`, { ...P, token: t.jtjAdmin, expect: 404 });
  await api('POST', `${ONE}/retire`, { ...P, expect: 401 });
  await api('POST', `${ONE}/retire`, { ...P, token: steward, expect: 200 });
  await api('PATCH', ONE, { ...P, token: steward, body: { summary: 'x' }, expect: 409, code: 'retired' });
});

test('records: write, read, history, delete', async () => {
  const steward = await login('gaj_steward');
  const made = await api('POST', '/api/v1/resources', { token: steward, body: { name: '记录测试', provider_org: GAJ,
    key_item: 'id_number', items: [{ name: 'id_number', element: 'id_number' }, { name: 'name', element: 'name', required: true }] },
    expect: 201 });
  const ONE = '/api/v1/resources/{code}/records/{key}', HIST = `${ONE}/versions`;
  const P = { params: { code: made.json.code, key: '11010519491231002X' } };
  const bad = { params: { code: made.json.code, key: '110105194912310021' } };
  await api('PUT', ONE, { ...P, token: steward, body: { data: { name: '张三' } }, expect: 201 });
  await api('PUT', ONE, { ...P, token: gajClient.secret, body: { data: { name: '张三' } }, expect: 200 });
  await api('PUT', ONE, { ...bad, token: steward, body: { data: { name: '张三' } }, expect: 422 });
  await api('PUT', ONE, { ...P, token: steward, body: { data: { name: '张三' }, extra: 1 }, expect: 400, docRejects: true });
  await api('PUT', ONE, { ...P, token: steward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('PUT', ONE, { ...P, token: steward, ...HUGE, expect: 413 });
  await api('PUT', ONE, { ...P, token: t.gajClerk, body: { data: { name: '张三' } }, expect: 403 });
  await api('PUT', ONE, { ...P, token: t.jtjAdmin, body: { data: { name: '张三' } }, expect: 404 });
  await api('PUT', ONE, { ...P, body: { data: { name: '张三' } }, expect: 401 });
  const unkeyed = await api('POST', '/api/v1/resources', { token: steward, body: { name: '无键', provider_org: GAJ }, expect: 201 });
  await api('PUT', ONE, { params: { code: unkeyed.json.code, key: 'k' }, token: steward, body: { data: {} }, expect: 409 });
  await api('GET', ONE, { params: { code: unkeyed.json.code, key: 'k' }, token: steward, expect: 409 });
  await api('GET', HIST, { params: { code: unkeyed.json.code, key: 'k' }, token: steward, expect: 409 });
  await api('DELETE', ONE, { params: { code: unkeyed.json.code, key: 'k' }, token: steward, expect: 409 });

  await api('GET', ONE, { ...P, token: steward, expect: 200 });
  await api('GET', ONE, { ...bad, token: steward, expect: 404 });
  await api('GET', ONE, { ...P, token: t.gajClerk, expect: 403 });
  await api('GET', ONE, { ...P, expect: 401 });
  await api('GET', HIST, { ...P, token: steward, expect: 200 });
  await api('GET', HIST, { ...bad, token: steward, expect: 404 });
  await api('GET', HIST, { ...P, token: t.gajClerk, expect: 403 });
  await api('GET', HIST, { ...P, expect: 401 });
  await api('DELETE', ONE, { ...P, token: t.gajClerk, expect: 403 });
  await api('DELETE', ONE, { ...P, expect: 401 });
  await api('DELETE', ONE, { ...P, token: steward, expect: 204 });
  await api('DELETE', ONE, { ...P, token: steward, expect: 404 });

  const IMP = '/api/v1/resources/{code}/records:import';
  const csv = { 'Content-Type': 'text/csv' };
  const C = { params: { code: made.json.code } };
  await api('POST', IMP, { ...C, token: steward, raw: 'id_number,name\n11010519491231002X,张三\nbad,李四\n', headers: csv, expect: 200 });
  await api('POST', IMP, { ...C, token: gajClient.secret, raw: '{"id_number":"11010519491231002X","name":"张三"}\n',
    headers: { 'Content-Type': 'application/x-ndjson' }, expect: 200 });
  await api('POST', IMP, { ...C, token: steward, raw: 'shoe_size\n42\n', headers: csv, expect: 422 });
  await api('POST', IMP, { ...C, token: steward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', IMP, { params: { code: unkeyed.json.code }, token: steward, raw: 'k\n1\n', headers: csv, expect: 409 });
  await api('POST', IMP, { ...C, token: t.gajClerk, raw: 'id_number\n', headers: csv, expect: 403 });
  await api('POST', IMP, { ...C, token: t.jtjAdmin, raw: 'id_number\n', headers: csv, expect: 404 });
  await api('POST', IMP, { ...C, raw: 'id_number\n', headers: csv, expect: 401 });
  await api('POST', IMP, { ...C, token: steward, announce: 64 * 1024 * 1024 * 1024 + 1, headers: csv, expect: 413 });
});

test('sharing: request, decide, grant, read through it, revoke', async () => {
  const steward = await login('gaj_steward');
  const item = (name, extra = {}) => ({ name, element: name, ...extra });
  const describe = (name, shareType) => ({
    name, provider_org: GAJ, summary: '共享测试', category: 'department', format: 'table', share_type: shareType,
    share_condition: '用于测试', share_method: 'api', open_type: 'closed', update_cycle: 'daily', key_item: 'id_number',
    items: [item('id_number', { required: true }), item('name'), item('phone')],
  });
  const publish = async (body) => {
    const made = await api('POST', '/api/v1/resources', { token: steward, body, expect: 201 });
    await api('POST', '/api/v1/resources/{code}/publish', { params: { code: made.json.code }, token: steward, expect: 200 });
    return made.json.code;
  };
  const conditional = await publish(describe('有条件共享测试', 'conditional'));
  const unconditional = await publish(describe('无条件共享测试', 'unconditional'));
  const closed = await publish(describe('不予共享测试', 'none'));
  const key = '11010519491231002X';
  await api('PUT', '/api/v1/resources/{code}/records/{key}', { params: { code: conditional, key }, token: steward,
    body: { data: { name: '张三', phone: '13812345678' } }, expect: 201 });

  const SR = '/api/v1/share-requests', ONE = `${SR}/{id}`;
  const ask = (resource, extra = {}) => ({ resource, items: ['id_number', 'name', 'phone'], purpose: '交通执法核验',
    legal_basis: '《道路交通安全法》', scenario: '违法处理', ...extra });
  const pending = await api('POST', SR, { token: t.jtjSteward, body: ask(conditional, { daily_quota: 2 }), expect: 201 });
  assert.equal(pending.json.status, 'pending');
  const granted = await api('POST', SR, { token: t.jtjSteward, body: ask(unconditional), expect: 201 });
  assert.equal(granted.json.status, 'approved');
  await api('POST', SR, { token: t.jtjSteward, body: ask(closed), expect: 422, code: 'not_shared' });
  await api('POST', SR, { token: t.jtjSteward, body: ask('nope-000000'), expect: 404 });
  await api('POST', SR, { token: t.jtjSteward, body: { ...ask(conditional), extra: 1 }, expect: 400, docRejects: true });
  await api('POST', SR, { token: t.jtjSteward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', SR, { token: t.jtjSteward, ...HUGE, expect: 413 });
  await api('POST', SR, { token: t.jtjClerk, body: ask(conditional), expect: 403 });
  await api('POST', SR, { body: ask(conditional), expect: 401 });

  await api('GET', SR, { token: t.jtjSteward, expect: 200 });
  await api('GET', SR, { token: t.dsjAdmin, query: { status: 'pending', overdue: 'false' }, expect: 200 });
  await api('GET', SR, { token: t.jtjSteward, query: { status: 'maybe' }, expect: 400 });
  await api('GET', SR, { token: t.jtjClerk, expect: 403 });
  await api('GET', SR, { expect: 401 });
  const P = { params: { id: pending.json.id } };
  await api('GET', ONE, { ...P, token: steward, expect: 200 });
  await api('GET', ONE, { ...P, token: t.jtjClerk, expect: 403 });
  await api('GET', ONE, { ...P, token: t.sys, expect: 404 });
  await api('GET', ONE, { ...P, expect: 401 });

  const AP = `${ONE}/approve`, RJ = `${ONE}/reject`;
  await api('POST', AP, { ...P, token: t.jtjSteward, body: {}, expect: 403 });
  await api('POST', AP, { ...P, token: t.gajAdmin, body: {}, expect: 403 });
  await api('POST', AP, { ...P, token: t.sys, body: {}, expect: 404 });
  await api('POST', AP, { ...P, body: {}, expect: 401 });
  await api('POST', AP, { ...P, token: steward, body: { items: ['id_number', 'address'] }, expect: 422 });
  await api('POST', AP, { ...P, token: steward, body: { modes: { name: 'hidden' } }, expect: 422 });
  await api('POST', AP, { ...P, token: steward, body: { items: ['name'], more: 1 }, expect: 400, docRejects: true });
  await api('POST', AP, { ...P, token: steward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', AP, { ...P, token: steward, ...HUGE, expect: 413 });
  const approved = await api('POST', AP, { ...P, token: steward, body: { items: ['id_number', 'name'], modes: { name: 'masked' } },
    expect: 200 });
  await api('POST', AP, { ...P, token: steward, body: {}, expect: 409, code: 'already_decided' });

  const other = await api('POST', SR, { token: t.jtjSteward, body: ask(conditional), expect: 201 });
  const Q = { params: { id: other.json.id } };
  await api('POST', RJ, { ...Q, token: t.jtjSteward, body: { reason: '不行' }, expect: 403 });
  await api('POST', RJ, { ...Q, token: t.sys, body: { reason: '不行' }, expect: 404 });
  await api('POST', RJ, { ...Q, body: { reason: '不行' }, expect: 401 });
  await api('POST', RJ, { ...Q, token: steward, body: {}, expect: 400, docRejects: true });
  await api('POST', RJ, { ...Q, token: steward, body: { reason: '' }, expect: 422, docRejects: true });
  await api('POST', RJ, { ...Q, token: steward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', RJ, { ...Q, token: steward, ...HUGE, expect: 413 });
  await api('POST', RJ, { ...Q, token: steward, body: { reason: '用途与申请事项不符' }, expect: 200 });
  await api('POST', RJ, { ...Q, token: steward, body: { reason: '再次' }, expect: 409 });

  const GR = '/api/v1/grants', G1 = `${GR}/{id}`;
  const grantId = approved.json.grant_id;
  await api('GET', GR, { token: t.jtjSteward, query: { status: 'active', role: 'consumer' }, expect: 200 });
  await api('GET', GR, { token: t.jtjSteward, query: { role: 'nobody' }, expect: 400 });
  await api('GET', GR, { token: t.jtjClerk, expect: 403 });
  await api('GET', GR, { expect: 401 });
  await api('GET', G1, { params: { id: grantId }, token: t.jtjSteward, expect: 200 });
  await api('GET', G1, { params: { id: grantId }, token: t.jtjClerk, expect: 403 });
  await api('GET', G1, { params: { id: 'GR99999999' }, token: t.jtjSteward, expect: 404 });
  await api('GET', G1, { params: { id: grantId }, expect: 401 });

  const REC = '/api/v1/resources/{code}/records/{key}', BATCH = '/api/v1/resources/{code}/records:batch';
  const R = { params: { code: conditional, key } };
  const read = await api('GET', REC, { ...R, token: t.jtjClerk, expect: 200 });
  assert.deepEqual(read.json.data, { id_number: key, name: '张*' });
  await api('GET', REC, { ...R, token: t.jtjClerk, query: { grant: 'G'.repeat(40) }, expect: 400 });
  await api('GET', REC, { ...R, token: t.jtjAdmin, expect: 403 });
  const B = { params: { code: conditional } };
  await api('POST', BATCH, { ...B, token: t.jtjClerk, body: { keys: [key, '110105194912310021'] }, expect: 200 });
  await api('POST', BATCH, { ...B, token: t.jtjClerk, body: { keys: [key] }, expect: 429, code: 'quota_exhausted' });
  await api('GET', REC, { ...R, token: t.jtjClerk, expect: 429 });
  await api('POST', BATCH, { ...B, token: steward, body: { keys: [] }, expect: 422, docRejects: true });
  await api('POST', BATCH, { ...B, token: steward, body: { keys: [key], more: 1 }, expect: 400, docRejects: true });
  await api('POST', BATCH, { ...B, token: steward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', BATCH, { ...B, token: steward, ...HUGE, expect: 413 });
  await api('POST', BATCH, { params: { code: 'nope-000000' }, token: steward, body: { keys: [key] }, expect: 404 });
  const unkeyed = await api('POST', '/api/v1/resources', { token: steward, body: { name: '无键批量', provider_org: GAJ }, expect: 201 });
  await api('POST', BATCH, { params: { code: unkeyed.json.code }, token: steward, body: { keys: [key] }, expect: 409 });
  await api('POST', BATCH, { ...B, token: t.gajClerk, body: { keys: [key] }, expect: 403, code: 'no_grant' });
  await api('POST', BATCH, { ...B, body: { keys: [key] }, expect: 401 });

  await api('DELETE', G1, { params: { id: grantId }, token: t.jtjSteward, expect: 403 });
  await api('DELETE', G1, { params: { id: grantId }, token: t.sys, expect: 404 });
  await api('DELETE', G1, { params: { id: grantId }, token: steward, query: { reason: 'x'.repeat(1001) }, expect: 400 });
  await api('DELETE', G1, { params: { id: grantId }, expect: 401 });
  await api('DELETE', G1, { params: { id: grantId }, token: steward, query: { reason: '执法事项已办结' }, expect: 204 });
  await api('DELETE', G1, { params: { id: grantId }, token: steward, expect: 409 });
});

test('change feed and subscriptions', async () => {
  const steward = await login('gaj_steward');
  const made = await api('POST', '/api/v1/resources', { token: steward, body: {
    name: '订阅文档测试', provider_org: GAJ, summary: '订阅', category: 'department', format: 'table',
    share_type: 'unconditional', share_method: 'subscription', open_type: 'closed', update_cycle: 'realtime',
    key_item: 'id_number', items: [{ name: 'id_number', element: 'id_number', required: true }, { name: 'name', element: 'name' }],
  }, expect: 201 });
  const code = made.json.code;
  await api('POST', '/api/v1/resources/{code}/publish', { params: { code }, token: steward, expect: 200 });
  await api('PUT', '/api/v1/resources/{code}/records/{key}', { params: { code, key: '11010519491231002X' }, token: steward,
    body: { data: { name: '张三' } }, expect: 201 });
  const asked = await api('POST', '/api/v1/share-requests', { token: t.jtjSteward, body: { resource: code,
    items: ['id_number', 'name'], purpose: '同步', legal_basis: '依据', scenario: '场景', daily_quota: 1 }, expect: 201 });

  const CH = '/api/v1/resources/{code}/changes';
  await api('GET', CH, { params: { code }, token: t.jtjSteward, expect: 200 });
  await api('GET', CH, { params: { code }, token: t.jtjSteward, expect: 429, code: 'quota_exhausted' });
  await api('GET', CH, { params: { code }, token: steward, query: { limit: 0 }, expect: 400 });
  await api('GET', CH, { params: { code }, token: t.gajClerk, expect: 403, code: 'no_grant' });
  await api('GET', CH, { params: { code: 'nope-000000' }, token: steward, expect: 404 });
  const unkeyed = await api('POST', '/api/v1/resources', { token: steward, body: { name: '无键订阅', provider_org: GAJ }, expect: 201 });
  await api('GET', CH, { params: { code: unkeyed.json.code }, token: steward, expect: 409 });
  await api('GET', CH, { params: { code }, expect: 401 });

  const SB = '/api/v1/subscriptions', ONE = `${SB}/{id}`, DL = `${ONE}/deliveries`;
  const body = { resource: code, url: 'http://127.0.0.1:9/hook', grant: asked.json.grant_id };
  const sub = await api('POST', SB, { token: t.jtjSteward, body, expect: 201 });
  await api('POST', SB, { token: t.jtjSteward, body: { ...body, url: 'gopher://x' }, expect: 422 });
  await api('POST', SB, { token: t.jtjSteward, body: { ...body, extra: 1 }, expect: 400, docRejects: true });
  await api('POST', SB, { token: t.jtjSteward, body: { ...body, resource: 'nope-000000' }, expect: 404 });
  await api('POST', SB, { token: t.gajAdmin, body, expect: 403 });
  await api('POST', SB, { token: t.jtjSteward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', SB, { token: t.jtjSteward, ...HUGE, expect: 413 });
  await api('POST', SB, { body, expect: 401 });
  await api('GET', SB, { token: t.jtjSteward, query: { status: 'active' }, expect: 200 });
  await api('GET', SB, { token: t.jtjSteward, query: { status: 'sleeping' }, expect: 400 });
  await api('GET', SB, { token: t.jtjClerk, expect: 403 });
  await api('GET', SB, { expect: 401 });
  const P = { params: { id: sub.json.id } };
  await api('GET', ONE, { ...P, token: steward, expect: 200 });
  await api('GET', ONE, { ...P, token: t.jtjClerk, expect: 403 });
  await api('GET', ONE, { ...P, token: t.sys, expect: 404 });
  await api('GET', ONE, { ...P, expect: 401 });
  await api('GET', DL, { ...P, token: t.jtjSteward, expect: 200 });
  await api('GET', DL, { ...P, token: t.jtjSteward, query: { cursor: '!' }, expect: 400 });
  await api('GET', DL, { ...P, token: t.jtjClerk, expect: 403 });
  await api('GET', DL, { ...P, token: t.sys, expect: 404 });
  await api('GET', DL, { ...P, expect: 401 });
  await api('DELETE', ONE, { ...P, token: steward, expect: 403 });
  await api('DELETE', ONE, { ...P, token: t.sys, expect: 404 });
  await api('DELETE', ONE, { ...P, expect: 401 });
  await api('DELETE', ONE, { ...P, token: t.jtjSteward, expect: 204 });
  await api('DELETE', ONE, { ...P, token: t.jtjSteward, expect: 404 });
});

test('filtered queries', async () => {
  const steward = await login('gaj_steward');
  const made = await api('POST', '/api/v1/resources', { token: steward, body: {
    name: '查询文档测试', provider_org: GAJ, summary: '查询', category: 'department', format: 'table',
    share_type: 'unconditional', share_method: 'api', open_type: 'closed', update_cycle: 'daily', key_item: 'id_number',
    items: [{ name: 'id_number', element: 'id_number', required: true }, { name: 'gender', element: 'gender', indexed: true }],
  }, expect: 201 });
  const code = made.json.code;
  await api('POST', '/api/v1/resources/{code}/publish', { params: { code }, token: steward, expect: 200 });
  await api('PUT', '/api/v1/resources/{code}/records/{key}', { params: { code, key: '11010519491231002X' }, token: steward,
    body: { data: { gender: '1' } }, expect: 201 });
  await api('POST', '/api/v1/share-requests', { token: t.jtjSteward, body: { resource: code,
    items: ['id_number', 'gender'], purpose: '查询', legal_basis: '依据', scenario: '场景', daily_quota: 1 }, expect: 201 });
  const Q = '/api/v1/resources/{code}/query', P = { params: { code } };
  const filter = { filter: { gender: { eq: '1' } } };
  await api('POST', Q, { ...P, token: t.jtjSteward, body: filter, expect: 200 });
  await api('POST', Q, { ...P, token: t.jtjSteward, body: filter, expect: 429 });
  await api('POST', Q, { ...P, token: steward, body: { filter: { gender: { like: '1' } } }, expect: 422, docRejects: true });
  await api('POST', Q, { ...P, token: steward, body: { ...filter, extra: 1 }, expect: 400, docRejects: true });
  await api('POST', Q, { ...P, token: steward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', Q, { ...P, token: steward, ...HUGE, expect: 413 });
  await api('POST', Q, { ...P, token: t.gajClerk, body: filter, expect: 403, code: 'no_grant' });
  await api('POST', Q, { params: { code: 'nope-000000' }, token: steward, body: filter, expect: 404 });
  const unkeyed = await api('POST', '/api/v1/resources', { token: steward, body: { name: '无键查询', provider_org: GAJ }, expect: 201 });
  await api('POST', Q, { params: { code: unkeyed.json.code }, token: steward, body: filter, expect: 409 });
  await api('POST', Q, { ...P, body: filter, expect: 401 });
});

test('objections, quality and conflicts', async () => {
  const steward = await login('gaj_steward');
  const bureauSteward = await login('dsj_steward');
  const made = await api('POST', '/api/v1/resources', { token: steward, body: {
    name: '异议测试', provider_org: GAJ, summary: '异议测试', category: 'department', format: 'table',
    share_type: 'unconditional', share_method: 'api', open_type: 'closed', update_cycle: 'daily', key_item: 'id_number',
    items: [{ name: 'id_number', element: 'id_number', required: true }, { name: 'name', element: 'name' },
      { name: 'phone', element: 'phone' }],
  }, expect: 201 });
  const code = made.json.code;
  await api('POST', '/api/v1/resources/{code}/publish', { params: { code }, token: steward, expect: 200 });
  const key = '11010519491231002X';
  await api('PUT', '/api/v1/resources/{code}/records/{key}', { params: { code, key }, token: steward,
    body: { data: { name: '张三', phone: '13812345678' } }, expect: 201 });
  await api('POST', '/api/v1/share-requests', { token: t.jtjSteward, body: { resource: code, items: ['id_number', 'name'],
    purpose: '核验', legal_basis: '测试依据', scenario: '异议' }, expect: 201 });

  const FILE = '/api/v1/resources/{code}/records/{key}/objections', R = { params: { code, key } };
  const filed = await api('POST', FILE, { ...R, token: t.jtjSteward, body: { item: 'name', reason: '姓名有误',
    proposed_value: '张四' }, expect: 201 });
  assert.equal(filed.json.status, 'open');
  await api('POST', FILE, { ...R, token: t.jtjSteward, body: { item: 'name', reason: 'x', more: 1 }, expect: 400, docRejects: true });
  await api('POST', FILE, { ...R, token: t.jtjSteward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', FILE, { ...R, token: t.jtjSteward, ...HUGE, expect: 413 });
  await api('POST', FILE, { ...R, token: t.jtjClerk, body: { item: 'name', reason: 'x' }, expect: 403 });
  await api('POST', FILE, { ...R, body: { item: 'name', reason: 'x' }, expect: 401 });
  await api('POST', FILE, { params: { code, key: '110101199003070011' }, token: t.jtjSteward,
    body: { item: 'name', reason: 'x' }, expect: 404 });
  await api('POST', FILE, { ...R, token: t.jtjSteward, body: { item: 'phone', reason: '不在授权内' }, expect: 422 });

  const OB = '/api/v1/objections', ONE = `${OB}/{id}`, P = { params: { id: filed.json.id } };
  await api('GET', OB, { token: t.jtjSteward, query: { role: 'consumer', status: 'open' }, expect: 200 });
  await api('GET', OB, { token: t.dsjAdmin, query: { overdue: 'false' }, expect: 200 });
  await api('GET', OB, { token: t.jtjSteward, query: { status: 'maybe' }, expect: 400 });
  await api('GET', OB, { token: t.jtjClerk, expect: 403 });
  await api('GET', OB, { expect: 401 });
  const seen = await api('GET', ONE, { ...P, token: steward, expect: 200 });
  assert.equal(seen.json.key, key, 'the provider reads the key from its record');
  await api('GET', ONE, { ...P, token: t.jtjClerk, expect: 403 });
  await api('GET', ONE, { ...P, token: t.sys, expect: 404 });
  await api('GET', ONE, { ...P, expect: 401 });

  const RS = `${ONE}/resolve`;
  await api('POST', RS, { ...P, token: t.jtjSteward, body: { decision: 'accept' }, expect: 403 });
  await api('POST', RS, { ...P, token: t.sys, body: { decision: 'accept' }, expect: 404 });
  await api('POST', RS, { ...P, body: { decision: 'accept' }, expect: 401 });
  await api('POST', RS, { ...P, token: steward, body: { decision: 'accept', more: 1 }, expect: 400, docRejects: true });
  await api('POST', RS, { ...P, token: steward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', RS, { ...P, token: steward, ...HUGE, expect: 413 });
  await api('POST', RS, { ...P, token: steward, body: { decision: 'reject' }, expect: 422 });
  const accepted = await api('POST', RS, { ...P, token: steward, body: { decision: 'accept', reason: '已更正' }, expect: 200 });
  assert.deepEqual([accepted.json.status, accepted.json.resolved_version], ['accepted', 2]);
  await api('POST', RS, { ...P, token: steward, body: { decision: 'reject', reason: '再次' }, expect: 409 });

  const Q = '/api/v1/resources/{code}/quality';
  const quality = await api('GET', Q, { params: { code }, token: t.jtjClerk, expect: 200 });
  assert.equal(quality.json.records, 1);
  await api('GET', Q, { params: { code: 'nope-000000' }, token: steward, expect: 404 });
  await api('GET', Q, { params: { code }, expect: 401 });

  const CF = '/api/v1/conflicts', REPORT = `${CF}/{id}/objections`;
  const conflicts = await api('GET', CF, { token: t.dsjAdmin, query: { element: 'id_number' }, expect: 200 });
  assert.ok(conflicts.json.items.length > 0, 'the demo city has planted conflicts');
  await api('GET', CF, { token: steward, expect: 200 });
  await api('GET', CF, { token: t.dsjAdmin, query: { element: 'x'.repeat(65) }, expect: 400 });
  await api('GET', CF, { token: t.jtjClerk, expect: 403 });
  await api('GET', CF, { expect: 401 });
  const C = { params: { id: conflicts.json.items[0].id } };
  await api('POST', REPORT, { ...C, token: t.jtjSteward, body: {}, expect: 403 });
  await api('POST', REPORT, { ...C, body: {}, expect: 401 });
  await api('POST', REPORT, { ...C, token: bureauSteward, body: { reason: 'x', more: 1 }, expect: 400, docRejects: true });
  await api('POST', REPORT, { ...C, token: bureauSteward, body: { reason: '' }, expect: 422, docRejects: true });
  await api('POST', REPORT, { ...C, token: bureauSteward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await api('POST', REPORT, { ...C, token: bureauSteward, ...HUGE, expect: 413 });
  await api('POST', REPORT, { params: { id: 'f'.repeat(64) }, token: bureauSteward, body: {}, expect: 404 });
  const reported = await api('POST', REPORT, { ...C, token: bureauSteward, body: { reason: '请核实姓名' }, expect: 201 });
  assert.ok(reported.json.objections.length >= 1);
  await api('POST', REPORT, { ...C, token: bureauSteward, body: {}, expect: 409 });
});

test('unified access: services, mediated calls, statistics, calls and proofs', async () => {
  const steward = await login('gaj_steward');
  const jtjClient = acc.clients.find((c) => c.id.startsWith(`${JTJ}/`)).secret;
  const provider = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise((resolve) => provider.listen(0, '127.0.0.1', resolve));
  try {
    const made = await api('POST', '/api/v1/resources', { token: steward, body: {
      name: '统一接入测试', provider_org: GAJ, summary: '接口', category: 'department', format: 'api',
      share_type: 'unconditional', share_method: 'api', open_type: 'closed', update_cycle: 'realtime',
      key_item: 'service', items: [{ name: 'service', type: 'C' }, { name: 'get_thing', type: 'C' }],
    }, expect: 201 });
    const resource = made.json.code;
    await api('POST', '/api/v1/resources/{code}/publish', { params: { code: resource }, token: steward, expect: 200 });

    const SV = '/api/v1/services';
    const body = { code: 'openapi-test', name: '接口测试', base_url: `http://127.0.0.1:${provider.address().port}`,
      resource, openapi: { openapi: '3.0.3', info: { title: 't', version: '1' },
        paths: { '/things/{id}': { get: { operationId: 'getThing' } } } } };
    const svc = (await api('POST', SV, { token: steward, body, expect: 201 })).json;
    await api('POST', SV, { token: steward, body, expect: 409, code: 'conflict' });
    await api('POST', SV, { token: steward, body: { ...body, code: 'x', more: 1 }, expect: 400, docRejects: true });
    await api('POST', SV, { token: steward, body: { ...body, code: 'Not A Code' }, expect: 422, docRejects: true });
    await api('POST', SV, { token: steward, body: { ...body, code: 'y', resource: 'nope-000000' }, expect: 422 });
    await api('POST', SV, { token: steward, raw: 'x', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
    await api('POST', SV, { token: steward, announce: 4 * 1024 * 1024 + 1, expect: 413 });
    await api('POST', SV, { token: t.gajClerk, body, expect: 403 });
    await api('POST', SV, { body, expect: 401 });
    await api('GET', SV, { token: t.gajClerk, query: { callable: 'true' }, expect: 200 });
    await api('GET', SV, { token: t.gajClerk, query: { callable: 'maybe' }, expect: 400 });
    await api('GET', SV, { expect: 401 });
    const P = { params: { id: svc.id } }, NOPE = { params: { id: 'SV99999999' } };
    for (const template of [`${SV}/{id}`, `${SV}/{id}/openapi`]) {
      await api('GET', template, { ...P, token: t.jtjClerk, expect: 200 });
      await api('GET', template, { ...NOPE, token: t.jtjClerk, expect: 404 });
      await api('GET', template, { ...P, expect: 401 });
    }

    // jtj asks for the whole service (granted at once), and its system calls it
    await api('POST', '/api/v1/share-requests', { token: t.jtjSteward, body: { resource, items: ['service'],
      purpose: '接口测试', legal_basis: '测试依据', scenario: '统一接入' }, expect: 201 });
    const X = '/x/{org}/{service}/{path*}';
    const call = async (method, path, opts = {}) => {
      const h = { ...(opts.headers || {}) };
      if (opts.token) h.Authorization = `Bearer ${opts.token}`;
      // (a path with dot segments goes out as it is over the socket: fetch would resolve them)
      const res = opts.announce !== undefined
        ? await announce(method, path, opts.announce, h)
        : await srv.call(method, path, { headers: h, raw: opts.raw });
      assert.equal(res.status, opts.expect, `${method} ${path}: ${res.text}`);
      conforms(method, X, res, `${method} ${path}`);
      return res;
    };
    let called;
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      const raw = method === 'GET' || method === 'DELETE' ? undefined : 'payload';
      called = await call(method, `/x/${GAJ}/openapi-test/things/1`, { token: jtjClient, raw, expect: 200,
        headers: raw ? { 'Content-Type': 'application/octet-stream' } : {} });
      await call(method, `/x/${GAJ}/openapi-test/things/1`, { expect: 401 });
      await call(method, `/x/${GAJ}/openapi-test/things/%2E%2E/x`, { token: jtjClient, announce: 0, expect: 400 });
      await call(method, `/x/${GAJ}/openapi-test/things/1`, { token: t.jtjSteward, expect: 403 });
      await call(method, `/x/${GAJ}/no-such-service/things/1`, { token: jtjClient, expect: 404 });
      await call(method, `/x/${GAJ}/openapi-test/things/1`, { token: jtjClient, announce: 60 * 1024 * 1024, expect: 413 });
    }
    // a service whose system cannot be reached
    const dead = (await api('POST', SV, { token: steward, body: { code: 'openapi-dead', name: '不可达',
      base_url: 'http://127.0.0.1:9', resource }, expect: 201 })).json;
    await call('GET', `/x/${GAJ}/openapi-dead/x`, { token: jtjClient, expect: 502 });
    assert.ok(dead.id);

    await api('GET', `${SV}/{id}/stats`, { ...P, token: steward, expect: 200 });
    await api('GET', `${SV}/{id}/stats`, { ...P, token: steward, query: { since: 'soon' }, expect: 400 });
    await api('GET', `${SV}/{id}/stats`, { ...P, token: t.gajClerk, expect: 403 });
    await api('GET', `${SV}/{id}/stats`, { ...NOPE, token: steward, expect: 404 });
    await api('GET', `${SV}/{id}/stats`, { ...P, expect: 401 });
    const C = `${SV}/{id}/calls`;
    const calls = await api('GET', C, { ...P, token: t.jtjSteward, query: { limit: 2 }, expect: 200 });
    assert.equal(calls.json.items.length, 2);
    await api('GET', C, { ...P, token: t.jtjSteward, query: { cursor: calls.json.next_cursor }, expect: 200 });
    await api('GET', C, { ...P, token: steward, query: { limit: 0 }, expect: 400 });
    await api('GET', C, { ...P, token: t.gajClerk, expect: 403 });
    await api('GET', C, { ...NOPE, token: steward, expect: 404 });
    await api('GET', C, { ...P, expect: 401 });
    const id = called.headers.get('x-request-id');
    const CP = { params: { id: svc.id, call: id } }, OTHER = { params: { id: svc.id, call: 'nope' } };
    await api('GET', `${C}/{call}`, { ...CP, token: jtjClient, expect: 200 });
    await api('GET', `${C}/{call}`, { ...CP, token: t.gajClerk, expect: 403 });
    await api('GET', `${C}/{call}`, { ...OTHER, token: steward, expect: 404 });
    await api('GET', `${C}/{call}`, { ...CP, expect: 401 });
    const PROOF = `${C}/{call}/proof`;
    const first = await api('GET', PROOF, { ...CP, token: steward });
    assert.ok([200, 409].includes(first.status), first.text);
    for (let i = 0; i < 100; i++) {
      if ((await api('GET', PROOF, { ...CP, token: jtjClient })).status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await api('GET', PROOF, { ...CP, token: steward, expect: 200 });
    await api('GET', PROOF, { ...CP, token: t.gajClerk, expect: 403 });
    await api('GET', PROOF, { ...OTHER, token: jtjClient, expect: 404 });
    await api('GET', PROOF, { ...CP, expect: 401 });
  } finally {
    provider.close();
  }
});

test('backups: start one, list them', async () => {
  const B = '/api/v1/backups';
  await api('GET', B, { token: t.gajClerk, expect: 403, code: 'forbidden' });
  await api('GET', B, { expect: 401 });
  await api('POST', B, { token: t.gajAdmin, expect: 403, code: 'forbidden' });
  await api('POST', B, { expect: 401 });
  const started = await api('POST', B, { token: t.sys, expect: 202 });
  let list = null;
  for (let i = 0; i < 300; i++) {
    list = await api('GET', B, { token: t.sys, expect: 200 });
    if (!list.json.running) break;
    await sleep(100);
  }
  assert.deepEqual(list.json.items.map((b) => b.name), [started.json.name]);
  const ONE = '/api/v1/backups/{name}';
  await api('DELETE', ONE, { params: { name: started.json.name }, token: t.gajAdmin, expect: 403, code: 'forbidden' });
  await api('DELETE', ONE, { params: { name: started.json.name }, expect: 401 });
  await api('DELETE', ONE, { params: { name: started.json.name }, token: t.sys, expect: 204 });
  await api('DELETE', ONE, { params: { name: started.json.name }, token: t.sys, expect: 404, code: 'not_found' });
});

test('unknown paths and methods answer problems; X-Request-Id is echoed when sane', async () => {
  const schema = doc.components.schemas.Problem;
  for (const [method, path, status] of [['GET', '/api/v1/nothing-here', 404], ['PUT', '/api/v1/orgs', 405], ['POST', '/healthz', 404]]) {
    const res = await srv.call(method, path);
    assert.equal(res.status, status, `${method} ${path}`);
    assert.equal(mediaBase(res.headers.get('content-type')), 'application/problem+json');
    const errs = v.validate(schema, res.json);
    assert.equal(errs.length, 0, formatErrors(errs));
    checkProblem(res, `${method} ${path}`);
    if (status === 405) assert.equal(res.headers.get('allow'), 'GET, POST');
  }
  const echoed = await srv.call('GET', '/healthz', { headers: { 'X-Request-Id': 'trace-42.a_b' } });
  assert.equal(echoed.headers.get('x-request-id'), 'trace-42.a_b');
  const replaced = await srv.call('GET', '/api/v1/auth/me', { headers: { 'X-Request-Id': 'not sane!' } });
  assert.notEqual(replaced.headers.get('x-request-id'), 'not sane!');
  assert.equal(replaced.json.request_id, replaced.headers.get('x-request-id'));
});

test('every route was exercised with a success and, where it has any, a documented failure', (tt) => {
  const gaps = [];
  const untried = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const m of METHODS.filter((x) => item[x])) {
      const key = `${m.toUpperCase()} ${template}`;
      const seen = coverage.get(key) || new Set();
      const documented = Object.keys(item[m].responses).map(Number);
      if (![...seen].some((s) => s >= 200 && s < 300)) gaps.push(`${key}: no 2xx`);
      if (documented.some((s) => s >= 400 && s < 500) && ![...seen].some((s) => s >= 400 && s < 500)) gaps.push(`${key}: no 4xx`);
      const missed = documented.filter((s) => !seen.has(s) && s !== 500 && s !== 503);
      if (missed.length) untried.push(`${key}: ${missed.join(', ')}`);
    }
  }
  if (untried.length) tt.diagnostic('documented but not exercised (besides 500/503):');
  for (const line of untried) tt.diagnostic(`  ${line}`);
  assert.deepEqual(gaps, []);
});
