/**
 * A real PostgreSQL for the sync tests: starts Debian's cluster if it is down (pg_ctlcluster, as root),
 * makes sure a test role exists, and creates a throwaway database per test file, dropped afterwards.
 *
 *   const pg = await testPostgres();               // { skip: reason } when PostgreSQL can't be had
 *   if ('skip' in pg) { test('sync', { skip: pg.skip }, () => {}); } else { const db = await pg.createDatabase(); t.after(db.drop) }
 *
 * NETPULSE_TEST_PG_ADMIN_URL (postgres://user:pass@host:port/postgres, a role that may CREATE DATABASE)
 * replaces the local cluster, e.g. on a machine where PostgreSQL runs elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ROLE = 'netpulse_test';
const PASSWORD = 'netpulse_test';

export interface TestDatabase {
  /** postgres://… of the new, empty database. */
  url: string;
  name: string;
  host: string;
  port: number;
  /** Drops the database (terminating its connections). */
  drop(): Promise<void>;
}

export interface TestPostgres {
  host: string;
  port: number;
  adminUrl: string;
  createDatabase(): Promise<TestDatabase>;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts the local cluster when needed and returns its port; throws with a reason when it can't. */
function ensureLocalCluster(): { port: number } {
  let listing: string;
  try {
    listing = run('pg_lsclusters', ['--no-header']);
  } catch {
    throw new Error('PostgreSQL is not installed (no pg_lsclusters): apt-get install postgresql, or set NETPULSE_TEST_PG_ADMIN_URL');
  }
  const first = listing.split('\n').find((l) => l.trim() !== '');
  if (first === undefined) throw new Error('no PostgreSQL cluster exists (pg_lsclusters lists none)');
  const [version, cluster, port, status] = first.trim().split(/\s+/);
  if (status !== 'online') {
    try {
      run('pg_ctlcluster', [version!, cluster!, 'start']);
    } catch (err) {
      throw new Error(`PostgreSQL ${version}/${cluster} is down and could not be started: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { port: Number(port) };
}

function psqlAsPostgres(sql: string): void {
  const args = ['-u', 'postgres', '--', 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql];
  try {
    run('runuser', args);
  } catch {
    run('su', ['postgres', '-c', `psql -X -q -v ON_ERROR_STOP=1 -c "${sql.replaceAll('"', '\\"').replaceAll('$', '\\$')}"`]);
  }
}

let cached: Promise<TestPostgres | { skip: string }> | null = null;

async function setUp(): Promise<TestPostgres | { skip: string }> {
  let adminUrl = process.env.NETPULSE_TEST_PG_ADMIN_URL;
  let host = '127.0.0.1';
  let port = 5432;
  if (adminUrl === undefined || adminUrl === '') {
    try {
      port = ensureLocalCluster().port;
      psqlAsPostgres(
        `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN CREATE ROLE ${ROLE} LOGIN CREATEDB PASSWORD '${PASSWORD}'; END IF; END $$`,
      );
    } catch (err) {
      return { skip: `PostgreSQL unavailable: ${(err as Error).message.split('\n')[0]}` };
    }
    adminUrl = `postgres://${ROLE}:${PASSWORD}@${host}:${port}/postgres`;
  } else {
    const u = new URL(adminUrl);
    host = u.hostname;
    port = Number(u.port || 5432);
  }
  // Wait until it accepts connections (a cluster just started takes a moment).
  let lastError = '';
  for (let i = 0; i < 50; i++) {
    const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      lastError = '';
      break;
    } catch (err) {
      lastError = (err as Error).message;
      await c.end().catch(() => undefined);
      await sleep(200);
    }
  }
  if (lastError !== '') return { skip: `PostgreSQL unavailable: ${lastError}` };
  const admin = adminUrl;
  return {
    host,
    port,
    adminUrl: admin,
    async createDatabase() {
      const name = `netpulse_t_${randomBytes(6).toString('hex')}`;
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      const u = new URL(admin);
      u.pathname = `/${name}`;
      return {
        url: u.href,
        name,
        host,
        port,
        async drop() {
          const d = new pg.Client({ connectionString: admin });
          await d.connect();
          try {
            await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          } finally {
            await d.end();
          }
        },
      };
    },
  };
}

/** The shared PostgreSQL of this test process, or why there is none. */
export function testPostgres(): Promise<TestPostgres | { skip: string }> {
  cached ??= setUp();
  return cached;
}
