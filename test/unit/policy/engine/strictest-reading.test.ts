import { describe, expect, it } from 'vitest';
import { evaluate, evaluateStrictest } from '../../../../src/policy/evaluate.js';
import { context, enforceAll, policy, policySet, rootImage } from './fixtures.js';

// A blob asked for by digest names no tag: the strictest reading of the policies for the repository applies
// (issue 10, path 1), so a tag-scoped or client-scoped leniency cannot be borrowed without its tag.
const lenientForBuildTags = policySet(
  policy('default', { rules: enforceAll }),
  policy('builds', {
    priority: 10,
    scope: { tags: ['build-*'] },
    rules: { 'run-as-root': { mode: 'audit' } },
  }),
);

describe('evaluateStrictest', () => {
  it('takes the strictest mode any tag could give a rule', () => {
    const strictDefault = policySet(
      policy('default', { rules: { 'run-as-root': { mode: 'audit' } } }),
      policy('prod', {
        priority: 10,
        scope: { tags: ['v*'] },
        rules: { 'run-as-root': { mode: 'enforce' } },
      }),
    );
    expect(evaluate(strictDefault, rootImage, context({ tag: undefined })).decision).toBe('warn');
    expect(evaluateStrictest(strictDefault, rootImage, context({ tag: undefined })).decision).toBe('deny');
  });

  it('does not lend a tag-scoped audit mode to a pull with no tag', () => {
    expect(evaluate(lenientForBuildTags, rootImage, context({ tag: 'build-1' })).decision).toBe('warn');
    expect(evaluateStrictest(lenientForBuildTags, rootImage, context({ tag: undefined })).decision).toBe(
      'deny',
    );
  });

  it('for a given client, ignores policies scoped to other clients', () => {
    const ciAudit = policySet(
      policy('default', { rules: { 'run-as-root': { mode: 'audit' } } }),
      policy('ci', {
        priority: 10,
        scope: { clients: { networks: ['10.0.0.0/8'] } },
        rules: { 'run-as-root': { mode: 'enforce' } },
      }),
    );
    const outside = context({ tag: undefined, address: '192.0.2.1' });
    expect(evaluateStrictest(ciAudit, rootImage, outside).decision).toBe('warn');
    expect(evaluateStrictest(ciAudit, rootImage, outside, { anyClient: true }).decision).toBe('deny');
  });

  it('stays off where no policy in scope sets a rule', () => {
    const none = policySet(policy('other', { scope: { repositories: ['other/*'] }, rules: enforceAll }));
    expect(evaluateStrictest(none, rootImage, context({ tag: undefined })).decision).toBe('allow');
  });
});
