import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PolicyEngine } from '../../../../src/policy/loader/engine.js';
import { loadPolicies, PolicyLoadError } from '../../../../src/policy/loader/load.js';
import { policy } from './fixtures.js';

// Issue 10, path 3: an empty policy directory (an empty volume, a ConfigMap mid-update, an rsync --delete in
// progress) loaded zero policies and turned enforcement off.
let dir: string | undefined;
let engine: PolicyEngine | undefined;
afterEach(async () => {
  engine?.close();
  engine = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('an empty policy directory', () => {
  it('is an error at start, naming the directory and the setting that allows it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullgate-test-empty-'));
    await writeFile(join(dir, 'README.txt'), 'not a policy file');
    const err = await PolicyEngine.create({ dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyLoadError);
    expect((err as PolicyLoadError).message).toContain(dir);
    expect((err as PolicyLoadError).message).toContain('PULLGATE_POLICY_ALLOW_EMPTY');
  });

  it('is a failed reload that keeps the last good set in force', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullgate-test-empty-'));
    await writeFile(
      join(dir, 'a.yaml'),
      stringify(policy('a', { rules: { 'run-as-root': { mode: 'enforce' } } })),
    );
    engine = await PolicyEngine.create({ dir });
    const inForce = engine.version;
    await unlink(join(dir, 'a.yaml'));
    const result = await engine.reload();
    expect(result.ok).toBe(false);
    expect(engine.version).toBe(inForce);
    expect(engine.current.policies).toHaveLength(1);
    expect(engine.lastReload?.ok).toBe(false);
  });

  it('loads as no policy only when the operator says so', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullgate-test-empty-'));
    const set = await loadPolicies(dir, { allowEmpty: true });
    expect(set.policies).toHaveLength(0);
  });
});
