// Calls to the Yiwang API from the console. The session is an HttpOnly
// cookie the browser sends by itself; requests that change something carry
// the CSRF proof from the yw_csrf cookie in X-CSRF-Token (see src/http/server.h).
// Failures throw ApiError holding the RFC 9457 problem the server sent.

export class ApiError extends Error {
  constructor(problem) {
    super(problem.detail || problem.title || 'request failed');
    this.problem = problem;
    this.status = problem.status;
    this.code = problem.code;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return '';
}

/**
 * api('GET', '/api/v1/resources', {query: {q}}) → parsed JSON (null for 204).
 * body: an object sent as JSON, or {raw, type} for another content type.
 */
export async function api(method, path, options = {}) {
  return (await call(method, path, options)).body;
}

/**
 * The same, with the audit entry that recorded the call: {body, auditSeq}
 * (auditSeq from X-Yiwang-Audit-Seq, or null).
 */
export async function apiAudited(method, path, options = {}) {
  const { body, headers } = await call(method, path, options);
  const seq = headers.get('X-Yiwang-Audit-Seq');
  return { body, auditSeq: seq === null ? null : Number(seq) };
}

async function call(method, path, { query, body, raw, type } = {}) {
  const headers = { Accept: 'application/json' };
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  } else if (raw !== undefined) {
    headers['Content-Type'] = type;
    payload = raw;
  }
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = cookie('yw_csrf');
  let url = path;
  if (query) {
    const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''));
    if ([...qs].length) url += `?${qs}`;
  }
  let res;
  try {
    res = await fetch(url, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    throw new ApiError({ title: 'Network error', detail: e.message, code: 'network', status: 0 });
  }
  if (res.status === 204) return { body: null, headers: res.headers };
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const problem = json && typeof json === 'object' ? json : { title: res.statusText, status: res.status, detail: text.slice(0, 200) };
    if (res.status === 401 && path !== '/api/v1/auth/console/login') window.dispatchEvent(new CustomEvent('yw:signed-out'));
    throw new ApiError({ status: res.status, ...problem });
  }
  return { body: json, headers: res.headers };
}

/** Every page of a list, up to max items. */
export async function listAll(path, query = {}, max = 1000) {
  const items = [];
  let cursor;
  do {
    const page = await api('GET', path, { query: { ...query, limit: Math.min(1000, max - items.length), cursor } });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
