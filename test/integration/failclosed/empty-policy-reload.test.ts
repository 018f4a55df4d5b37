import { copyFileSync, mkdtempSync } from 'node:fs';
import { copyFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// Issue 10, path 3: reloading to an empty policy directory turned enforcement off, silently.
const shipped = join(import.meta.dirname, '../../../policies/default.yaml');
// Made before the app starts (useSeededPullgate's beforeAll reads the setting).
const policies = mkdtempSync(join(tmpdir(), 'pullgate-test-policies-'));
copyFileSync(shipped, join(policies, 'default.yaml'));
afterAll(async () => {
  await rm(policies, { recursive: true, force: true });
});

const setup = useSeededPullgate({ PULLGATE_POLICY_DIR: policies });

describe('a reload to an empty policy directory', () => {
  it('keeps refusing, and /readyz and the metrics say the reload failed until a policy is back', async () => {
    const pullRoot = async () => {
      const res = await fetch(`${setup.pullgate.url}/v2/app/manifests/root`);
      await res.arrayBuffer();
      return res.status;
    };
    expect(await pullRoot()).toBe(403);

    await unlink(join(policies, 'default.yaml'));
    await expect
      .poll(async () => (await fetch(`${setup.pullgate.url}/readyz`)).status, { timeout: 10_000 })
      .toBe(503);
    const body = (await (await fetch(`${setup.pullgate.url}/readyz`)).json()) as {
      notReady: string[];
      reasons: Record<string, string>;
    };
    expect(body.notReady).toEqual(['policies']);
    expect(body.reasons.policies).toContain('no policy files');
    const metrics = await (await fetch(`${setup.pullgate.url}/metrics`)).text();
    expect(metrics).toMatch(/^pullgate_policy_last_reload_success 0$/m);
    expect(metrics).toMatch(/^pullgate_policy_reloads_total\{outcome="failed"\} [1-9]/m);
    expect(await pullRoot()).toBe(403);

    await copyFile(shipped, join(policies, 'default.yaml'));
    await expect
      .poll(async () => (await fetch(`${setup.pullgate.url}/readyz`)).status, { timeout: 10_000 })
      .toBe(200);
  });
});
