// Helpers shared by the API tests that do not need a running server:
// problem-response assertions, USCC codes, RFC 6238 codes, the route
// tables of the server's source, and small timing helpers.
import assert from 'node:assert/strict';
import { createHmac, randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root (tests/api/lib/../../..). */
export const REPO = new URL('../../../', import.meta.url).pathname;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Asserts an RFC 9457 problem response: status, content type, and a body of
 * exactly type/title/status/detail/code/request_id, with the request id the
 * same as the X-Request-Id header.
 */
export function assertProblem(res, status, code, detailPattern) {
  const what = `${status} ${code}, got ${res.status} ${res.text}`;
  assert.equal(res.status, status, what);
  assert.match(res.headers.get('content-type') || '', /^application\/problem\+json(;|$)/, what);
  assert.ok(res.json && typeof res.json === 'object', `problem body is not JSON: ${res.text}`);
  assert.deepEqual(Object.keys(res.json).sort(), ['code', 'detail', 'request_id', 'status', 'title', 'type'], what);
  assert.equal(res.json.type, `https://yiwang.dev/problems/${code}`, what);
  assert.equal(res.json.code, code, what);
  assert.equal(res.json.status, status, what);
  assert.equal(typeof res.json.title, 'string');
  assert.ok(res.json.title.length > 0);
  assert.equal(typeof res.json.detail, 'string');
  assert.ok(res.json.detail.length > 0);
  assert.equal(res.json.request_id, res.headers.get('x-request-id'));
  // never a stack trace or SQL
  assert.doesNotMatch(res.text, /\bSELECT\b|\bINSERT INTO\b|\bUPDATE \w+ SET\b|SQLITE_|sqlite3_|\.c:\d+/);
  if (detailPattern) assert.match(res.json.detail, detailPattern);
}

// ---- unified social credit codes (GB 32100) ----

const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The check character of the first 17 characters of a USCC, or null. */
export function usccCheck(first17) {
  if (first17.length !== 17) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_ALPHABET.indexOf(first17[i]);
    if (v < 0) return null;
    sum += v * USCC_WEIGHTS[i];
  }
  const c = 31 - (sum % 31);
  return USCC_ALPHABET[c === 31 ? 0 : c];
}

/** The check character of an 8-character organization code base (GB 11714). */
export function orgCodeCheck(base8) {
  const w = [3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const ch = base8[i];
    const v = /[0-9]/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 55;
    sum += v * w[i];
  }
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

export function isValidUscc(code) {
  return typeof code === 'string' && code.length === 18 && /^[0-9]{6}$/.test(code.slice(2, 8)) &&
    usccCheck(code.slice(0, 17)) === code[17];
}

let usccCounter = 0;
/** A fresh valid USCC of a government body (category 11) in region. */
export function makeUscc(region = '330100') {
  const base = String((randomInt(0, 1e6) * 100 + (usccCounter++ % 100)) % 1e8).padStart(8, '0');
  const first17 = `11${region}${base}${orgCodeCheck(base)}`;
  return first17 + usccCheck(first17);
}

/** The same code with a different, wrong check character. */
export function breakCheckDigit(code) {
  const good = code[17];
  const bad = USCC_ALPHABET[(USCC_ALPHABET.indexOf(good) + 7) % USCC_ALPHABET.length];
  return code.slice(0, 17) + bad;
}

// ---- RFC 6238 TOTP ----

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, '')) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${s}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 30-second step of a time in milliseconds. */
export const totpStep = (ms = Date.now()) => Math.floor(ms / 1000 / 30);

/** The 6-digit HMAC-SHA1 code of step for a base32 secret. */
export function totpCode(secret, step = totpStep()) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 1000000).padStart(6, '0');
}

// ---- the server's routes, read from the source ----

function* sourceFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sourceFiles(p);
    else if (e.name.endsWith('.c')) yield p;
  }
}

/**
 * Every route the server's source declares: the entries of every
 * `yw_route name[] = {...}` table under src/ (the modules' src/<module>/module.c,
 * and any other file that declares one). [{method, pattern, file}]
 */
export function sourceRoutes() {
  const routes = [];
  for (const file of sourceFiles(join(REPO, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const table of text.matchAll(/\byw_route\s+\w+\s*\[\s*\]\s*=\s*\{([\s\S]*?)\};/g)) {
      for (const m of table[1].matchAll(/\{\s*"([A-Z]+)"\s*,\s*"(\/[^"]*)"/g)) {
        routes.push({ method: m[1], pattern: m[2], file: file.slice(REPO.length) });
      }
    }
  }
  return routes;
}

/** RFC 3339 date-time with a zone (Z or an offset). */
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
