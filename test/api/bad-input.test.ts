/**
 * Bad input against the real server: every answer is a 4xx JSON body { statusCode, code, error, message }
 * naming the problem, never a 5xx, and nothing changes: the stored configuration and traffic, and the
 * database's tables, are the same after the request as before.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type HttpAnswer, type TestServer } from '../helpers/server.js';

/** What a bad request must leave as it was. */
async function snapshot(srv: TestServer) {
  const [monitored, wrapped, interval, history, summary] = await Promise.all([
    srv.get('/api/config/monitored_interfaces'),
    srv.get('/api/config/interfaces'),
    srv.get('/api/config/collection-interval'),
    srv.get('/api/traffic/history?limit=1000'),
    srv.get('/api/traffic/summary?hours=24'),
  ]);
  const db = srv.server.db;
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  const rows = Object.fromEntries(tables.map((name) => [name, (db.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get() as { n: number }).n]));
  const configuration = db.prepare('SELECT key, value FROM configuration ORDER BY key').all();
  return { monitored: monitored.text, wrapped: wrapped.text, interval: interval.text, history: [history.body.total, history.body.data], summary: summary.body.total, rows, configuration };
}

function assertRefused(answer: HttpAnswer, status: number, code: string | null, mentions: RegExp): void {
  assert.equal(answer.status, status, answer.text);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'error', 'message', 'statusCode'], answer.text);
  assert.equal(answer.body.statusCode, BigInt(status));
  if (code !== null) assert.equal(answer.body.code, code, answer.text);
  assert.match(answer.body.message, mentions);
}

