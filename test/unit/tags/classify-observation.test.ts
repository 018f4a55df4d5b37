import { describe, expect, it } from 'vitest';
import { classifyObservation, type TagView } from '../../../src/tags/classify-observation.js';

const idx = 'sha256:index-a';
const child = 'sha256:child-amd64';
const none: TagView = { approved: [], approvedIndexChildren: new Set() };
const indexApproved: TagView = {
  approved: [{ digest: idx, kind: 'index' }],
  approvedIndexChildren: new Set([child]),
};
const manifestApproved: TagView = {
  approved: [{ digest: 'sha256:m1', kind: 'manifest' }],
  approvedIndexChildren: new Set(),
};

describe('classifyObservation', () => {
  it.each([
    ['nothing known', none, { digest: 'sha256:m1', kind: 'manifest' }, { kind: 'first-seen' }],
    ['same index', indexApproved, { digest: idx, kind: 'index' }, { kind: 'unchanged', via: 'same-digest' }],
    [
      'another index',
      indexApproved,
      { digest: 'sha256:index-b', kind: 'index' },
      {
        kind: 'moved',
        from: { digest: idx, kind: 'index' },
        to: { digest: 'sha256:index-b', kind: 'index' },
        kindChanged: false,
      },
    ],
    [
      'a platform manifest of the approved index',
      indexApproved,
      { digest: child, kind: 'manifest' },
      { kind: 'unchanged', via: 'index-child' },
    ],
    [
      'a manifest the approved index does not list',
      indexApproved,
      { digest: 'sha256:stranger', kind: 'manifest' },
      {
        kind: 'moved',
        from: { digest: idx, kind: 'index' },
        to: { digest: 'sha256:stranger', kind: 'manifest' },
        kindChanged: true,
      },
    ],
    [
      'a different single manifest',
      manifestApproved,
      { digest: 'sha256:m2', kind: 'manifest' },
      {
        kind: 'moved',
        from: { digest: 'sha256:m1', kind: 'manifest' },
        to: { digest: 'sha256:m2', kind: 'manifest' },
        kindChanged: false,
      },
    ],
  ] as const)('%s', (_name, view, observed, expected) => {
    expect(classifyObservation(view, observed)).toEqual(expected);
  });

  it('sees an index that lists the approved single manifest as the same image, and one that does not as a change of kind', () => {
    const observed = { digest: 'sha256:index-new', kind: 'index' } as const;
    expect(classifyObservation(manifestApproved, observed, new Set(['sha256:m1']))).toEqual({
      kind: 'unchanged',
      via: 'index-parent',
    });
    expect(classifyObservation(manifestApproved, observed, new Set(['sha256:other']))).toMatchObject({
      kind: 'moved',
      kindChanged: true,
    });
  });
});

describe('an approved index replaced by one of its own platform manifests', () => {
  const view = {
    approved: [{ digest: 'sha256:index', kind: 'index' as const }],
    approvedIndexChildren: new Set(['sha256:amd64', 'sha256:arm64']),
  };
  it('is unchanged for a client that cannot take an index', () => {
    expect(classifyObservation(view, { digest: 'sha256:amd64', kind: 'manifest' })).toEqual({
      kind: 'unchanged',
      via: 'index-child',
    });
  });
  it('is a move for a client that asked for an index and got a single manifest', () => {
    expect(
      classifyObservation(view, { digest: 'sha256:amd64', kind: 'manifest' }, new Set(), true),
    ).toMatchObject({
      kind: 'moved',
      kindChanged: true,
    });
  });
});
