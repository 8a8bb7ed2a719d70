// Starts a real `yiwang serve` on a free port with a temporary data
// directory, and offers small helpers to call it. Used by every API test.
//
//   const srv = await startServer({ demo: true });
//   const token = await srv.login('gaj_admin');         // demo password
//   const res = await srv.call('GET', '/api/v1/auth/me', { token });
//   await srv.stop();                                     // SIGTERM, expects exit 0
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A small demo city keeps every test file's start quick; a test may ask for more.
process.env.YIWANG_DEMO_PEOPLE ??= '100';
// Webhook receivers and providers in tests listen on loopback, which the hub may not reach by default.
process.env.YIWANG_EGRESS_DENY ??= '169.254.0.0/16,fe80::/10';

export const BIN = process.env.YIWANG_BIN || new URL('../../../build/asan/yiwang', import.meta.url).pathname;

// Reads the JSON object that follows `title` in the server's stderr.
function jsonAfter(text, title) {
  const at = text.indexOf(title);
  if (at < 0) return null;
  const start = text.indexOf('{', at);
  let depth = 0, inString = false, escaped = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return JSON.parse(text.slice(start, i + 1));
  }
  return null;
}

/**
 * Starts the server. Options: demo (load the demo city), args (more flags),
 * env (more environment), dataDir (reuse a directory, e.g. after a crash),
 * keepData (do not delete the directory on stop).
 */
export async function startServer({ demo = true, args = [], env = {}, dataDir, keepData = false } = {}) {
  const dir = dataDir || mkdtempSync(join(tmpdir(), 'yiwang-test-'));
  const argv = ['serve', '--data', dir, '--listen', '127.0.0.1:0', ...(demo ? ['--demo'] : []), ...args];
  const proc = spawn(BIN, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }));
    // e.g. YIWANG_BIN does not exist: fail this file's start, not the whole test process
    proc.on('error', (error) => { stderr += `\n${error.message}`; resolve({ code: null, signal: null, error }); });
  });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 60000);
    proc.stderr.on('data', (d) => {
      stderr += d;
      const m = stderr.match(/"msg":"listening".*?"port":(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    exited.then(({ code, signal, error }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${error ? error.code : code ?? signal}):\n${stderr}`));
    });
  }).catch(async (e) => {
    // a server that did not start leaves neither a process nor a temporary directory behind
    if (proc.pid && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
    if (!dataDir && !keepData) rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  const base = `http://127.0.0.1:${port}`;
  const admins = jsonAfter(stderr, 'Platform administrators');
  const accounts = demo ? jsonAfter(stderr, 'Demo city accounts:') : null;

  const srv = {
    dir, port, base, proc, admins, accounts, exited,
    get stderr() { return stderr; },
    get stdout() { return stdout; },

    /** Sends a request; body objects are sent as JSON. Returns {status, headers, json, text}. */
    async call(method, path, { token, body, headers = {}, raw } = {}) {
      const h = { ...headers };
      if (token) h.Authorization = `Bearer ${token}`;
      let payload = raw;
      if (body !== undefined) {
        payload = JSON.stringify(body);
        if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
      }
      const res = await fetch(base + path, { method, headers: h, body: payload });
      const text = await res.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
      return { status: res.status, headers: res.headers, json, text };
    },

    /** Signs in and returns the token; password defaults to the demo password. */
    async login(username, password = accounts?.password, totp) {
      const body = { username, password };
      if (totp) body.totp = totp;
      const res = await srv.call('POST', '/api/v1/auth/login', { body });
      if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${res.text}`);
      return res.json.token;
    },

    /** Signs in a platform administrator from init and sets a new password. Returns a usable token. */
    async adminToken(role, newPassword = `New-${randomBytes(6).toString('hex')}-Passw0rd!`) {
      // (the default must not contain the username: the password policy refuses that)
      const creds = admins[role];
      let token = await srv.login(creds.username, creds.password);
      const res = await srv.call('POST', `/api/v1/users/${creds.username}/password`, {
        token, body: { current_password: creds.password, new_password: newPassword },
      });
      if (res.status !== 204) throw new Error(`password change ${role}: ${res.status} ${res.text}`);
      creds.password = newPassword;
      return token;
    },

    /** SIGTERM and wait; resolves to {code, signal}. */
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const r = await exited;
      if (!keepData) rmSync(dir, { recursive: true, force: true });
      return r;
    },

    /** SIGKILL and wait; the data directory is kept for a restart. */
    async kill() {
      proc.kill('SIGKILL');
      return exited;
    },
  };
  return srv;
}

/** The demo org code of a department, by username prefix (gaj, scjg, ...). */
export function orgOf(accounts, username) {
  return accounts.users.find((u) => u.username === username).org_code;
}
