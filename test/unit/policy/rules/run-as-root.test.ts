import { describe, expect, it } from 'vitest';
import { imageFacts } from '../../../../src/policy/facts.js';
import { runAsRoot } from '../../../../src/policy/rules/run-as-root.js';

const withUser = (user: string | null | undefined, os = 'linux') =>
  imageFacts({ os, architecture: 'amd64', config: user === undefined ? {} : { User: user } });

// [User, root by default, root under the kubelet's strict runAsNonRoot reading]
const cases: [user: string | null | undefined, root: boolean, strictRoot: boolean][] = [
  [undefined, true, true],
  [null, true, true],
  ['', true, true],
  ['  ', true, true],
  ['root', true, true],
  ['0', true, true],
  ['00', true, true],
  ['+0', true, true],
  ['-0', true, true],
  [' 0 ', true, true],
  ['0:0', true, true],
  ['0:1000', true, true],
  ['root:root', true, true],
  ['root:staff', true, true],
  [':1000', true, true],
  ['1000', false, false],
  ['1000:1000', false, false],
  ['1000:0', false, false],
  ['65532', false, false],
  ['65532:65532', false, false],
  ['node', false, true],
  ['daemon', false, true],
  ['ROOT', false, true],
  ['nobody:nogroup', false, true],
  ['2147483648', false, true],
];

describe('run-as-root', () => {
  it.each(cases)('User %j: root=%s, strict=%s', (user, root, strictRoot) => {
    expect(runAsRoot(withUser(user), { strict: false }).length > 0).toBe(root);
    expect(runAsRoot(withUser(user), { strict: true }).length > 0).toBe(strictRoot);
  });

  it('names the reason without a value', () => {
    expect(runAsRoot(withUser(''), { strict: false })).toEqual([
      { rule: 'run-as-root', message: 'run-as-root: image config has no USER (runs as root)' },
    ]);
    expect(runAsRoot(withUser('0:0'), { strict: false })[0]?.message).toBe(
      'run-as-root: image config USER is uid 0 (root)',
    );
  });

  it('treats ContainerAdministrator as root on Windows only', () => {
    expect(runAsRoot(withUser('ContainerAdministrator', 'windows'), { strict: false })).toHaveLength(1);
    expect(runAsRoot(withUser('ContainerAdministrator', 'linux'), { strict: false })).toHaveLength(0);
  });
});
