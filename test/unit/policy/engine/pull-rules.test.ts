import { describe, expect, it } from 'vitest';
import { evaluate, evaluatePull, evaluateUnavailable } from '../../../../src/policy/evaluate.js';
import { parsePolicyFiles } from '../../../../src/policy/loader/load.js';
import { context, facts, policy, policySet } from './fixtures.js';

const A = `sha256:${'a'.repeat(64)}`;
const byTag = { kind: 'tag' as const, name: 'library/app', tag: '1.0', served: A };
const old = facts({ created: '2020-01-01T00:00:00Z', config: { User: '1000' } });
const epoch = facts({ created: '1970-01-01T00:00:00Z', config: { User: '1000' } });

// The three rules of issue 13 through evaluate(): modes, scopes, the policy-file shape and exceptions.
describe('require-digest, image-age and stale-base in a policy set', () => {
  it('take the policy-file shape issue 13 fixes', () => {
    const set = parsePolicyFiles([
      {
        file: 'p.yaml',
        text: `apiVersion: pullgate/v1
kind: Policy
name: p
rules:
  require-digest: { mode: enforce }                 # enforce | audit | off
  image-age: { mode: enforce, maxAgeDays: 365, unknown: allow }   # unknown: allow | warn | deny
  stale-base: { mode: audit }
`,
      },
    ]);
    expect(evaluatePull(set, { reference: byTag }, context()).decision).toBe('deny');
    expect(evaluate(set, old, context()).findings.map((f) => f.rule)).toEqual(['image-age']);
  });

  it('names the file and place of a bad setting', () => {
    expect(() =>
      policySet(policy('bad', { rules: { 'image-age': { mode: 'enforce', maxAgeDays: 0 } } })),
    ).toThrow(/bad\.yaml: rules\.image-age\.maxAgeDays/);
    expect(() => policySet(policy('bad', { rules: { 'image-age': { mode: 'enforce' } } }))).toThrow(
      /rules\.image-age\.maxAgeDays/,
    );
    expect(() =>
      policySet(policy('bad', { rules: { 'stale-base': { mode: 'audit', checkUpstream: 'yes' } } })),
    ).toThrow(/rules\.stale-base\.checkUpstream/);
  });

  it('require-digest applies only in its scope, and audit mode warns', () => {
    const set = policySet(
      policy('prod', {
        scope: { clients: { networks: ['10.1.0.0/16'] } },
        rules: { 'require-digest': { mode: 'enforce' } },
      }),
      policy('ci', {
        scope: { clients: { networks: ['10.2.0.0/16'] } },
        rules: { 'require-digest': { mode: 'audit' } },
      }),
    );
    expect(evaluatePull(set, { reference: byTag }, context({ address: '10.1.2.3' })).decision).toBe('deny');
    expect(evaluatePull(set, { reference: byTag }, context({ address: '10.2.2.3' })).decision).toBe('warn');
    expect(evaluatePull(set, { reference: byTag }, context({ address: '192.0.2.1' })).decision).toBe('allow');
  });

  it('image-age with unknown: warn warns even under enforce', () => {
    const set = policySet(
      policy('age', { rules: { 'image-age': { mode: 'enforce', maxAgeDays: 30, unknown: 'warn' } } }),
    );
    const d = evaluate(set, epoch, context());
    expect(d.decision).toBe('warn');
    expect(d.findings[0]).toMatchObject({ rule: 'image-age', mode: 'audit', policy: 'age' });
    expect(d.findings[0]).not.toHaveProperty('warnOnly');
  });

  it('image-age uses the time of the pull from the context', () => {
    const set = policySet(policy('age', { rules: { 'image-age': { mode: 'enforce', maxAgeDays: 365 } } }));
    const built = facts({ created: '2026-01-01T00:00:00Z' });
    expect(evaluate(set, built, context({ now: new Date('2026-06-01T00:00:00Z') })).decision).toBe('allow');
    expect(evaluate(set, built, context({ now: new Date('2027-06-01T00:00:00Z') })).decision).toBe('deny');
  });

  it('an exception waives a stale-base finding for its repository until it expires', () => {
    const set = policySet(
      policy('bases', {
        rules: { 'stale-base': { mode: 'enforce' } },
        exceptions: [
          {
            rules: ['stale-base'],
            repositories: ['library/app'],
            reason: 'rebuild scheduled',
            owner: 'team',
            expires: '2026-07-01',
          },
        ],
      }),
    );
    const base = {
      name: 'docker.io/library/base:1',
      digest: A,
      state: {
        kind: 'known' as const,
        digest: `sha256:${'b'.repeat(64)}`,
        children: [],
        source: 'history' as const,
      },
    };
    const waived = evaluatePull(set, { base }, context());
    expect(waived.decision).toBe('allow');
    expect(waived.waived.map((w) => w.rule)).toEqual(['stale-base']);
    expect(evaluatePull(set, { base }, context({ now: new Date('2026-07-02T00:00:00Z') })).decision).toBe(
      'deny',
    );
  });

  it('a config that cannot be fetched leaves image-age "not checked", but not the pull rules', () => {
    const set = policySet(
      policy('all', {
        rules: {
          'image-age': { mode: 'enforce', maxAgeDays: 30 },
          'require-digest': { mode: 'enforce' },
          'stale-base': { mode: 'enforce' },
        },
      }),
    );
    const d = evaluateUnavailable(set, context(), 'the image config could not be fetched');
    expect(d.findings.map((f) => f.rule)).toEqual(['image-age']);
  });

  it('two policies with the same scope and priority that differ only in maxAgeDays contradict', () => {
    expect(() =>
      policySet(
        policy('a', { rules: { 'image-age': { mode: 'enforce', maxAgeDays: 30 } } }),
        policy('b', { rules: { 'image-age': { mode: 'enforce', maxAgeDays: 60 } } }),
      ),
    ).toThrow(/rules\.image-age: contradicts policy "a"/);
  });
});
