import { describe, expect, it } from 'vitest';
import { evaluate, evaluateUnavailable } from '../../../../src/policy/evaluate.js';
import {
  cleanImage,
  context,
  enforceAll,
  facts,
  policy,
  policySet,
  rootImage,
  SECRET,
  secretImage,
} from './fixtures.js';

// evaluate() turns rule findings into allow / warn / deny by each rule's mode, and names the policy version.
describe('evaluate', () => {
  it('enforce denies, audit warns, off does not run the rule', () => {
    const enforce = policySet(policy('p', { rules: enforceAll }));
    const audit = policySet(
      policy('p', { rules: { 'run-as-root': { mode: 'audit' }, 'secret-env': { mode: 'enforce' } } }),
    );
    const off = policySet(policy('p', { rules: { 'run-as-root': { mode: 'off' } } }));
    expect(evaluate(enforce, rootImage, context())).toMatchObject({
      decision: 'deny',
      findings: [
        {
          rule: 'run-as-root',
          mode: 'enforce',
          policy: 'p',
          message: 'run-as-root: image config has no USER (runs as root)',
        },
      ],
      policyNames: ['p'],
      policyVersion: enforce.version,
    });
    expect(evaluate(audit, rootImage, context())).toMatchObject({
      decision: 'warn',
      findings: [{ rule: 'run-as-root', mode: 'audit' }],
    });
    expect(evaluate(audit, secretImage, context()).decision).toBe('deny');
    expect(evaluate(off, rootImage, context())).toMatchObject({ decision: 'allow', findings: [] });
    expect(evaluate(enforce, cleanImage, context())).toMatchObject({ decision: 'allow', findings: [] });
  });

  it('findings carry the variable name, never the value', () => {
    const set = policySet(policy('p', { rules: enforceAll }));
    const d = evaluate(set, secretImage, context());
    expect(d.findings).toEqual([
      expect.objectContaining({ rule: 'secret-env', key: 'AWS_SECRET_ACCESS_KEY' }),
    ]);
    expect(JSON.stringify(d)).not.toContain(SECRET);
    const history = facts({
      config: { User: '1' },
      history: [{ created_by: `|1 NPM_TOKEN=npm_${'a1B2c3D4e5'.repeat(3)}abcdef /bin/sh -c npm ci` }],
    });
    const h = evaluate(set, history, context());
    expect(h.findings).toEqual([
      expect.objectContaining({ rule: 'secret-history', key: 'NPM_TOKEN', mode: 'enforce' }),
    ]);
    expect(JSON.stringify(h)).not.toContain('a1B2c3D4e5');
  });

  it('is pure: the same inputs give the same decision', () => {
    const set = policySet(policy('p', { rules: enforceAll }));
    expect(evaluate(set, rootImage, context())).toEqual(evaluate(set, rootImage, context()));
  });

  it('an unavailable config refuses only enforced, fail-closed rules', () => {
    const closed = policySet(policy('p', { rules: enforceAll }));
    const open = policySet(policy('p', { rules: enforceAll, failClosed: false }));
    const audit = policySet(policy('p', { rules: { 'secret-env': { mode: 'audit' } } }));
    const why = 'the image config could not be fetched (upstream answered 500)';
    const d = evaluateUnavailable(closed, context(), why);
    expect(d.decision).toBe('deny');
    expect(d.findings.map((f) => f.message)).toContain(`secret-env: not checked, ${why} (fail-closed)`);
    expect(evaluateUnavailable(open, context(), why).decision).toBe('warn');
    expect(evaluateUnavailable(audit, context(), why).decision).toBe('warn');
    expect(evaluateUnavailable(policySet(), context(), why).decision).toBe('allow');
  });
});
