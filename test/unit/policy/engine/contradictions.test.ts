import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PolicyLoadError, parsePolicyFiles } from '../../../../src/policy/loader/load.js';
import { policy } from './fixtures.js';

function load(...docs: [string, Record<string, unknown>][]) {
  return parsePolicyFiles(docs.map(([file, doc]) => ({ file, text: stringify(doc) })));
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof PolicyLoadError) return err.message;
    throw err;
  }
  throw new Error('expected a PolicyLoadError');
}

// Policies that cannot all be meant are refused at load time, not resolved by file order.
describe('contradictory policy files', () => {
  it('refuses two policies with the same name', () => {
    expect(refusal(() => load(['a.yaml', policy('team')], ['b.yaml', policy('team')]))).toBe(
      'b.yaml: name: policy name "team" is already used by a.yaml',
    );
  });

  it('refuses the same scope and priority with different modes for a rule', () => {
    const scope = { repositories: ['acme/*'], tags: ['prod-*'] };
    const message = refusal(() =>
      load(
        ['a.yaml', policy('a', { scope, rules: { 'run-as-root': { mode: 'enforce' } } })],
        // Same scope written in another order is still the same scope.
        [
          'b.yaml',
          policy('b', {
            scope: { tags: ['prod-*'], repositories: ['acme/*'] },
            rules: { 'run-as-root': { mode: 'audit' } },
          }),
        ],
      ),
    );
    expect(message).toMatch(
      /^b\.yaml: rules\.run-as-root: contradicts policy "a" \(a\.yaml\): same scope and priority 0/,
    );
  });

  it('accepts the same scope when priorities differ or the modes agree', () => {
    const scope = { repositories: ['acme/*'] };
    expect(
      load(
        ['a.yaml', policy('a', { scope, rules: { 'run-as-root': { mode: 'enforce' } } })],
        ['b.yaml', policy('b', { scope, priority: 5, rules: { 'run-as-root': { mode: 'audit' } } })],
        ['c.yaml', policy('c', { scope, rules: { 'run-as-root': { mode: 'enforce' } } })],
      ).policies,
    ).toHaveLength(3);
  });
});
