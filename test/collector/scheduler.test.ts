import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAlignedTimer, nextAlignedTick, systemClock } from '../../src/collector/scheduler.js';

test('nextAlignedTick falls on the next wall-clock multiple of the interval', () => {
  assert.equal(nextAlignedTick(1_000_000_012_345, 30_000), 1_000_000_020_000);
  assert.equal(nextAlignedTick(1_000_000_020_000, 30_000), 1_000_000_050_000);
});

test('createAlignedTimer ticks on multiples of the interval without drift', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000_000_700 });
  const ticks: number[] = [];
  const timer = createAlignedTimer(async () => {
    ticks.push(Date.now());
  }, systemClock);
  timer.start(1000);
  t.mock.timers.tick(300);
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    t.mock.timers.tick(1000);
  }
  timer.stop();
  assert.deepEqual(ticks, [1_000_000_001_000, 1_000_000_002_000, 1_000_000_003_000, 1_000_000_004_000, 1_000_000_005_000]);
});

test('createAlignedTimer skips a tick while the previous run is still going', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 2_000_000_000_000 });
  let release: () => void = () => undefined;
  let runs = 0;
  const timer = createAlignedTimer(() => {
    runs++;
    return new Promise<void>((resolve) => {
      release = resolve;
    });
  }, systemClock);
  timer.start(1000);
  t.mock.timers.tick(1000);
  t.mock.timers.tick(1000);
  t.mock.timers.tick(1000);
  assert.equal(runs, 1);
  assert.equal(timer.skippedTicks, 2);
  release();
  await Promise.resolve();
  await Promise.resolve();
  t.mock.timers.tick(1000);
  assert.equal(runs, 2);
  timer.stop();
});
