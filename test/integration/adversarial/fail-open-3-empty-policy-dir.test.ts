import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLogFiles } from '../../../src/audit/files.js';
import { seedRegistry } from '../../helpers/images.js';
import { run, waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Issue 10, path 3: a policy directory with no policy files (an empty volume, a ConfigMap mid-update, an
// `rsync --delete` in progress) must not turn enforcement off: it is an error at start, a failed reload keeps the
// last good set in force and shows in /readyz and in a metric, and `policy check` fails on it.
let upstream: Registry;
let dirs: TempDir;
let pullgate: Pullgate | undefined;

beforeAll(async () => {
  upstream = await startRegistry();
  await seedRegistry(upstream);
  dirs = await makeTempDir('pullgate-empty-policies');
});
afterAll(async () => {
  await pullgate?.stop();
  await dirs?.cleanup();
  await upstream?.stop();
});

async function policyLoads(dataDir: string): Promise<{ trigger: string; outcome: string }[]> {
  const dir = join(dataDir, 'audit');
  const loads: { trigger: string; outcome: string }[] = [];
  for (const file of await listLogFiles(dir)) {
    for (const line of (await readFile(join(dir, file.name), 'utf8')).split('\n')) {
      if (line === '') continue;
      const r = JSON.parse(line) as { type: string; trigger: string; outcome: string };
      if (r.type === 'policy-load') loads.push({ trigger: r.trigger, outcome: r.outcome });
    }
  }
  return loads;
}

describe('an empty policy directory', () => {
  it('is an error at start-up, naming the directory', async () => {
    const empty = join(dirs.path, 'empty-at-start');
    await mkdir(empty);
    let started: Pullgate | undefined;
    const attempt = startPullgate({
      env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_POLICY_DIR: empty },
    }).then((p) => {
      started = p;
    });
    try {
      await expect(attempt).rejects.toThrow(empty);
    } finally {
      await started?.stop();
    }
  });

  it('fails `pullgate policy check`', async () => {
    const empty = join(dirs.path, 'empty-for-check');
    await mkdir(empty);
    const check = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'policy', 'check', empty], {
      allowFailure: true,
    });
    expect(check.code, check.stdout + check.stderr).not.toBe(0);
  });

  describe('reached by a reload', () => {
    let policies: string;
    beforeAll(async () => {
      policies = join(dirs.path, 'emptied-by-reload');
      await mkdir(policies);
      await copyFile('policies/default.yaml', join(policies, 'default.yaml'));
      pullgate = await startPullgate({
        env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_POLICY_DIR: policies, PULLGATE_TAG_TTL: '0' },
      });
      expect((await fetch(`${pullgate.url}/v2/library/app/manifests/root`)).status).toBe(403);
      await rm(join(policies, 'default.yaml'));
      const dataDir = pullgate.dataDir;
      // The reload is on the record either way (loaded or failed): wait for it rather than for a fixed time.
      await waitUntil(async () => (await policyLoads(dataDir)).some((l) => l.trigger === 'reload'), {
        timeoutMs: 15_000,
      });
    });

    it('keeps the last good policies in force: a root image is still refused', async () => {
      const res = await fetch(`${pullgate?.url}/v2/library/app/manifests/root`);
      expect(res.status).toBe(403);
      expect(await policyLoads(pullgate?.dataDir ?? '')).toContainEqual({
        trigger: 'reload',
        outcome: 'failed',
      });
    });

    it('shows the failed reload in /readyz', async () => {
      const res = await fetch(`${pullgate?.url}/readyz`);
      const body = (await res.json()) as { checks?: Record<string, boolean> };
      expect(res.status, JSON.stringify(body)).toBe(503);
      expect(body.checks?.policies, JSON.stringify(body)).toBe(false);
    });

    it('shows the failed reload in a metric', async () => {
      const metrics = await (await fetch(`${pullgate?.url}/metrics`)).text();
      const failed = metrics
        .split('\n')
        .filter((line) => !line.startsWith('#') && /polic/i.test(line) && /fail|error/i.test(line))
        .map((line) => Number(line.split(' ').at(-1)));
      expect(
        failed.some((value) => value >= 1),
        'no policy reload failure metric above 0',
      ).toBe(true);
    });
  });
});
