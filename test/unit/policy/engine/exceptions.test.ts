import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../../src/policy/evaluate.js';
import { context, DIGEST, enforceAll, facts, policy, policySet, rootImage, SECRET } from './fixtures.js';

const rootAndSecret = facts({ config: { Env: [`AWS_SECRET_ACCESS_KEY=${SECRET}`] } });

// Exceptions waive findings of the rules they name for their repositories/digests until they expire.
describe('exceptions', () => {
  const set = policySet(
    policy('default', {
      rules: enforceAll,
      exceptions: [
        {
          rules: ['run-as-root'],
          repositories: ['library/postgres'],
          reason: 'gosu in entrypoint',
          owner: 'sec',
          expires: '2026-07-01',
        },
        {
          rules: ['run-as-root'],
          digests: [DIGEST],
          reason: 'reviewed build',
          owner: 'sec',
          expires: '2027-01-01',
        },
      ],
    }),
  );

  it('waives the named rule only, and says which exception applied', () => {
    const d = evaluate(
      set,
      rootAndSecret,
      context({ repository: 'library/postgres', digest: `sha256:${'b'.repeat(64)}` }),
    );
    expect(d.decision).toBe('deny');
    expect(d.findings.map((f) => f.rule)).toEqual(['secret-env']);
    expect(d.waived.map((f) => f.rule)).toEqual(['run-as-root']);
    expect(d.exceptionsApplied).toEqual([
      {
        policy: 'default',
        index: 0,
        rules: ['run-as-root'],
        reason: 'gosu in entrypoint',
        owner: 'sec',
        expires: '2026-07-01',
      },
    ]);
    expect(d.exceptionsExpired).toEqual([]);
  });

  it('matches by digest, including a platform digest of an index', () => {
    expect(evaluate(set, rootImage, context({ repository: 'other/x' })).decision).toBe('allow');
    const other = `sha256:${'c'.repeat(64)}`;
    expect(evaluate(set, rootImage, context({ repository: 'other/x', digest: other })).decision).toBe('deny');
    expect(
      evaluate(set, rootImage, context({ repository: 'other/x', digest: other, platformDigest: DIGEST }))
        .decision,
    ).toBe('allow');
  });

  it('stops applying at the start of its expiry day (UTC) and the decision says it expired', () => {
    const repo = { repository: 'library/postgres', digest: `sha256:${'b'.repeat(64)}` };
    const before = evaluate(set, rootImage, context({ ...repo, now: new Date('2026-06-30T23:59:59Z') }));
    expect(before.decision).toBe('allow');
    const after = evaluate(set, rootImage, context({ ...repo, now: new Date('2026-07-01T00:00:00Z') }));
    expect(after.decision).toBe('deny');
    expect(after.exceptionsApplied).toEqual([]);
    expect(after.exceptionsExpired).toEqual([
      expect.objectContaining({ policy: 'default', index: 0, expires: '2026-07-01' }),
    ]);
    expect(after.findings[0]?.expiredException).toMatchObject({ index: 0 });
  });

  it('does not report exceptions for images they would not change', () => {
    const clean = facts({ config: { User: '10' } });
    const d = evaluate(
      set,
      clean,
      context({ repository: 'library/postgres', now: new Date('2030-01-01T00:00:00Z') }),
    );
    expect(d).toMatchObject({ decision: 'allow', exceptionsApplied: [], exceptionsExpired: [] });
  });
});
