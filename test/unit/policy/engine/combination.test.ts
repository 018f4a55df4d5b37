import { describe, expect, it } from 'vitest';
import { evaluate, resolvePolicies } from '../../../../src/policy/evaluate.js';
import { context, enforceAll, namedUserImage, policy, policySet, rootImage } from './fixtures.js';

// Overlapping policies combine per rule: highest priority, then the more specific scope, then the stricter mode.
describe('policy combination', () => {
  const set = policySet(
    policy('default', { rules: enforceAll }),
    policy('bases', {
      priority: 10,
      scope: { repositories: ['library/*'] },
      rules: { 'run-as-root': { mode: 'audit' } },
    }),
    policy('ci', {
      priority: 10,
      scope: { repositories: ['library/*'], clients: { users: ['ci'] } },
      rules: { 'run-as-root': { mode: 'off' } },
    }),
    policy('lockdown', {
      priority: 50,
      scope: { tags: ['prod'] },
      rules: { 'run-as-root': { mode: 'enforce', strict: true } },
    }),
  );

  it('a higher priority overrides a broader default for the rule it sets, and only that rule', () => {
    const r = resolvePolicies(set, context({ repository: 'library/python' }));
    expect(r.rules['run-as-root']).toMatchObject({ mode: 'audit', policy: 'bases' });
    expect(r.rules['secret-env']).toMatchObject({ mode: 'enforce', policy: 'default' });
    expect(evaluate(set, rootImage, context({ repository: 'library/python' })).decision).toBe('warn');
  });

  it('among equal priorities the more specific scope wins', () => {
    const r = resolvePolicies(set, context({ repository: 'library/python', user: 'ci' }));
    expect(r.rules['run-as-root']).toMatchObject({ mode: 'off', policy: 'ci' });
    expect(evaluate(set, rootImage, context({ repository: 'library/python', user: 'ci' })).decision).toBe(
      'allow',
    );
  });

  it('the highest priority wins even when less specific, and carries its options', () => {
    const ctx = context({ repository: 'library/python', user: 'ci', tag: 'prod' });
    expect(resolvePolicies(set, ctx).rules['run-as-root']).toMatchObject({ mode: 'enforce', strict: true });
    expect(evaluate(set, namedUserImage, ctx).decision).toBe('deny');
    expect(evaluate(set, namedUserImage, context()).decision).toBe('allow');
  });

  it('a full tie goes to the stricter mode', () => {
    const tie = policySet(
      policy('a', { scope: { repositories: ['x/*'] }, rules: { 'secret-env': { mode: 'audit' } } }),
      policy('b', { scope: { tags: ['*'] }, rules: { 'secret-env': { mode: 'enforce' } } }),
    );
    expect(resolvePolicies(tie, context({ repository: 'x/y' })).rules['secret-env']).toMatchObject({
      mode: 'enforce',
      policy: 'b',
    });
  });

  it('a rule no policy in scope sets is off', () => {
    const only = policySet(policy('teams', { scope: { repositories: ['acme/*'] }, rules: enforceAll }));
    const d = evaluate(only, rootImage, context({ repository: 'library/python' }));
    expect(d).toMatchObject({ decision: 'allow', findings: [], policyNames: [] });
  });
});
