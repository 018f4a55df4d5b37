import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRecords } from '../../../src/audit/index.js';
import { seedRegistry } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Policy loads are decisions too: the start, a reload that applies, and a reload that fails validation (and
// keeps the policy in force) each leave a record; every manifest decision names the version it used.
let upstream: Registry;
let dir: TempDir;
let pullgate: Pullgate;

beforeAll(async () => {
  upstream = await startRegistry();
  await seedRegistry(upstream);
  dir = await makeTempDir('policy-load');
  await mkdir(join(dir.path, 'policies'));
  await copyFile('policies/default.yaml', join(dir.path, 'policies', 'default.yaml'));
  pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_POLICY_DIR: join(dir.path, 'policies') },
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
  await dir?.cleanup();
});

async function loads() {
  const page = await queryRecords(join(pullgate.dataDir, 'audit'), { types: ['policy-load'], limit: 100 });
  return page.records.flatMap((r) => (r.type === 'policy-load' ? [r] : [])).reverse();
}

async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('policy loads in the decision log', () => {
  it('records the start, a failed reload that keeps the policy, and a reload that applies', async () => {
    const [start] = await loads();
    expect(start).toMatchObject({ trigger: 'start', outcome: 'loaded' });
    const startVersion = start?.policy?.version;

    await writeFile(
      join(dir.path, 'policies', 'broken.yaml'),
      'apiVersion: pullgate/v1\nkind: Policy\nname: broken\nrules:\n  run-as-root:\n    mode: sometimes\n',
    );
    const failed = await until(async () => (await loads()).find((r) => r.outcome === 'failed'));
    expect(failed.error).toContain('broken.yaml');
    expect(failed.error).toContain('rules.run-as-root.mode');

    // Still enforcing the old policy.
    const root = await fetch(`${pullgate.url}/v2/library/app/manifests/root`);
    expect(root.status).toBe(403);

    await writeFile(
      join(dir.path, 'policies', 'broken.yaml'),
      'apiVersion: pullgate/v1\nkind: Policy\nname: audit-root\npriority: 10\nrules:\n  run-as-root:\n    mode: audit\n',
    );
    const applied = await until(async () =>
      (await loads()).find(
        (r) => r.trigger === 'reload' && r.outcome === 'loaded' && r.policy?.version !== startVersion,
      ),
    );
    const served = await fetch(`${pullgate.url}/v2/library/app/manifests/root`);
    expect(served.status).toBe(200);
    expect(served.headers.get('warning')).toMatch(/^299 - ".*run-as-root/);

    const decisions = await queryRecords(join(pullgate.dataDir, 'audit'), { types: ['decision'], limit: 10 });
    const latest = decisions.records[0];
    expect(latest?.type === 'decision' ? latest.policy.version : undefined).toBe(applied.policy?.version);
  });
});
