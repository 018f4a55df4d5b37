import { describe, expect, it } from 'vitest';
import { BASE_DIGEST, BASE_NAME, declaredBase, staleBase } from '../../../../src/policy/rules/stale-base.js';

const OLD = `sha256:${'1'.repeat(64)}`;
const NEW = `sha256:${'2'.repeat(64)}`;
const CHILD = `sha256:${'3'.repeat(64)}`;
const name = 'docker.io/library/python:3.12-slim';
const closed = { failClosed: true };

describe('declaredBase', () => {
  it('reads the OCI base annotations, manifest first, then the next source', () => {
    const manifest = { [BASE_NAME]: name, [BASE_DIGEST]: OLD };
    const labels = { [BASE_NAME]: 'other:1', [BASE_DIGEST]: NEW };
    expect(declaredBase(manifest, labels)).toEqual({ name, digest: OLD });
    expect(declaredBase(undefined, labels)).toEqual({ name: 'other:1', digest: NEW });
  });

  it('needs both keys in one source; an image that declares no base has nothing to check', () => {
    expect(declaredBase({ [BASE_NAME]: name }, { [BASE_DIGEST]: OLD })).toBeUndefined();
    expect(declaredBase(undefined, {})).toBeUndefined();
    expect(staleBase(undefined, closed)).toEqual([]);
  });
});

describe('stale-base', () => {
  it('passes an image built on what the base tag points to now', () => {
    const state = { kind: 'known' as const, digest: OLD, children: [], source: 'history' as const };
    expect(staleBase({ name, digest: OLD, state }, closed)).toEqual([]);
  });

  it('passes an image built on one platform of the index the base tag points to', () => {
    const state = { kind: 'known' as const, digest: NEW, children: [CHILD], source: 'history' as const };
    expect(staleBase({ name, digest: CHILD, state }, closed)).toEqual([]);
  });

  it('finds an image whose base tag has moved, naming both digests and when the new one was first seen', () => {
    const state = {
      kind: 'known' as const,
      digest: NEW,
      children: [],
      firstSeen: '2026-11-28T07:05:09.123Z',
      source: 'history' as const,
    };
    expect(staleBase({ name, digest: OLD, state }, closed)).toEqual([
      {
        rule: 'stale-base',
        kind: 'base-moved',
        message: `stale-base: built on ${name}@${OLD}; that tag now points to ${NEW} (first seen 2026-11-28 07:05:09Z)`,
      },
    ]);
  });

  it('says so when only the upstream knows the new digest', () => {
    const state = { kind: 'known' as const, digest: NEW, children: [], source: 'upstream' as const };
    expect(staleBase({ name, digest: OLD, state }, closed)[0]?.message).toContain(
      '(as the upstream answers now)',
    );
  });

  it('a base named by digest only has no tag that could move', () => {
    expect(staleBase({ name: `python@${OLD}`, digest: OLD, state: { kind: 'untagged' } }, closed)).toEqual(
      [],
    );
  });

  it('a base pullgate cannot look up is "not checked": refusing when fail-closed, warn-only otherwise', () => {
    const state = {
      kind: 'unknown' as const,
      why: 'docker.io/library/python:3.12-slim is not in the tag history',
    };
    const [refusing] = staleBase({ name, digest: OLD, state }, closed);
    expect(refusing).toMatchObject({ rule: 'stale-base', kind: 'base-unknown' });
    expect(refusing?.message).toBe(
      `stale-base: not checked, docker.io/library/python:3.12-slim is not in the tag history (base ${name}) (fail-closed)`,
    );
    expect(refusing?.warnOnly).toBeUndefined();
    expect(staleBase({ name, digest: OLD, state }, { failClosed: false })[0]?.warnOnly).toBe(true);
  });
});
