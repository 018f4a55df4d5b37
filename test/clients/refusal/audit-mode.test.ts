import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerdEnv, startContainerd, writeHostsToml } from '../../helpers/clients/containerd.js';
import { skopeoCopy, skopeoInspect } from '../../helpers/clients/skopeo.js';
import {
  MEDIA_TYPE,
  PLANTED_AWS_SECRET,
  PLANTED_NPM_TOKEN,
  type SeededImages,
  seedRegistry,
} from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Issue 3 item 2 and "Tests": the images the default policy refuses are served, unchanged, when the policy
// only audits (mode: audit — serve, record, and tell the client with an OCI `Warning: 299` header). Same format
// as policies/default.yaml, every rule in audit mode.
const AUDIT_POLICY = `apiVersion: pullgate/v1
kind: Policy
name: audit-everything
description: Roll-out stage - judge every image, refuse none.
priority: 0
rules:
  run-as-root:
    mode: audit
    strict: false
  secret-env:
    mode: audit
  secret-history:
    mode: audit
failClosed: true
artifacts: ignore
`;

const AUDITED = [
  { tag: 'root', rule: 'run-as-root' },
  { tag: 'secretenv', rule: 'secret-env: AWS_SECRET_ACCESS_KEY' },
  { tag: 'argleak', rule: 'secret-history: build arg NPM_TOKEN' },
] as const;

describe('in audit mode the refused images are served with their pushed digest', () => {
  let registry: Registry;
  let seeded: SeededImages;
  let policyDir: TempDir;
  let pullgate: Pullgate;
  let containerd: ContainerdEnv;

  beforeAll(async () => {
    registry = await startRegistry();
    seeded = await seedRegistry(registry);
    policyDir = await makeTempDir('audit-policy');
    await writeFile(join(policyDir.path, 'audit.yaml'), AUDIT_POLICY);
    pullgate = await startPullgate({
      env: { PULLGATE_UPSTREAM: registry.url, PULLGATE_POLICY_DIR: policyDir.path },
    });
    containerd = await startContainerd();
    await writeHostsToml(containerd.hostsDir, 'docker.io', { url: pullgate.url });
  });

  afterAll(async () => {
    await containerd?.stop();
    await pullgate?.stop();
    await registry?.stop();
    await policyDir?.cleanup();
  });

  it.each(AUDITED)('skopeo copy and inspect of $tag give the pushed digest', async ({ tag }) => {
    const copied = await skopeoCopy(`${pullgate.host}/${seeded.repo}:${tag}`);
    expect(copied.manifestDigest).toBe(seeded.digests[tag]);
    const inspected = await skopeoInspect(`${pullgate.host}/${seeded.repo}:${tag}`);
    expect(inspected.Digest).toBe(seeded.digests[tag]);
  });

  it.each(AUDITED)('ctr pull of $tag gives the pushed digest', async ({ tag }) => {
    const ref = `docker.io/${seeded.repo}:${tag}`;
    const pulled = await containerd.pull(ref, { hostsDir: containerd.hostsDir });
    expect(pulled.digest).toBe(seeded.digests[tag]);
    await containerd.ctr(['images', 'rm', '--sync', ref]);
  });

  it.each(AUDITED)(
    'the manifest of $tag carries a Warning naming the rule, never the value',
    async ({ tag, rule }) => {
      for (const method of ['HEAD', 'GET'] as const) {
        const res = await fetch(`${pullgate.url}/v2/${seeded.repo}/manifests/${tag}`, {
          method,
          headers: { accept: MEDIA_TYPE.ociManifest },
        });
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        expect(res.headers.get('docker-content-digest')).toBe(seeded.digests[tag]);
        const warning = res.headers.get('warning') ?? '';
        expect(warning).toMatch(/^299 - "/);
        expect(warning).toContain(rule);
        expect(warning).not.toContain(PLANTED_AWS_SECRET);
        expect(warning).not.toContain(PLANTED_NPM_TOKEN);
      }
    },
  );
});
