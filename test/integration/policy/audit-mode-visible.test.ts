import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { seedRegistry } from '../../helpers/images.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Clients print no Warning header (docker, podman and skopeo drop it), so audit mode must show where operators
// look: the decision log and /metrics (issue 17, "Audit mode is invisible to clients").
const token = 'audit-visible-token';
let upstream: Registry;
let policies: TempDir;
let pullgate: Pullgate;

const metrics = async () => (await fetch(`${pullgate.url}/metrics`)).text();

beforeAll(async () => {
  upstream = await startRegistry();
  await seedRegistry(upstream);
  policies = await makeTempDir('audit-policies');
  await writeFile(
    join(policies.path, 'audit.yaml'),
    stringify({
      apiVersion: 'pullgate/v1',
      kind: 'Policy',
      name: 'rollout',
      rules: { 'run-as-root': { mode: 'audit' }, 'secret-env': { mode: 'audit' } },
    }),
  );
  pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_POLICY_DIR: policies.path, PULLGATE_ADMIN_TOKEN: token },
  });
  for (const tag of ['root', 'secretenv']) {
    const res = await fetch(`${pullgate.url}/v2/library/app/manifests/${tag}`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
  await policies?.cleanup();
});

describe('a warned pull', () => {
  it('is a warn decision in the log, its findings in audit mode', async () => {
    const res = await fetch(`${pullgate.url}/admin/decisions?decision=warn`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const page = (await res.json()) as {
      records: { reference: string; findings: { rule: string; mode: string }[] }[];
    };
    expect(page.records.map((r) => r.reference).sort()).toEqual(['root', 'secretenv']);
    expect(page.records.flatMap((r) => r.findings)).toContainEqual(
      expect.objectContaining({ rule: 'run-as-root', mode: 'audit' }),
    );
  });

  it('is counted in /metrics by rule, with mode="audit"', async () => {
    const text = await metrics();
    expect(text).toContain('pullgate_decisions_total{decision="warn",method="GET",status="200"} 2');
    expect(text).toContain('pullgate_decision_findings_total{rule="run-as-root",mode="audit"} 1');
    expect(text).toContain('pullgate_decision_findings_total{rule="secret-env",mode="audit"} 1');
  });
});

describe('a policy reload that fails validation', () => {
  it('is counted in /metrics as a failed reload', async () => {
    await writeFile(join(policies.path, 'broken.yaml'), 'apiVersion: pullgate/v1\nkind: Policy\nrules: 7\n');
    await waitUntil(
      async () => (await metrics()).includes('pullgate_policy_reloads_total{outcome="failed"}'),
      {
        timeoutMs: 20_000,
      },
    );
    expect(await metrics()).toMatch(/pullgate_policy_reloads_total\{outcome="failed"\} [1-9]/);
  });
});