/** A GET with the path sent byte for byte (fetch would resolve "..", even written as %2E%2E). */
function rawGet(srv: TestServer, path: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const url = new URL(srv.url);
    const req = http.request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
        resolve({ status: res.statusCode ?? 0, headers, text, body: JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function seeded(): Promise<TestServer> {
  const srv = await startTestServer(null);
  srv.advance('eth0', { rxBytes: 1234n, txBytes: 56n, rxPackets: 7n, txPackets: 8n });
  await srv.collect();
  return srv;
}

const reads: [string, string, number, string | null, RegExp][] = [
  ['time_window_hours that is not a number', '/api/traffic?time_window_hours=abc&group_minutes=60', 400, 'VALIDATION_ERROR', /time_window_hours/],
  ['a time window of 0 hours', '/api/traffic?time_window_hours=0&group_minutes=60', 400, 'VALIDATION_ERROR', /time_window_hours/],
  ['a negative time window', '/api/traffic?time_window_hours=-1&group_minutes=60', 400, 'VALIDATION_ERROR', /time_window_hours/],
  ['a time window of 1e9 hours', '/api/traffic?time_window_hours=1e9&group_minutes=60', 400, 'VALIDATION_ERROR', /time_window_hours/],
  ['a time window of 1e400 hours, Infinity once coerced', '/api/traffic?time_window_hours=1e400&group_minutes=60', 400, 'VALIDATION_ERROR', /time_window_hours/],
  ['a missing time window', '/api/traffic?group_minutes=60', 400, 'VALIDATION_ERROR', /time_window_hours/],
  ['group_minutes=0', '/api/traffic?time_window_hours=1&group_minutes=0', 400, 'VALIDATION_ERROR', /group_minutes/],
  ['group_minutes=1.5', '/api/traffic?time_window_hours=1&group_minutes=1.5', 400, 'VALIDATION_ERROR', /group_minutes/],
  ['group_minutes=2000, more than a day but not whole days', '/api/traffic?time_window_hours=72&group_minutes=2000', 400, 'INVALID_GROUPING', /1440/],
  ['a year in 1-minute buckets', '/api/traffic?time_window_hours=8760&group_minutes=1', 400, 'TOO_MANY_POINTS', /20000/],
  ['5-minute buckets beyond the minute retention', '/api/traffic?time_window_hours=1000&group_minutes=5', 400, 'GROUPING_NOT_AVAILABLE', /30 days/],
  ['an interface the machine does not have', '/api/traffic?time_window_hours=1&group_minutes=60&interface=eth9', 404, 'UNKNOWN_INTERFACE', /eth9/],
  ['an SQL fragment as the interface', "/api/traffic?time_window_hours=1&group_minutes=60&interface=eth0'%20OR%201%3D1%20--", 400, 'VALIDATION_ERROR', /interface/],
  ['an SQL fragment without spaces as the interface', "/api/traffic?time_window_hours=1&group_minutes=60&interface=eth0'--", 404, 'UNKNOWN_INTERFACE', /eth0'--/],
  ['a 16-character interface', '/api/traffic?time_window_hours=1&group_minutes=60&interface=abcdefghijklmnop', 400, 'VALIDATION_ERROR', /interface/],
  ['../etc as an interface', '/api/interfaces/..%2Fetc', 400, 'VALIDATION_ERROR', /name/],
  ['eth0%2F.. as an interface', '/api/interfaces/eth0%2F../stats', 400, 'VALIDATION_ERROR', /name/],
  ['an interface with a space', '/api/interfaces/a%20b', 400, 'VALIDATION_ERROR', /name/],
  ['a 16-character interface name in the path', '/api/interfaces/abcdefghijklmnop/stats', 400, 'VALIDATION_ERROR', /15/],
  ['a name of 9 characters but 18 bytes', `/api/interfaces/${encodeURIComponent('é'.repeat(9))}`, 400, 'INVALID_INTERFACE_NAME', /not a valid interface name/],
  ['an SQL fragment in the path', "/api/interfaces/eth0'%3B%20DROP%20TABLE%20traffic_data%3B--/stats", 400, 'VALIDATION_ERROR', /name/],
  ['history with limit=0', '/api/traffic/history?limit=0', 400, 'VALIDATION_ERROR', /limit/],
  ['history with limit=abc', '/api/traffic/history?limit=abc', 400, 'VALIDATION_ERROR', /limit/],
  ['history with a negative offset', '/api/traffic/history?offset=-1', 400, 'VALIDATION_ERROR', /offset/],
  ['history with a start that is no time', '/api/traffic/history?start=yesterday', 400, 'INVALID_TIME', /start/],
  ['history with an SQL fragment as start', '/api/traffic/history?start=1%3B%20DROP%20TABLE%20traffic_data', 400, 'INVALID_TIME', /start/],
  ['history with start after end', '/api/traffic/history?start=2030-01-01T00:00:00Z&end=2020-01-01T00:00:00Z', 400, 'INVALID_RANGE', /start/],
  ['history of an unknown interface', '/api/traffic/history?interface=eth9', 404, 'UNKNOWN_INTERFACE', /eth9/],
  ['a summary over 0 hours', '/api/traffic/summary?hours=0', 400, 'VALIDATION_ERROR', /hours/],
  ['a summary over abc hours', '/api/traffic/summary?hours=abc', 400, 'VALIDATION_ERROR', /hours/],
  ['the latest sample of an unknown interface', '/api/traffic/latest?interface=eth9', 404, 'UNKNOWN_INTERFACE', /eth9/],
  ['stats of an unknown interface', '/api/interfaces/eth9/stats', 404, 'UNKNOWN_INTERFACE', /eth9/],
  ['an export as xml', '/api/export/traffic?format=xml', 400, 'VALIDATION_ERROR', /format/],
  ['an export by week', '/api/export/traffic?resolution=week', 400, 'VALIDATION_ERROR', /resolution/],
  ['an export with an end that is no time', '/api/export/traffic?end=soon', 400, 'INVALID_TIME', /end/],
  ['an export of an unknown interface', '/api/export/traffic?interface=eth9', 404, 'UNKNOWN_INTERFACE', /eth9/],
];

describe('bad queries are refused with a 4xx naming the problem and change nothing', () => {
  let srv: TestServer;
  before(async () => {
    srv = await seeded();
  });
  after(() => srv.close());

  for (const [what, path, status, code, mentions] of reads) {
    test(`GET with ${what} answers ${status}${code ? ` ${code}` : ''}`, async () => {
      const before = await snapshot(srv);
      assertRefused(await srv.get(path), status, code, mentions);
      assert.deepEqual(await snapshot(srv), before);
    });
  }

  test('GET /api/interfaces/.. sent as is answers 400 INVALID_INTERFACE_NAME', async () => {
    for (const path of ['/api/interfaces/%2E%2E', '/api/interfaces/%2e%2e/stats', '/api/interfaces/%00']) {
      const answer = await rawGet(srv, path);
      assert.equal(answer.status, 400, `${path}: ${answer.text}`);
      assert.equal(answer.body.code, 'INVALID_INTERFACE_NAME', path);
    }
  });
});

const json = (body: string) => ({ body, contentType: 'application/json' });

const writes: [string, 'post' | 'put', string, { body: string; contentType?: string }, number, string | null, RegExp][] = [
  ['an object instead of an array', 'post', '/api/config/monitored_interfaces', json('{"interfaces":["eth0"]}'), 400, 'VALIDATION_ERROR', /array/],
  ['a string instead of an array', 'post', '/api/config/monitored_interfaces', json('"eth0"'), 400, 'VALIDATION_ERROR', /array/],
  ['a number instead of an array', 'post', '/api/config/monitored_interfaces', json('5'), 400, 'VALIDATION_ERROR', /array/],
  ['true instead of an array', 'post', '/api/config/monitored_interfaces', json('true'), 400, 'VALIDATION_ERROR', /array/],
  ['null instead of an array', 'post', '/api/config/monitored_interfaces', json('null'), 400, null, /array|body/],
  ['an array of numbers', 'post', '/api/config/monitored_interfaces', json('[5]'), 400, 'VALIDATION_ERROR', /array/],
  ['invalid JSON', 'post', '/api/config/monitored_interfaces', json('["eth0"'), 400, 'INVALID_BODY', /JSON/],
  ['a JSON array sent as text/plain', 'post', '/api/config/monitored_interfaces', { body: '["eth0"]', contentType: 'text/plain' }, 400, 'VALIDATION_ERROR', /application\/json/],
  ['a body sent as application/xml', 'post', '/api/config/monitored_interfaces', { body: '<eth0/>', contentType: 'application/xml' }, 415, 'UNSUPPORTED_MEDIA_TYPE', /Unsupported Media Type/i],
  ['no body at all', 'post', '/api/config/monitored_interfaces', { body: '' }, 400, null, /body/],
  ['an empty array', 'post', '/api/config/monitored_interfaces', json('[]'), 400, 'EMPTY_SELECTION', /at least one/],
  ['an interface the machine does not have', 'post', '/api/config/monitored_interfaces', json('["nope0"]'), 400, 'UNKNOWN_INTERFACE', /nope0/],
  ['a known and an unknown interface', 'post', '/api/config/monitored_interfaces', json('["eth0","nope0"]'), 400, 'UNKNOWN_INTERFACE', /nope0/],
  ['a path as an interface', 'post', '/api/config/monitored_interfaces', json('["../etc"]'), 400, 'INVALID_INTERFACE_NAME', /\.\.\/etc/],
  ['an SQL fragment as an interface', 'post', '/api/config/monitored_interfaces', json(`["eth0' OR 1=1 --"]`), 400, 'INVALID_INTERFACE_NAME', /OR 1=1/],
  ['a string for interfaces', 'put', '/api/config/interfaces', json('{"interfaces":"eth0"}'), 400, 'VALIDATION_ERROR', /interfaces/],
  ['a bare array', 'put', '/api/config/interfaces', json('["eth0"]'), 400, 'VALIDATION_ERROR', /interfaces/],
  ['an empty interfaces list', 'put', '/api/config/interfaces', json('{"interfaces":[]}'), 400, 'EMPTY_SELECTION', /at least one/],
  ['an unknown field', 'put', '/api/config/interfaces', json('{"interfaces":["eth0"],"all":true}'), 400, 'VALIDATION_ERROR', /additional/],
  ['interval_seconds=0', 'put', '/api/config/collection-interval', json('{"interval_seconds":0}'), 400, 'VALIDATION_ERROR', /interval_seconds/],
  ['interval_seconds=3601', 'put', '/api/config/collection-interval', json('{"interval_seconds":3601}'), 400, 'VALIDATION_ERROR', /interval_seconds/],
  ['interval_seconds as the string "30"', 'put', '/api/config/collection-interval', json('{"interval_seconds":"30"}'), 400, 'VALIDATION_ERROR', /interval_seconds/],
  ['interval_seconds as [30]', 'put', '/api/config/collection-interval', json('{"interval_seconds":[30]}'), 400, 'VALIDATION_ERROR', /interval_seconds/],
  ['interval_seconds=1e400', 'put', '/api/config/collection-interval', json('{"interval_seconds":1e400}'), 400, 'VALIDATION_ERROR', /interval_seconds/],
  ['interval_seconds=1.5', 'put', '/api/config/collection-interval', json('{"interval_seconds":1.5}'), 400, 'VALIDATION_ERROR', /interval_seconds/],
  ['no interval_seconds', 'put', '/api/config/collection-interval', json('{}'), 400, 'VALIDATION_ERROR', /interval_seconds/],
  ['a bare number', 'put', '/api/config/collection-interval', json('30'), 400, 'VALIDATION_ERROR', /interval_seconds/],
];

describe('bad writes are refused with a 4xx naming the problem and change nothing', () => {
  let srv: TestServer;
  before(async () => {
    srv = await seeded();
  });
  after(() => srv.close());

  for (const [what, method, path, raw, status, code, mentions] of writes) {
    test(`${method.toUpperCase()} ${path} with ${what} answers ${status}${code ? ` ${code}` : ''}`, async () => {
      const before = await snapshot(srv);
      assertRefused(await srv[method](path, undefined, raw), status, code, mentions);
      assert.deepEqual(await snapshot(srv), before);
    });
  }
});
