import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

/**
 * The `yaml` package comes with @fastify/swagger (a runtime dependency), not as a direct one; it is
 * loaded through a variable so the type checker does not tie this test to it. Null when absent.
 */
async function loadYamlParser(): Promise<((text: string) => unknown) | null> {
  const name = 'yaml';
  try {
    const mod = (await import(name)) as { parse: (text: string) => unknown };
    return mod.parse;
  } catch {
    return null;
  }
}

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(command, args, { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    ),
  );
}

type Service = Record<string, unknown> & { environment?: Record<string, string> };

describe('docker-compose.yml', async () => {
  const text = await readFile(COMPOSE_FILE, 'utf8');
  const parse = await loadYamlParser();

  test('is plain YAML: spaces only, no tabs, and says why it uses host networking', () => {
    assert.ok(!text.includes('\t'), 'YAML forbids tabs for indentation');
    assert.match(text, /^\s*network_mode: host$/m);
    assert.match(text, /#.*bridge network.*\n.*\/proc\/net\/dev/i);
  });

  test('parses to one hardened netpulse service with host networking and a data volume', { skip: parse === null ? 'the yaml package is not installed' : false }, () => {
    const doc = (parse as (t: string) => unknown)(text) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    assert.deepEqual(Object.keys(doc.services), ['netpulse']);
    const svc = doc.services.netpulse as Service;
    assert.equal(svc.build, '.');
    assert.equal(svc.image, 'net-pulse:latest');
    assert.equal(svc.network_mode, 'host');
    assert.equal(svc.ports, undefined, 'ports cannot be published with host networking');
    assert.equal(svc.restart, 'unless-stopped');
    assert.equal(svc.init, true);
    assert.deepEqual(svc.volumes, ['netpulse-data:/data']);
    assert.ok('netpulse-data' in doc.volumes);
    assert.equal(svc.read_only, true);
    assert.deepEqual(svc.tmpfs, ['/tmp']);
    assert.deepEqual(svc.cap_drop, ['ALL']);
    assert.equal(svc.cap_add, undefined);
    assert.equal(svc.privileged, undefined);
    assert.deepEqual(svc.security_opt, ['no-new-privileges:true']);
  });

  test('sets the main NETPULSE_* variables, loopback and no token by default', { skip: parse === null ? 'the yaml package is not installed' : false }, () => {
    const doc = (parse as (t: string) => unknown)(text) as { services: Record<string, Service> };
    const env = doc.services.netpulse?.environment ?? {};
    assert.equal(env.NETPULSE_DB_PATH, '/data/netpulse.db');
    assert.equal(env.NETPULSE_HOST, '${NETPULSE_HOST:-127.0.0.1}');
    assert.equal(env.NETPULSE_PORT, '${NETPULSE_PORT:-8000}');
    assert.equal(env.NETPULSE_AUTH_TOKEN, '${NETPULSE_AUTH_TOKEN:-}', 'the token comes from .env, never from this file');
    assert.equal(env.NETPULSE_CORS_ORIGINS, '${NETPULSE_CORS_ORIGINS:-}');
    assert.ok('NETPULSE_LOG_LEVEL' in env);
  });

  test('docker compose config accepts the file and refuses a broken one', async (t) => {
    // Compose v2 (the docker CLI plugin) or v1 (Debian's docker-compose); neither needs a running engine.
    let compose: { command: string; args: string[] } | null = null;
    if ((await run('docker', ['compose', 'version'])).code === 0) compose = { command: 'docker', args: ['compose'] };
    else if ((await run('docker-compose', ['version'])).code === 0) compose = { command: 'docker-compose', args: [] };
    if (compose === null) {
      t.skip('neither docker compose nor docker-compose is installed');
      return;
    }
    const ok = await run(compose.command, [...compose.args, '-f', COMPOSE_FILE, 'config', '--quiet']);
    assert.equal(ok.code, 0, ok.stderr);

    const dir = await mkdtemp(path.join(tmpdir(), 'netpulse-compose-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const broken = path.join(dir, 'docker-compose.yml');
    await writeFile(broken, text.replace('restart: unless-stopped', 'restart: unless-stopped\n    restart_policy_typo: always'));
    const refused = await run(compose.command, [...compose.args, '-f', broken, 'config', '--quiet']);
    assert.notEqual(refused.code, 0, 'an unknown service key must be rejected');
  });
});
