import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAGE_CACHE_KIB } from '../../src/storage/db.js';
import { makeStore } from '../helpers/store.js';

test('the database opens with WAL, foreign keys and a page cache of PAGE_CACHE_KIB instead of the 16 MB better-sqlite3 builds in', (t) => {
  const { db } = makeStore(t);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  // Negative: KiB (SQLite's convention); a positive number would be pages.
  assert.equal(db.pragma('cache_size', { simple: true }), -PAGE_CACHE_KIB);
  assert.ok(PAGE_CACHE_KIB < 16_000);
});
