/**
 * The rule alerts' timer runs only while there are rules (issue #13: a server without rules must not wake every
 * 30 s). Real SQLite, mocked timers; an evaluation is seen as a read of the stored rules.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ALERT_RULES_KEY, RULE_EVALUATE_EVERY_MS, createRuleAlertsService } from '../../src/alerts/rule-alerts-service.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createConfigRepo } from '../../src/storage/config-repo.js';
import { openDatabase } from '../../src/storage/db.js';
import { createRunsRepo } from '../../src/storage/runs-repo.js';
import { createTrafficRepo } from '../../src/storage/traffic-repo.js';

test('rule alerts evaluate on a timer only while rules exist', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-rule-timer-'));
  const db = openDatabase(path.join(dir, 'netpulse.db'));
  t.after(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  t.mock.timers.enable({ apis: ['setInterval'] });
  const configRepo = createConfigRepo(db);
  let ruleReads = 0;
  const countingRepo = {
    ...configRepo,
    get: <T>(key: string): T | undefined => {
      if (key === ALERT_RULES_KEY) ruleReads++;
      return configRepo.get<T>(key);
    },
  };
  const service = createRuleAlertsService({
    db,
    configRepo: countingRepo,
    traffic: createTrafficRepo(db, { timezone: 'UTC' }),
    runs: createRunsRepo(db),
    source: { listInterfaces: async () => [] },
    monitoredList: () => ['eth0'],
    logger: silentLogger,
    now: () => 1_700_000_000_000,
    device: { id: 'd', name: 'test' },
    channels: { webhookUrl: null, ntfyUrl: null, template: null },
  });
  service.start();
  const atStart = ruleReads;
  t.mock.timers.tick(RULE_EVALUATE_EVERY_MS * 3);
  await service.evaluate(); // runs after any evaluation the timer began
  assert.equal(ruleReads, atStart + 1, 'no rules: only the evaluation asked for');

  service.setRules([{ id: 'busy', type: 'rate_above', interface: 'eth0', direction: 'rx', bytes_per_sec: 1000, minutes: 2 }]);
  const afterSet = ruleReads;
  t.mock.timers.tick(RULE_EVALUATE_EVERY_MS);
  await service.evaluate();
  assert.equal(ruleReads, afterSet + 2, 'the timer evaluated once, then the evaluation asked for');

  service.setRules([]);
  const afterClear = ruleReads;
  t.mock.timers.tick(RULE_EVALUATE_EVERY_MS * 3);
  await service.evaluate();
  assert.equal(ruleReads, afterClear + 1, 'only the evaluation asked for; the timer stopped');
  await service.close();
});
