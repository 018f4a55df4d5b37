import { describe, expect, it } from 'vitest';
import { classifyTag } from '../../../src/tags/classify-tag.js';

describe('classifyTag', () => {
  it.each([
    ['1.25.3', 'fully-qualified'],
    ['v2.0.1', 'fully-qualified'],
    ['3.12.10-slim-bookworm', 'fully-qualified'],
    ['1.25.3-alpine3.20', 'fully-qualified'],
    ['2024.01.15', 'fully-qualified'],
    ['20240115', 'fully-qualified'],
    ['sha-3f2a9c1', 'fully-qualified'],
    ['latest', 'floating'],
    ['3', 'floating'],
    ['3.12', 'floating'],
    ['3.12-slim', 'floating'],
    ['stable', 'floating'],
    ['bookworm', 'floating'],
    ['alpine', 'floating'],
    ['lts', 'floating'],
    ['deadbeef', 'floating'],
  ] as const)('%s is %s', (tag, expected) => {
    expect(classifyTag(tag)).toBe(expected);
  });
});
