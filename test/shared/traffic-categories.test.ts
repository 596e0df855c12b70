import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CT_MARK_MASK, TRAFFIC_CATEGORIES, categoryFromMark, categoryMark } from '../../src/shared/traffic-categories.js';

test('categoryMark puts each category in the top byte only, and categoryFromMark reads it back', () => {
  const marks = new Set<number>();
  for (const category of TRAFFIC_CATEGORIES) {
    const mark = categoryMark(category);
    assert.equal((mark & ~CT_MARK_MASK) >>> 0, 0, `${category} uses bits outside the mask`);
    assert.notEqual(mark, 0);
    marks.add(mark);
    assert.equal(categoryFromMark(mark), category);
    assert.equal(categoryFromMark((mark | 0x00ca6c) >>> 0), category, 'other tools’ low bits do not change the category');
  }
  assert.equal(marks.size, TRAFFIC_CATEGORIES.length);
});

test('categoryFromMark answers null for an unlabelled or foreign mark', () => {
  assert.equal(categoryFromMark(0), null);
  assert.equal(categoryFromMark(0x0000ca6c), null);
  assert.equal(categoryFromMark(0xfe000000), null);
});
