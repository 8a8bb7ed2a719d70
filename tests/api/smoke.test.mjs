// The server starts, answers its health endpoints and signs a demo user in.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';

const srv = await startServer();
after(() => srv.stop());

test('health, readiness and metrics answer without credentials', async () => {
  assert.equal((await srv.call('GET', '/healthz')).status, 200);
  assert.equal((await srv.call('GET', '/readyz')).status, 200);
  const m = await srv.call('GET', '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.text, /yiwang_writer_queue_depth \d+/);
});

test('a demo user signs in and reads who they are', async () => {
  const token = await srv.login('gaj_admin');
  const me = await srv.call('GET', '/api/v1/auth/me', { token });
  assert.equal(me.status, 200);
  assert.equal(me.json.username, 'gaj_admin');
  assert.deepEqual(me.json.roles, ['org_admin']);
});
