/**
 * Runs the real server on a fixture /proc with moving counters, for looking at the dashboard by hand:
 *   npx tsx test/e2e/preview.ts [--port 8000] [--days 365]
 * Build the dashboard first (npm run build -w frontend). Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { startFixtureServer } from './fixture-server.js';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '8000' }, days: { type: 'string', default: '0' }, token: { type: 'string' } },
});

const server = await startFixtureServer({
  port: Number(values.port),
  historyDays: Number(values.days),
  ...(values.token ? { env: { NETPULSE_AUTH_TOKEN: values.token } } : {}),
});
console.log(`Net-Pulse preview on ${server.url}`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
