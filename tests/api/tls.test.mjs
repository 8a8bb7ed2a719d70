// HTTPS: serve with --tls-cert/--tls-key (a self-signed certificate made
// with the openssl CLI) and call the API over TLS, verifying the certificate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http from 'node:http';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServer } from './lib/server.mjs';

const dir = mkdtempSync(join(tmpdir(), 'yiwang-tls-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
let srv, ca;

before(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  ca = readFileSync(cert);
  srv = await startServer({ args: ['--tls-cert', cert, '--tls-key', key] });
});
after(async () => {
  await srv?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One HTTPS request that trusts only our certificate. */
function request(method, path, { body, token } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    const data = body === undefined ? undefined : JSON.stringify(body);
    if (data) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
    const req = https.request({ host: '127.0.0.1', port: srv.port, path, method, headers, ca, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text, json: text ? JSON.parse(text) : null,
        protocol: res.socket.getProtocol?.() }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

test('the server says it listens on https', () => {
  assert.match(srv.stderr, /"url":"https:\/\/127\.0\.0\.1:\d+"/);
});

test('/healthz over HTTPS with the certificate verified', async () => {
  const res = await request('GET', '/healthz');
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { status: 'ok' });
  assert.match(res.protocol, /^TLSv1\.[23]$/);
  assert.match(res.headers['x-request-id'], /^[0-9a-f]{20}$/);
});

test('sign-in and an authenticated call over HTTPS', async () => {
  const login = await request('POST', '/api/v1/auth/login', { body: { username: 'gaj_clerk', password: srv.accounts.password } });
  assert.equal(login.status, 200, login.text);
  const me = await request('GET', '/api/v1/auth/me', { token: login.json.token });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.username, 'gaj_clerk');
});

test('the console\'s session cookies are Secure over HTTPS', async () => {
  const res = await request('POST', '/api/v1/auth/console/login', { body: { username: 'gaj_clerk', password: srv.accounts.password } });
  assert.equal(res.status, 200, res.text);
  const cookies = res.headers['set-cookie'];
  assert.equal(cookies.length, 2);
  assert.ok(cookies.find((c) => c.startsWith('yw_session=')).endsWith('; HttpOnly; SameSite=Strict; Secure'), cookies.join('\n'));
  assert.ok(cookies.find((c) => c.startsWith('yw_csrf=')).endsWith('; SameSite=Strict; Secure'), cookies.join('\n'));
});

test('plain HTTP on the TLS port gets no API answer', async () => {
  const outcome = await new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: srv.port, path: '/healthz', agent: false, timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve(`status ${res.statusCode} ${text}`));
    });
    req.on('timeout', () => { req.destroy(); resolve('timeout'); });
    req.on('error', (e) => resolve(`error ${e.code}`));
  });
  assert.doesNotMatch(outcome, /"status":"ok"/);
});

test('a client that does not trust the certificate refuses it', async () => {
  await assert.rejects(new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: srv.port, path: '/healthz', agent: false }, resolve).on('error', reject);
  }), (e) => /self[- ]signed|DEPTH_ZERO_SELF_SIGNED_CERT|unable to verify/i.test(`${e.code} ${e.message}`));
});

test('--tls-cert without --tls-key, or an unreadable file, exits 2 before serving', () => {
  const data = mkdtempSync(join(tmpdir(), 'yiwang-tls-data-'));
  try {
    for (const args of [['--tls-cert', cert], ['--tls-key', key], ['--tls-cert', join(dir, 'missing.pem'), '--tls-key', key]]) {
      const r = spawnSync(BIN, ['serve', '--data', data, '--listen', '127.0.0.1:0', ...args], { encoding: 'utf8', timeout: 30000 });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /tls/i);
    }
    // a key that does not match the certificate: the server does not start
    const other = join(dir, 'other.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', other], { stdio: 'ignore' });
    const r = spawnSync(BIN, ['serve', '--data', data, '--listen', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', other],
      { encoding: 'utf8', timeout: 30000 });
    assert.notEqual(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /"msg":"listening"/);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
