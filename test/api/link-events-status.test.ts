/** GET /collector/status says whether link events listen (issue #8), and why not. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer } from '../helpers/server.js';

test('GET /collector/status reports link events off, with the reason, when the counters come from a fixture /proc', async (t) => {
  const srv = await startTestServer(t);
  const { status, body } = await srv.get('/collector/status');
  assert.equal(status, 200);
  assert.equal(body.link_events.on, false);
  assert.match(body.link_events.reason, /NETPULSE_PROC_ROOT/);
  assert.equal(Number(body.link_events.lost_messages), 0);
});

test('GET /collector/status names NETPULSE_LINK_EVENTS=off as the reason when it is off', async (t) => {
  const srv = await startTestServer(t, { env: { NETPULSE_LINK_EVENTS: 'off' } });
  const { body } = await srv.get('/collector/status');
  assert.equal(body.link_events.on, false);
  assert.equal(body.link_events.reason, 'NETPULSE_LINK_EVENTS=off');
});
