import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Whether a fresh node has pg loaded after running `script`. */
function loadsPg(script: string): boolean {
  const probe = `${script}
const { createRequire } = await import('node:module');
process.stdout.write(String(Object.keys(createRequire(import.meta.url).cache).some((file) => /[\\\\/]node_modules[\\\\/]pg[\\\\/]/.test(file))));`;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8' }) === 'true';
}

test('sync-service loads pg only when a sync service is created (a server without NETPULSE_SYNC_URL never does)', () => {
  assert.equal(loadsPg("await import('./src/sync/sync-service.ts');"), false);
  assert.equal(
    loadsPg(`const { createSyncService } = await import('./src/sync/sync-service.ts');
const { silentLogger } = await import('./src/shared/logger.ts');
const sync = createSyncService({ db: { prepare: () => ({ safeIntegers: () => ({}) }) }, url: 'postgres://u@127.0.0.1:1/x', device: { deviceId: '00000000-0000-4000-8000-000000000000', name: 'n', timezone: 'UTC' }, usageInterfaces: async () => [], intervalMs: 1000, logger: silentLogger, now: Date.now });
await sync.stop();`),
    true,
  );
});
