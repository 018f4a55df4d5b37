import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../../src/cli/io.js';
import { runPolicyCheck } from '../../../../src/cli/policy-check.js';
import { makeTempDir } from '../../../helpers/tmp.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    readStdin: async () => '',
    env: {},
  };
  return { io, out };
}

// `pullgate policy check [DIR]` validates without starting: exit 0 with the version, 1 with every problem.
describe('pullgate policy check', () => {
  it('accepts the shipped policies', async () => {
    const { io, out } = capture();
    expect(await runPolicyCheck(['check'], io)).toBe(0);
    expect(out.stdout).toMatch(/^ok: 1 policy, version [a-f0-9]{12}\n/);
  });

  it('lists each problem with its file and path, exit 1', async () => {
    const dir = await makeTempDir('policy-check');
    try {
      await writeFile(
        join(dir.path, 'a.yaml'),
        'apiVersion: pullgate/v1\nkind: Policy\nname: a\nrules:\n  secret-env: {mode: nope}\n',
      );
      await writeFile(join(dir.path, 'b.json'), '{"apiVersion":"pullgate/v1","kind":"Policy","name":"B"}');
      await writeFile(join(dir.path, 'notes.txt'), 'not a policy');
      const { io, out } = capture();
      expect(await runPolicyCheck(['check', dir.path], io)).toBe(1);
      const lines = out.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/a\.yaml: rules\.secret-env\.mode: /);
      expect(lines[1]).toMatch(/b\.json: name: must be lower-case/);
      expect(lines[2]).toBe('invalid: 2 problems');
    } finally {
      await dir.cleanup();
    }
  });

  it('fails on a directory that does not exist', async () => {
    const { io, out } = capture();
    expect(await runPolicyCheck(['check', '/nonexistent/policies'], io)).toBe(1);
    expect(out.stderr).toContain('/nonexistent/policies: cannot read the policy directory (ENOENT)');
  });
});

describe('pullgate policy check on an empty directory', () => {
  it('fails, exit 1, unless --allow-empty is given', async () => {
    const dir = await makeTempDir('policy-check-empty');
    try {
      const failed = capture();
      expect(await runPolicyCheck(['check', dir.path], failed.io)).toBe(1);
      expect(failed.out.stderr).toContain('no policy files');
      const allowed = capture();
      expect(await runPolicyCheck(['check', '--allow-empty', dir.path], allowed.io)).toBe(0);
      expect(allowed.out.stdout).toMatch(/^ok: 0 policies/);
    } finally {
      await dir.cleanup();
    }
  });
});
