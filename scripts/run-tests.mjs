#!/usr/bin/env node
// npm test: the frontend's Vitest specs, then every backend test (node:test via tsx), then one line
// "N passed, N failed" summed from both runners' machine-readable reports. Exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-test-'));
const only = process.argv.slice(2);

function findTests(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(p));
    else if (entry.name.endsWith('.test.ts')) found.push(path.relative(root, p));
  }
  return found.sort();
}

let passed = 0;
let failed = 0;
let skipped = 0;

// 1. Frontend unit specs (Vitest, JSON report).
if (only.length === 0) {
  const report = path.join(out, 'vitest.json');
  const r = spawnSync('npx', ['vitest', 'run', '--root', 'frontend', '--reporter=default', '--reporter=json', `--outputFile=${report}`], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NO_COLOR: '1', TZ: 'UTC' },
  });
  if (fs.existsSync(report)) {
    const json = JSON.parse(fs.readFileSync(report, 'utf8'));
    passed += json.numPassedTests;
    failed += json.numFailedTests;
    skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
    if (json.numFailedTestSuites > 0 && json.numFailedTests === 0) failed += json.numFailedTestSuites;
  } else {
    console.error(`vitest wrote no report (exit ${r.status})`);
    failed += 1;
  }
}

// 2. Backend, CLI, kernel and browser tests (node:test), with a TAP copy to count from.
const files = only.length > 0 ? only : findTests(path.join(root, 'test'));
const tap = path.join(out, 'node.tap');
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NO_COLOR: '1' } },
);
const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
if (text === '') {
  console.error(`node --test wrote no report (exit ${r.status})`);
  failed += 1;
} else {
  passed += count('pass');
  failed += count('fail') + count('cancelled');
  skipped += count('skipped') + count('todo');
  if (r.status !== 0 && count('fail') + count('cancelled') === 0) failed += 1;
}

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 ? 1 : 0;
